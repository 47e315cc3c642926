/* See latefn.h. Two threads that race both find the same address. */
#include "latefn.h"

#include <stdint.h>

#include "elfsym.h"

extern const char __ehdr_start __attribute__((visibility("hidden"))); /* the shim's load base */

#define ABSENT ((void *)1)

void *late_fn(void **slot, const char *name)
{
    void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (!f) {
        int ifunc = 0;
        f = elf_next_symbol(name, (uintptr_t)&__ehdr_start, &ifunc);
        if (!f || ifunc) f = ABSENT; /* none of these is an IFUNC in any glibc */
        __atomic_store_n(slot, f, __ATOMIC_RELEASE);
    }
    return f == ABSENT ? NULL : f;
}

/* Real-symbol resolution and the bootstrap allocator (see resolve.h). */
#include "elfsym.h"
#include "latefn.h"
#include "objects.h"
#include "resolve.h"
#include "unwind.h"
#include "vgdetect.h"

#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>

#include "common.h"

OSH_HOT struct osh_real osh_real;
OSH_HOT volatile int osh_resolved;
OSH_HOT int osh_usable_size_ok;
OSH_HOT int osh_glibc_chunks;
OSH_HOT static const char *missing;

const char osh_symbol_names[][OSH_SYM_NAME] = { /* arrays, not pointers: no relocation at load */
#define OSH_SYM(req, name) #name,
#include "symbols.def"
#undef OSH_SYM
};
const int osh_symbol_required[] = {
#define OSH_SYM(req, name) req,
#include "symbols.def"
#undef OSH_SYM
};
const size_t osh_symbol_count = OSH_ARRAY_LEN(osh_symbol_names);

/* --- bootstrap buffer: bump allocation, never freed ------------------------ */
char osh_boot_buf[OSH_BOOT_BUF_SIZE] __attribute__((aligned(64)));
static size_t boot_used;

struct boot_hdr {
    size_t size;
    size_t pad[1];
};

void *bootstrap_alloc(size_t size, size_t align)
{
    if (align < 16) align = 16;
    for (;;) {
        size_t old = __atomic_load_n(&boot_used, __ATOMIC_RELAXED);
        uintptr_t base = (uintptr_t)osh_boot_buf + old + sizeof(struct boot_hdr);
        uintptr_t p = (base + align - 1) & ~(uintptr_t)(align - 1);
        size_t end = (size_t)(p - (uintptr_t)osh_boot_buf) + size;
        if (size > sizeof osh_boot_buf || end > sizeof osh_boot_buf) {
            errno = ENOMEM;
            return NULL;
        }
        if (__atomic_compare_exchange_n(&boot_used, &old, end, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
            ((struct boot_hdr *)p)[-1].size = size;
            /* Where glibc keeps a chunk's size: a mapped chunk's header (whole pages,
             * IS_MMAPPED), above the last tcache bin, so free's fast path hands the
             * block to free_slow. */
            ((struct boot_hdr *)p)[-1].pad[0] = ((size + sizeof(struct boot_hdr) + 4095) & ~(size_t)4095) | 2;
            return (void *)p;
        }
    }
}

size_t bootstrap_size(const void *p) { return ((const struct boot_hdr *)p)[-1].size; }

/* --- resolution ----------------------------------------------------------- */
#define OSH_MAX_SYMBOLS 64
extern const char __ehdr_start __attribute__((visibility("hidden"))); /* the shim's load base */
static volatile int resolve_state OSH_HOT; /* 0 none, 1 in progress, 2 done */

LATE_SLOT(dlsym);

int resolve_all(void)
{
    __typeof__(&dlsym) ds;
    if (OSH_LIKELY(osh_resolved)) return missing ? -1 : 0;
    if (osh_t.resolving) return -1; /* re-entered from dlsym: caller uses bootstrap */
    int expected = 0;
    if (!__atomic_compare_exchange_n(&resolve_state, &expected, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&resolve_state, __ATOMIC_ACQUIRE) != 2) syscall(SYS_sched_yield);
        return missing ? -1 : 0;
    }
    osh_t.resolving = 1;
    osh_guard++;
    struct osh_real tmp;
    memset(&tmp, 0, sizeof tmp);
    void **slots = (void **)&tmp;
    struct obj_info im, iu;
    uintptr_t self_lo, self_hi;
    unwind_self_range(&self_lo, &self_hi); /* from the shim's own ELF header: no lookup */
    /* the loaded objects' own tables first: dlsym allocates before glibc 2.34, and may
     * be missing altogether (no libdl loaded); an IFUNC needs dlsym's resolver */
    static void *found[OSH_MAX_SYMBOLS] OSH_HOT;
    static int ifunc[OSH_MAX_SYMBOLS] OSH_HOT;
    _Static_assert(sizeof(struct osh_real) / sizeof(void *) <= OSH_MAX_SYMBOLS, "room for every symbol");
    const char *names[OSH_MAX_SYMBOLS];
    for (size_t i = 0; i < osh_symbol_count; i++) names[i] = osh_symbol_names[i];
    elf_next_symbols(names, osh_symbol_count, (uintptr_t)&__ehdr_start, found, ifunc);
    for (size_t i = 0; i < osh_symbol_count; i++) {
        /* dlsym only where the lookup could not answer (an IFUNC, or a required name it
         * did not find): a failing dlsym mallocs (twice), and inside another allocator's
         * own start-up (a jemalloc preloaded ahead of the shim maps its first chunk, the
         * mmap wrapper resolves) that malloc deadlocks it */
        void *f = found[i];
        if (ifunc[i]) f = (ds = LATE(dlsym)) ? ds(RTLD_NEXT, osh_symbol_names[i]) : NULL;
        else if (!f && osh_symbol_required[i] && (ds = LATE(dlsym))) f = ds(RTLD_NEXT, osh_symbol_names[i]);
        /* Reject a resolution that returns our own wrapper (dlsym can: the lookup never does). */
        if (f && f != found[i] && (uintptr_t)f >= self_lo && (uintptr_t)f < self_hi) f = NULL;
        slots[i] = f;
        if (!f && osh_symbol_required[i] && !missing) missing = osh_symbol_names[i];
    }
    osh_usable_size_ok = tmp.malloc && tmp.malloc_usable_size && obj_find((void *)tmp.malloc, &im) &&
                        obj_find((void *)tmp.malloc_usable_size, &iu) && im.base == iu.base;
    /* glibc's own malloc: the block size can be read from its chunk header, as its
     * malloc_usable_size does, without a call (the hot path of every free). Not under a
     * valgrind tool that redirects libc's malloc to its own (vgdetect.h). */
    osh_glibc_chunks = osh_usable_size_ok && strstr(im.name, "/libc.so.6") != NULL && !vg_replaces_malloc();
    /* Publish the table slot by slot: a concurrent wrapper only ever sees NULL or
     * the final pointer. */
    void **dst = (void **)&osh_real;
    for (size_t i = 0; i < osh_symbol_count; i++) __atomic_store_n(&dst[i], slots[i], __ATOMIC_RELEASE);
    osh_guard--;
    osh_t.resolving = 0;
    __atomic_store_n(&osh_resolved, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&resolve_state, 2, __ATOMIC_RELEASE);
    if (missing) resolve_failed(missing);
    malloc_resolved();
    return missing ? -1 : 0;
}

const char *resolve_missing(void) { return missing; }

int resolve_late(void **slot, const char *name)
{
    if (__atomic_load_n(slot, __ATOMIC_ACQUIRE)) return 1;
    struct obj_info self;
    int ifunc = 0;
    void *f = obj_find((void *)resolve_late, &self) ? elf_next_symbol(name, self.base, &ifunc) : NULL;
    __typeof__(&dlsym) ds = LATE(dlsym);
    if ((!f || ifunc) && ds) f = ds(RTLD_NEXT, name);
    else if (ifunc) f = NULL;
    if (f) __atomic_store_n(slot, f, __ATOMIC_RELEASE);
    return f != NULL;
}

/* Valgrind, seen from inside the program it runs. Its tools that replace malloc
 * (memcheck, helgrind, drd, massif, dhat) put a redzone where glibc keeps a chunk's
 * header and keep no tcache, so the shim must not read headers or trust a tcache
 * shadow there; callgrind, cachegrind and the rest leave glibc's malloc in place. */
#ifndef OVERSHIM_VGDETECT_H
#define OVERSHIM_VGDETECT_H

#include <stdlib.h>
#include <string.h>

/* Valgrind's RUNNING_ON_VALGRIND client request (valgrind.h, amd64): natively the four
 * rotations of %rdi add up to none and %rdx keeps its 0; under valgrind the core
 * answers the request (0x1001) with how many valgrinds deep the program runs. */
static inline unsigned long vg_running(void)
{
#if defined(__x86_64__)
    volatile unsigned long args[6] = {0x1001, 0, 0, 0, 0, 0};
    unsigned long r = 0;
    __asm__ volatile("rolq $3, %%rdi; rolq $13, %%rdi\n\t"
                     "rolq $61, %%rdi; rolq $51, %%rdi\n\t"
                     "xchgq %%rbx, %%rbx"
                     : "=d"(r)
                     : "a"(&args[0]), "0"(r)
                     : "cc", "memory");
    return r;
#else
    return 0;
#endif
}

/* Under valgrind with a tool that preloads a malloc of its own (vgpreload_TOOL, beside
 * vgpreload_core, in the LD_PRELOAD valgrind gives the program). Natively: the client
 * request only. */
static inline int vg_replaces_malloc(void)
{
    if (!vg_running()) return 0;
    const char *p = getenv("LD_PRELOAD");
    while (p && (p = strstr(p, "vgpreload_")) != NULL) {
        p += sizeof "vgpreload_" - 1;
        if (strncmp(p, "core-", 5) != 0) return 1;
    }
    return 0;
}

#endif

/* Real-symbol lookup: every interposed name resolved once, process-wide, with
 * dlsym(RTLD_NEXT), so the program keeps the allocator it was built with.
 * Allocations made while dlsym runs come from a static bootstrap buffer. */
#ifndef OVERSHIM_RESOLVE_H
#define OVERSHIM_RESOLVE_H

#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>

/* C23's sized frees, in glibc from 2.43; older headers do not declare them. */
void free_sized(void *ptr, size_t size);
void free_aligned_sized(void *ptr, size_t alignment, size_t size);

#define REQUIRED 1
#define OPTIONAL 0

struct osh_real {
#define OSH_SYM(req, name) __typeof__(name) *name;
#include "symbols.def"
#undef OSH_SYM
};
extern struct osh_real osh_real;
#define REAL(name) (osh_real.name)

/* Resolve everything once; cheap after the first call. Returns 0 when every
 * required symbol was found. */
int resolve_all(void);
/* 1 once resolve_all() has completed (successfully or not). */
extern volatile int osh_resolved;
/* An optional symbol missing at start (libpthread before glibc 2.34, loaded later):
 * look it up again into *slot. 1 when found. */
int resolve_late(void **slot, const char *name);
/* Name of the first required symbol that could not be resolved, or NULL. */
const char *resolve_missing(void);
/* Called by resolve_all when it is done: the malloc fast paths (interpose_malloc.c), and
 * the line for a required name that is missing (init.c: the shim steps aside). */
void malloc_resolved(void);
void resolve_failed(const char *name);
/* 1 once the constructor has decided (active, or stepped aside). */
extern int osh_started;
/* Non-zero when malloc_usable_size belongs to the same object as malloc, so the
 * shim may ask the program's allocator for the size of its blocks. */
extern int osh_usable_size_ok;
/* Non-zero when malloc is glibc's (libc.so.6): its chunk header gives the size. */
extern int osh_glibc_chunks;

/* Bootstrap allocator for allocations made while resolving. */
void *bootstrap_alloc(size_t size, size_t align);
#define OSH_BOOT_BUF_SIZE (64 * 1024) /* what dlsym allocates while the real functions are looked up: a few KiB */
extern char osh_boot_buf[OSH_BOOT_BUF_SIZE];
static inline int bootstrap_owns(const void *p)
{
    return (const char *)p >= osh_boot_buf && (const char *)p < osh_boot_buf + sizeof osh_boot_buf;
}
size_t bootstrap_size(const void *p);

/* Names from the table, for tests and the help text. */
#define OSH_SYM_NAME 32 /* the longest name in symbols.def, with its NUL, fits */
extern const char osh_symbol_names[][OSH_SYM_NAME];
extern const int osh_symbol_required[];
extern const size_t osh_symbol_count;

#endif

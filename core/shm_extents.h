/* One shmem file's allocated extents, sorted and merged: what a fallocate charges
 * and what a hole punch or a truncation gives back (shim/shmem.h keeps a table of
 * them for the program's files; the kernel's rule is in its comment). Pure. */
#ifndef OVERSHIM_SHM_EXTENTS_H
#define OVERSHIM_SHM_EXTENTS_H

#include <stdint.h>

#define SHMEM_EXTENTS 32

/* One file's allocated extents, sorted and merged (pure logic, unit-tested). */
struct shm_extents {
    int n;
    uint64_t lo[SHMEM_EXTENTS], hi[SHMEM_EXTENTS];
};
/* Bytes of [off, off+len) not yet allocated (what a fallocate would charge). */
uint64_t shm_extents_missing(const struct shm_extents *x, uint64_t off, uint64_t len);
/* Add [off, off+len): returns the bytes newly covered. Past SHMEM_EXTENTS extents the
 * nearest two are merged (the charge then errs high, never low). */
uint64_t shm_extents_add(struct shm_extents *x, uint64_t off, uint64_t len);
/* Bytes allocated in all. */
uint64_t shm_extents_covered(const struct shm_extents *x);
/* Remove [off, off+len) (a punched hole, a truncation to off): returns the bytes freed. */
uint64_t shm_extents_remove(struct shm_extents *x, uint64_t off, uint64_t len);

#endif

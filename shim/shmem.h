/* Shared memory the kernel charges per page (mm/shmem.c): files of memfd_create and of
 * shm_open (tmpfs) are VM_NORESERVE, so their size costs nothing; each page is charged
 * when it is allocated (fallocate, or the first write fault), in every overcommit mode,
 * and released when it is freed (fallocate PUNCH_HOLE, ftruncate down, the file's last
 * reference). The MAP_SHARED mapping of them is never charged. Measured in qemu VMs by
 * the kernels issue (6.1): fallocate of 32 MiB +32768 kB Committed_AS in modes 0, 1, 2;
 * mode 2 past the limit: ENOSPC. Here: which descriptors are such files, and the bytes
 * fallocate allocated in each (a list of extents), so the ledger and the simulator can
 * charge them. Write faults on sparse pages are not seen (touched pages at summary). */
#ifndef OVERSHIM_SHMEM_H
#define OVERSHIM_SHMEM_H

#include <stdint.h>

#include "shm_extents.h"

/* The runtime table (guard held). kind: 1 memfd_create, 2 shm_open. */
void shmem_track(int fd, int kind);
/* 1 when fd is a tracked shmem file */
int shmem_tracked(int fd);
/* What fallocate(fd, mode, off, len) would charge (0 for a hole punch or KEEP_SIZE
 * over allocated pages), or 0 when fd is not tracked. */
uint64_t shmem_charge_of(int fd, int mode, uint64_t off, uint64_t len);
/* After a successful fallocate / ftruncate */
void shmem_fallocated(int fd, int mode, uint64_t off, uint64_t len);
void shmem_truncated(int fd, uint64_t size);
/* The bytes charged now, all files */
int64_t shmem_charged_bytes(void);
/* Tracked files now */
int shmem_files(void);

#endif

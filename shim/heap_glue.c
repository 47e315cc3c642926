/* What the private jemalloc calls instead of libc (the renames are in
 * shim/jemalloc.syms, applied by objcopy in the Makefile):
 * - mmap/munmap/madvise/mprotect go straight to the kernel, so no jemalloc
 *   mapping ever reaches the shim's wrappers (FACTS.md §3: that deadlocked);
 * - sbrk always fails: no dss, the program's brk heap is not ours to move;
 * - secure_getenv and readlink fail, so MALLOC_CONF and /etc/malloc.conf, meant
 *   for the program's allocator, can never configure (or abort) the shim's;
 * - pthread_create (background threads) is refused: they are disabled anyway;
 * - pthread_atfork is a no-op: every call into the private heap happens under
 *   heap_mu (os_heap_* below), which the shim's own prefork handler takes, so no
 *   thread is ever inside jemalloc at a fork. jemalloc's own handlers would lock
 *   and unlock all of its mutexes around every fork: measured at +1 ms per fork
 *   (copy-on-write faults on both sides). */
#include <errno.h>
#include <sys/mman.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "common.h"
#include "heap.h"
#include "rawsys.h"
#include "state.h"

/* jemalloc 5.3 reads this first, with the highest priority. */
const char *osj_malloc_conf_2_conf_harder =
    "narenas:1,tcache:false,background_thread:false,abort_conf:false,stats_print:false,"
    "dss:disabled,percpu_arena:disabled,confirm_conf:false,retain:true";

void *osj_sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int osj_sys_munmap(void *addr, size_t len);
int osj_sys_madvise(void *addr, size_t len, int advice);
int osj_sys_mprotect(void *addr, size_t len, int prot);
void *osj_sys_sbrk(intptr_t inc);
char *osj_sys_secure_getenv(const char *name);
ssize_t osj_sys_readlink(const char *path, char *buf, size_t len);
int osj_sys_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
void osj_sys_exit(int status) __attribute__((noreturn));
int osj_sys_pthread_atfork(void (*a)(void), void (*b)(void), void (*c)(void));

int osj_sys_pthread_atfork(void (*a)(void), void (*b)(void), void (*c)(void))
{
    (void)a, (void)b, (void)c;
    return 0;
}


void *os_heap_alloc(size_t size)
{
    pthread_mutex_lock(&os_fs->heap_mu);
    void *p = osj_calloc(1, size);
    pthread_mutex_unlock(&os_fs->heap_mu);
    return p;
}

void *os_heap_realloc(void *p, size_t size)
{
    pthread_mutex_lock(&os_fs->heap_mu);
    void *n = osj_realloc(p, size);
    pthread_mutex_unlock(&os_fs->heap_mu);
    return n;
}

void os_heap_free(void *p)
{
    pthread_mutex_lock(&os_fs->heap_mu);
    osj_free(p);
    pthread_mutex_unlock(&os_fs->heap_mu);
}

void heap_prefork(void) { pthread_mutex_lock(&os_fs->heap_mu); }
void heap_postfork_parent(void) { pthread_mutex_unlock(&os_fs->heap_mu); }

/* Bytes of writable memory the private heap has mapped: reported as the shim's
 * own, apart from what the program's ledger does not track. */
int64_t os_heap_mapped;

void *osj_sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    void *r = raw_mmap(addr, len, prot, flags, fd, off);
    if (r != MAP_FAILED && (prot & PROT_WRITE)) __atomic_add_fetch(&os_heap_mapped, (int64_t)len, __ATOMIC_RELAXED);
    return r;
}

int osj_sys_munmap(void *addr, size_t len)
{
    int r = raw_munmap(addr, len);
    if (r == 0) __atomic_sub_fetch(&os_heap_mapped, (int64_t)len, __ATOMIC_RELAXED);
    return r;
}
int osj_sys_madvise(void *addr, size_t len, int advice) { return raw_madvise(addr, len, advice); }
int osj_sys_mprotect(void *addr, size_t len, int prot) { return raw_mprotect(addr, len, prot); }

void *osj_sys_sbrk(intptr_t inc)
{
    (void)inc;
    errno = ENOMEM;
    return (void *)-1;
}

char *osj_sys_secure_getenv(const char *name)
{
    (void)name;
    return NULL;
}

ssize_t osj_sys_readlink(const char *path, char *buf, size_t len)
{
    (void)path, (void)buf, (void)len;
    errno = ENOENT;
    return -1;
}

int osj_sys_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
    (void)t, (void)a, (void)fn, (void)arg;
    return EAGAIN;
}

void osj_sys_exit(int status)
{
    for (;;) syscall(SYS_exit_group, status);
}

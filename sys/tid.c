/* glibc's thread descriptor (what osh_pthread_self() points to) holds the thread's tid:
 * the kernel writes it there at clone (CLONE_PARENT_SETTID / CLONE_CHILD_SETTID),
 * and a fork child's copy is rewritten the same way. Its offset is not part of any
 * interface, so it is found, not assumed: the first call looks for the one word in
 * the first 2 KiB of its thread's descriptor that equals gettid(); with none or several,
 * or if any of the next few threads disagrees with gettid(), the shim keeps making
 * the system call. */
#include <pthread.h>
#include <stdint.h>

#include "compiler.h"
#include "rawsys.h"
#include "tid.h"

static long tid_off = -2; /* -2: not looked for yet, -1: unknown */
static int checks_left = 8; /* threads still compared against the system call */

static long tid_find(void)
{
    pid_t tid = raw_gettid();
    const pid_t *d = (const pid_t *)osh_pthread_self();
    long found = -1;
    for (long i = 0; i < 2048 / (long)sizeof(pid_t); i++) {
        if (d[i] != tid) continue;
        if (found >= 0) { /* ambiguous */
            found = -1;
            break;
        }
        found = i * (long)sizeof(pid_t);
    }
    __atomic_store_n(&tid_off, found, __ATOMIC_RELEASE);
    return found;
}

pid_t osh_gettid(void)
{
    long off = __atomic_load_n(&tid_off, __ATOMIC_ACQUIRE);
    if (OSH_UNLIKELY(off == -2)) {
        off = tid_find(); /* compared with the system call once already */
        if (off >= 0) return *(const pid_t *)((const char *)osh_pthread_self() + off);
    }
    if (off < 0) return raw_gettid();
    pid_t t = *(const pid_t *)((const char *)osh_pthread_self() + off);
    if (__atomic_load_n(&checks_left, __ATOMIC_RELAXED) > 0) {
        pid_t real = raw_gettid();
        if (real != t) {
            __atomic_store_n(&tid_off, -1L, __ATOMIC_RELEASE);
            return real;
        }
        __atomic_fetch_sub(&checks_left, 1, __ATOMIC_RELAXED);
    }
    return t;
}

pid_t tid_descriptor(void)
{
    long off = __atomic_load_n(&tid_off, __ATOMIC_ACQUIRE);
    return off < 0 ? -1 : *(const pid_t *)((const char *)osh_pthread_self() + off);
}

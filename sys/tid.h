/* The calling thread's kernel tid without a system call (a system call per thread
 * start was measurable: README, Overhead, pthread_create). */
#ifndef OVERSHIM_TID_H
#define OVERSHIM_TID_H

#include <pthread.h>
#include <sys/types.h>

/* pthread_self() without libc: glibc's descriptor on x86-64 is the TCB, whose self
 * pointer (tcbhead_t.self) is at %fs:16 in every glibc version (pthread_self() is that
 * load). A lazy binding fewer at start (~780 instructions under callgrind). */
static inline pthread_t osh_pthread_self(void)
{
    pthread_t t;
    __asm__("movq %%fs:16, %0" : "=r"(t));
    return t;
}

/* The first call finds where glibc keeps the tid in its thread descriptor (the
 * CLONE_SETTID word); two threads that race there find the same place. */
pid_t osh_gettid(void);
/* The tid glibc's descriptor holds, unchecked (-1 when its place is unknown): in a
 * task that shares another's thread pointer (clone(CLONE_VM) without CLONE_SETTLS,
 * a vfork child) it is that other thread's, not the caller's. */
pid_t tid_descriptor(void);

#endif

/* The report stack (see rstack.h). */
#define UNW_LOCAL_ONLY
#include "rstack.h"

#include <libunwind.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <pthread.h>
#include <time.h>

#include "common.h"
#include "rawsys.h"
#include "report.h"
#include "state.h"

/* Enough for the deepest report path (unwinding through DWARF, the diagnosis,
 * the renderers) with room for a signal that cannot be blocked. */
#define RSTACK_SIZE (128 * 1024)
#define RSTACK_GUARD 4096
#define RSTACK_WAIT_S 5

/* The stack lives in the shim's bss: reserved (and charged) when the library is
 * loaded, so no call has to map it, and a report still finds it under an exhausted
 * RLIMIT_AS, vm.max_map_count or commit limit, in a signal handler or a vfork child.
 * Pages are touched only by reports. The lowest RSTACK_GUARD bytes are never used:
 * a margin below the deepest report path, not a protected page (making one would
 * split the mapping). */
static char stack_mem[RSTACK_GUARD + RSTACK_SIZE] __attribute__((aligned(4096)));
#define stack_lo (stack_mem + RSTACK_GUARD)
static unw_context_t ctx;
pid_t osh_rstack_owner OSH_HOT; /* kernel tid of the task on the stack, 0 when free (rstack.h) */
#define owner osh_rstack_owner

void *rstack_context(void) { return &ctx; }
pid_t rstack_tid(void) { return __atomic_load_n(&owner, __ATOMIC_ACQUIRE); }

#if defined(__x86_64__)
/* osh_rstack_switch(fn, arg, top): call fn(arg) with the stack pointer at top, and
 * come back. The frame is described by %rbp, so a debugger's backtrace from the
 * report stack continues into the caller's. */
void osh_rstack_switch(void (*fn)(void *), void *arg, void *top);
__asm__(".text\n"
        ".p2align 4\n"
        ".globl osh_rstack_switch\n"
        ".hidden osh_rstack_switch\n"
        ".type osh_rstack_switch,@function\n"
        "osh_rstack_switch:\n"
        "    .cfi_startproc\n"
        "    pushq %rbp\n"
        "    .cfi_def_cfa_offset 16\n"
        "    .cfi_offset %rbp, -16\n"
        "    movq %rsp, %rbp\n"
        "    .cfi_def_cfa_register %rbp\n"
        "    movq %rdx, %rsp\n"
        "    movq %rdi, %rax\n"
        "    movq %rsi, %rdi\n"
        "    callq *%rax\n"
        "    movq %rbp, %rsp\n"
        "    popq %rbp\n"
        "    .cfi_def_cfa %rsp, 8\n"
        "    ret\n"
        "    .cfi_endproc\n"
        ".size osh_rstack_switch, .-osh_rstack_switch\n");
#define HAVE_SWITCH 1
#else
#define HAVE_SWITCH 0
#endif

/* Every signal but the synchronous ones (a fault inside the shim must still be a
 * fault) and the two that cannot be blocked. */
static const uint64_t async_signals =
    ~((1ull << (SIGSEGV - 1)) | (1ull << (SIGBUS - 1)) | (1ull << (SIGILL - 1)) | (1ull << (SIGFPE - 1)) |
      (1ull << (SIGTRAP - 1)) | (1ull << (SIGSYS - 1)) | (1ull << (SIGABRT - 1)) | (1ull << (SIGKILL - 1)) |
      (1ull << (SIGSTOP - 1)));

int rstack_run(void (*fn)(void *), void *arg)
{
    if (!HAVE_SWITCH) return -1;
    pid_t me = raw_gettid();
    if (__atomic_load_n(&owner, __ATOMIC_ACQUIRE) == me) return -1;
    uint64_t old = 0;
    /* The report lock, but not forever: the unwinder takes the loader lock under it,
     * so a thread that holds the loader lock (a dl_iterate_phdr callback) and is
     * refused waits here for a reporter that waits for it. It gives up after a few
     * seconds and returns the errno without a report. */
    if (report_lock_for(RSTACK_WAIT_S) != 0) return -1;
    /* signals are blocked once the lock is held, not while waiting for it (a SIGTERM
     * must still end a program whose report waits) */
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &async_signals, &old, sizeof old);
    __atomic_store_n(&owner, me, __ATOMIC_RELEASE);
    unw_getcontext(&ctx);
#if HAVE_SWITCH
    osh_rstack_switch(fn, arg, stack_lo + RSTACK_SIZE);
#endif
    __atomic_store_n(&owner, 0, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&osh_fs->report_mu);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof old);
    return 0;
}

/* Wrappers for shared memory charged per page (shmem.h): memfd_create and shm_open
 * mark their descriptors, fallocate charges the pages it allocates (asking policy
 * first, so a simulated strict box refuses it with ENOSPC as the kernel would),
 * ftruncate down releases them. ZGC (JDK 17, 25) makes its heap file with
 * syscall(SYS_memfd_create) and grows it with syscall(SYS_fallocate): libjvm imports
 * `syscall`, so syscall(2) is wrapped too. Its wrapper is glibc's syscall in assembly
 * (x86-64), with a branch for those two numbers: no C frame stands between a caller
 * and the kernel for any other number (vfork or clone through syscall(2) stay as with
 * glibc), and the shim's own syscall() calls, which bind here too, cost two compares. */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"
#include "interpose.h"
#include "shmem.h"

#define OSH_STR2(x) #x
#define OSH_STR(x) OSH_STR2(x)

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 4U
#endif

long osh_sys6(long n, long a, long b, long c, long d, long e);
long osh_syscall_error(long r);
long osh_shm_syscall(long n, long a, long b, long c, long d, long e);

__attribute__((visibility("hidden"))) long osh_syscall_error(long r)
{
    errno = (int)-r;
    return -1;
}

#if defined(__x86_64__)
__asm__(".text\n"
        ".p2align 4\n"
        ".globl syscall\n"
        ".type syscall,@function\n"
        "syscall:\n"
        "    .cfi_startproc\n"
        "    cmpq $" OSH_STR(SYS_fallocate) ", %rdi\n"
        "    je osh_shm_syscall\n"
        "    cmpq $" OSH_STR(SYS_memfd_create) ", %rdi\n"
        "    je osh_shm_syscall\n"
        "    jmp osh_sys6\n"
        "    .cfi_endproc\n"
        ".size syscall, .-syscall\n"
        ".p2align 4\n"
        ".globl osh_sys6\n"
        ".hidden osh_sys6\n"
        ".type osh_sys6,@function\n"
        "osh_sys6:\n"
        "    .cfi_startproc\n"
        "    movq %rdi, %rax\n"
        "    movq %rsi, %rdi\n"
        "    movq %rdx, %rsi\n"
        "    movq %rcx, %rdx\n"
        "    movq %r8, %r10\n"
        "    movq %r9, %r8\n"
        "    movq 8(%rsp), %r9\n"
        "    syscall\n"
        "    cmpq $-4095, %rax\n"
        "    jae 1f\n"
        "    ret\n"
        "1:  movq %rax, %rdi\n"
        "    jmp osh_syscall_error\n"
        "    .cfi_endproc\n"
        ".size osh_sys6, .-osh_sys6\n");
#else
#include <stdarg.h>
OSH_EXPORT long syscall(long n, ...)
{
    va_list ap;
    va_start(ap, n);
    long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long), d = va_arg(ap, long),
         e = va_arg(ap, long), f = va_arg(ap, long);
    va_end(ap);
    if (n == SYS_fallocate || n == SYS_memfd_create) return osh_shm_syscall(n, a, b, c, d, e);
    ENSURE_OR(syscall, return raw_call(n, a, b, c, d, e, f));
    return REAL(syscall)(n, a, b, c, d, e, f);
}
__attribute__((visibility("hidden"))) long osh_sys6(long n, long a, long b, long c, long d, long e)
{
    ENSURE_OR(syscall, return raw_call(n, a, b, c, d, e, 0));
    return REAL(syscall)(n, a, b, c, d, e);
}
#endif

static void track(int fd, int kind)
{
    if (fd < 0 || !READY()) return;
    int e = errno;
    osh_enter();
    shmem_track(fd, kind);
    osh_leave();
    errno = e;
}

/* fallocate on a tracked file; real(...) is the call itself (libc's or the raw one) */
static int shm_fallocate(int fd, int mode, off_t off, off_t len, int via_syscall)
{
    uint64_t charge = shmem_charge_of(fd, mode, (uint64_t)off, (uint64_t)len);
    if (OSH_UNLIKELY(osh_policy) && charge) {
        int e = osh_gate(CALL_FALLOCATE, 1, (uint64_t)fd, (uint64_t)mode, (uint64_t)off, (uint64_t)len, charge,
                        (uint64_t)via_syscall);
        if (e) {
            errno = e;
            return -1;
        }
    }
    int r = via_syscall ? (int)osh_sys6(SYS_fallocate, fd, mode, off, len, 0) : REAL(fallocate)(fd, mode, off, len);
    int e = errno;
    osh_enter();
    if (r == 0) shmem_fallocated(fd, mode, (uint64_t)off, (uint64_t)len);
    else if ((e == ENOSPC || e == ENOMEM) && charge)
        osh_refused(CALL_FALLOCATE, e, (uint64_t)fd, (uint64_t)mode, (uint64_t)off, (uint64_t)len, charge,
                   (uint64_t)via_syscall);
    osh_leave();
    errno = e;
    return r;
}

__attribute__((visibility("hidden"))) long osh_shm_syscall(long n, long a, long b, long c, long d, long e)
{
    if (n == SYS_memfd_create) {
        long fd = osh_sys6(n, a, b, c, d, e);
        if (fd >= 0 && !((unsigned)b & MFD_HUGETLB)) track((int)fd, 1);
        return fd;
    }
    if (!READY() || !shmem_tracked((int)a)) return osh_sys6(n, a, b, c, d, e);
    return shm_fallocate((int)a, (int)b, (off_t)c, (off_t)d, 1);
}

OSH_EXPORT int memfd_create(const char *name, unsigned int flags)
{
    ENSURE(memfd_create);
    if (!REAL(memfd_create)) resolve_late((void **)&REAL(memfd_create), "memfd_create");
    if (!REAL(memfd_create)) { /* glibc before 2.27 has none: the system call itself */
        int fd = (int)osh_sys6(SYS_memfd_create, (long)name, (long)flags, 0, 0, 0);
        if (fd >= 0 && !(flags & MFD_HUGETLB)) track(fd, 1);
        return fd;
    }
    int fd = REAL(memfd_create)(name, flags);
    if (fd >= 0 && !(flags & MFD_HUGETLB)) track(fd, 1);
    return fd;
}

OSH_EXPORT int shm_open(const char *name, int oflag, mode_t mode)
{
    ENSURE(shm_open);
    if (!REAL(shm_open)) resolve_late((void **)&REAL(shm_open), "shm_open"); /* librt before glibc 2.34 */
    if (!REAL(shm_open)) {
        errno = ENOSYS;
        return -1;
    }
    int fd = REAL(shm_open)(name, oflag, mode);
    track(fd, 2);
    return fd;
}

OSH_EXPORT int fallocate(int fd, int mode, off_t off, off_t len)
{
    ENSURE_OR(fallocate, return (int)raw_call(SYS_fallocate, fd, mode, (long)off, (long)len, 0, 0));
    if (!READY() || !shmem_tracked(fd)) return REAL(fallocate)(fd, mode, off, len);
    return shm_fallocate(fd, mode, off, len, 0);
}

OSH_EXPORT int fallocate64(int fd, int mode, off64_t off, off64_t len)
{
    ENSURE_OR(fallocate, return (int)raw_call(SYS_fallocate, fd, mode, (long)off, (long)len, 0, 0));
    if (!READY() || !shmem_tracked(fd)) return REAL(fallocate)(fd, mode, off, len);
    return shm_fallocate(fd, mode, off, len, 0);
}

static void truncated(int fd, off_t len, int r)
{
    if (r != 0 || !READY() || !shmem_tracked(fd)) return;
    int e = errno;
    osh_enter();
    shmem_truncated(fd, (uint64_t)len);
    osh_leave();
    errno = e;
}

OSH_EXPORT int ftruncate(int fd, off_t len)
{
    ENSURE_OR(ftruncate, return (int)raw_call(SYS_ftruncate, fd, (long)len, 0, 0, 0, 0));
    int r = REAL(ftruncate)(fd, len);
    truncated(fd, len, r);
    return r;
}

OSH_EXPORT int ftruncate64(int fd, off64_t len)
{
    ENSURE_OR(ftruncate, return (int)raw_call(SYS_ftruncate, fd, (long)len, 0, 0, 0, 0));
    int r = REAL(ftruncate)(fd, len);
    truncated(fd, len, r);
    return r;
}

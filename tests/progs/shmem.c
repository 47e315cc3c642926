/* Shared memory charged per page, for overshim's tests: a memfd grown with fallocate
 * (through libc, or through syscall(2) as ZGC does), mapped MAP_SHARED, a hole punched,
 * truncated; prints what each step returned and the shim's view (overshim_stats) when
 * it is loaded. Usage: shmem MIB [syscall] [punch] */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long mib = argc > 1 ? atol(argv[1]) : 32;
    int via_syscall = argc > 2 && !strcmp(argv[2], "syscall");
    int punch = argc > 3 && !strcmp(argv[3], "punch");
    int fd = via_syscall ? (int)syscall(SYS_memfd_create, "heap", MFD_CLOEXEC) : memfd_create("heap", MFD_CLOEXEC);
    if (fd < 0) {
        perror("memfd_create");
        return 2;
    }
    off_t len = (off_t)mib << 20;
    if (ftruncate(fd, len) != 0) perror("ftruncate");
    int r = via_syscall ? (int)syscall(SYS_fallocate, fd, 0, (off_t)0, len) : fallocate(fd, 0, 0, len);
    printf("fallocate %ld MiB: %s\n", mib, r == 0 ? "ok" : strerror(errno));
    if (r != 0) return 1;
    char *p = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 3;
    }
    p[0] = 1;
    if (punch) {
        r = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, len / 2);
        printf("punch: %s\n", r == 0 ? "ok" : strerror(errno));
        r = ftruncate(fd, len / 4 * 3);
        printf("truncate: %s\n", r == 0 ? "ok" : strerror(errno));
    }
    int (*summary)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "overshim_write_summary");
    if (summary) summary();
    munmap(p, (size_t)len);
    close(fd);
    return 0;
}

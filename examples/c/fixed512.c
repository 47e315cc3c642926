/* Seed 000's C test: map 512 MiB with MAP_FIXED (fails on the CentOS 7 box), then
 * 256 MiB twice (both succeed). Nothing is touched. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static int try_map(void *where, size_t mib)
{
    void *p = mmap(where, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (p == MAP_FAILED) {
        printf("mmap %zu MiB at %p: %s\n", mib, where, strerror(errno));
        return 1;
    }
    printf("mmap %zu MiB at %p: ok\n", mib, where);
    return 0;
}

int main(void)
{
    int failed = try_map((void *)0x600000000000, 512);
    failed += try_map((void *)0x610000000000, 256);
    failed += try_map((void *)0x620000000000, 256);
    return failed;
}

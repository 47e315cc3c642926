/* free_sized and free_aligned_sized (C23, glibc 2.43) through the shim's own exports,
 * found with dlsym (this glibc may not have them): every block freed through them
 * leaves the shim's malloc-live count exactly where free would. For blocks of every
 * tcache size, a few heap sizes past it and mmapped ones, the count is read before the
 * malloc, after it and after the free (overshim_stats, one thread, so nothing else
 * moves it). Prints "checked N blocks, M wrong" and exits 0 when M is 0. */
#include <dlfcn.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../include/overshim.h"

static int (*stats)(struct overshim_stats *);

static long long live(void)
{
    struct overshim_stats st;
    if (stats(&st) != 0) exit(2);
    return (long long)st.malloc_bytes;
}

int main(void)
{
    void (*sized)(void *, size_t) = (void (*)(void *, size_t))dlsym(RTLD_DEFAULT, "free_sized");
    void (*aligned_sized)(void *, size_t, size_t) =
        (void (*)(void *, size_t, size_t))dlsym(RTLD_DEFAULT, "free_aligned_sized");
    stats = (int (*)(struct overshim_stats *))dlsym(RTLD_DEFAULT, "overshim_stats");
    if (!sized || !aligned_sized || !stats) {
        fprintf(stderr, "not under the shim\n");
        return 2;
    }
    int checked = 0, wrong = 0;
    static const size_t big[] = {2000, 5000, 100000, 200000, 1u << 20, 5u << 20};
    for (int way = 0; way < 3; way++) { /* free (the reference), free_sized, free_aligned_sized */
        for (size_t i = 0; i < 80 + sizeof big / sizeof big[0]; i++) {
            size_t n = i < 80 ? 1 + 13 * i : big[i - 80];
            for (int rep = 0; rep < 9; rep++) { /* past glibc's 7 tcache blocks of the size */
                long long before = live();
                void *p = way == 2 ? aligned_alloc(64, n) : rep % 3 == 1 ? calloc(1, n) : malloc(n);
                if (!p) return 2;
                size_t usable = malloc_usable_size(p);
                long long mid = live();
                if (way == 0) free(p);
                else if (way == 1) sized(p, n);
                else aligned_sized(p, 64, n);
                long long after = live();
                checked++;
                if (mid - before != (long long)usable || after != before) {
                    if (wrong++ < 5)
                        printf("way %d, %zu bytes: +%lld on malloc (usable %zu), %+lld after the free\n", way, n,
                               mid - before, usable, after - before);
                }
            }
        }
    }
    sized(NULL, 0); /* like free(NULL) */
    aligned_sized(NULL, 64, 0);
    printf("checked %d blocks, %d wrong\n", checked, wrong);
    return wrong ? 1 : 0;
}

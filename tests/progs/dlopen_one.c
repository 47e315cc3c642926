/* dlopen_one LIB: loads LIB with RTLD_NOW; prints "loaded" and exits 0, or prints
 * dlerror() and exits 1 (tests/integ/test_host_malloc.c: static TLS left under LD_AUDIT). */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    void *h = dlopen(argv[1], RTLD_NOW);
    if (!h) {
        printf("%s\n", dlerror());
        return 1;
    }
    printf("loaded\n");
    return 0;
}

/* The shim's own symbol lookup (shim/elfsym.c) answers what dlsym answers: every
 * interposed name, searched from the first object and from after the test program. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <link.h>
#include <string.h>

#include "elfsym.h"

static const char *const names[] = {"malloc", "free", "calloc", "realloc", "mmap", "mmap64", "munmap", "mremap",
                                    "mprotect", "brk", "sbrk", "fork", "clone", "pthread_create", "posix_spawn",
                                    "posix_spawnp", "exit", "_exit", "_Exit", "posix_memalign", "aligned_alloc",
                                    "memalign", "valloc", "pvalloc", "malloc_usable_size", "reallocarray",
                                    "pthread_setname_np", "dl_iterate_phdr", "printf", "pthread_getattr_default_np"};

static int first_base(struct dl_phdr_info *info, size_t size, void *p)
{
    (void)size;
    *(uintptr_t *)p = info->dlpi_addr;
    return 1;
}

Test(elfsym, same_answers_as_dlsym)
{
    uintptr_t exe = 0;
    dl_iterate_phdr(first_base, &exe);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int ifunc = 0;
        void *mine = elf_next_symbol(names[i], ELFSYM_ANY, &ifunc);
        void *theirs = dlsym(RTLD_DEFAULT, names[i]);
        if (!ifunc) cr_expect_eq(mine, theirs, "%s: %p, dlsym %p", names[i], mine, theirs);
        void *next = elf_next_symbol(names[i], exe, &ifunc);
        void *dnext = dlsym(RTLD_NEXT, names[i]);
        if (!ifunc) cr_expect_eq(next, dnext, "%s after the program: %p, dlsym %p", names[i], next, dnext);
    }
    cr_expect_null(elf_next_symbol("overshim_no_such_symbol", ELFSYM_ANY, NULL));
    cr_expect_null(elf_next_symbol("", ELFSYM_ANY, NULL));
}

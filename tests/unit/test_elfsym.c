/* The shim's own symbol lookup (sys/elfsym.c) answers what dlsym answers: every
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

/* Whether p is a symbol its object defines under a hidden (compatibility) version: before
 * glibc 2.34, dlsym(RTLD_NEXT) may return the oldest definition, hidden ones included
 * (bullseye: libpthread's fork@GLIBC_2.2.5, a jump to libc's, found ahead of libc when a
 * program links -lpthread); the shim takes the default version, as dlsym(RTLD_DEFAULT). */
static int hidden_version(void *p)
{
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    struct link_map *lm = NULL;
    if (!dladdr1(p, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym) return 0;
    if (!dladdr1(p, &info, (void **)&lm, RTLD_DL_LINKMAP) || !lm) return 0;
    uintptr_t base = lm->l_addr, symtab = 0, versym = 0;
    for (const ElfW(Dyn) *d = lm->l_ld; d->d_tag != DT_NULL; d++) {
        uintptr_t v = d->d_un.d_ptr;
        if (v && v < base) v += base; /* the loader relocates these entries in place, or not */
        if (d->d_tag == DT_SYMTAB) symtab = v;
        if (d->d_tag == DT_VERSYM) versym = v;
    }
    if (!symtab || !versym || (uintptr_t)sym < symtab) return 0;
    size_t ix = (size_t)((const ElfW(Sym) *)sym - (const ElfW(Sym) *)symtab);
    return (((const ElfW(Half) *)versym)[ix] & 0x8000) != 0;
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
        if (!ifunc)
            cr_expect(next == dnext || hidden_version(dnext), "%s after the program: %p, dlsym %p", names[i], next,
                      dnext);
    }
    cr_expect_null(elf_next_symbol("overshim_no_such_symbol", ELFSYM_ANY, NULL));
    cr_expect_null(elf_next_symbol("", ELFSYM_ANY, NULL));
}

/* What the constructor reads without libc (sys/startvec.c): the auxiliary vector after
 * envp (or /proc/self/auxv when what follows is not one), the loader's list of objects
 * through the program's DT_DEBUG, the vDSO's clock; and the compile-time GNU hash. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <link.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>

#include "elfsym.h"
#include "rawsys.h"
#include "startvec.h"

extern char **environ;

/* The list is glibc's own: the same objects in the same order as dl_iterate_phdr. */
struct seen {
    uintptr_t base[64];
    int n;
};
static int collect(struct dl_phdr_info *info, size_t size, void *p)
{
    (void)size;
    struct seen *s = p;
    if (s->n < 64) s->base[s->n++] = info->dlpi_addr;
    return 0;
}

static void check_objects(void)
{
    struct seen s = {{0}, 0};
    dl_iterate_phdr(collect, &s);
    const struct link_map *m = startvec_objects();
    cr_assert_not_null(m, "the test program has DT_DEBUG");
    int i = 0;
    for (; m && i < s.n; m = m->l_next, i++) cr_expect_eq(m->l_addr, s.base[i], "object %d", i);
    cr_expect_eq(i, s.n);
}

Test(startvec, the_stack_vector_after_envp)
{
    startvec_init(environ); /* the runner's environ is the stack's: nothing set it */
    cr_expect_eq(startvec_secure(), getauxval(AT_SECURE) != 0);
    check_objects();
}

Test(startvec, proc_auxv_when_envp_leads_nowhere)
{
    char *fake[] = {"A=1", NULL, (char *)0x12345678, (char *)0x87654321}; /* not an auxiliary vector */
    startvec_init(fake);
    cr_expect_eq(startvec_secure(), 0, "read from /proc/self/auxv");
    check_objects();
}

Test(startvec, vdso_clock_agrees_with_libc)
{
    startvec_init(NULL);
    if (!getauxval(AT_SYSINFO_EHDR)) cr_skip_test("no vDSO here (valgrind?)");
    cr_assert_not_null(startvec_vdso_function("__vdso_clock_gettime", ELF_GNU_HASH_LIT("__vdso_clock_gettime")));
    struct timespec a, b, c;
    clock_gettime(CLOCK_MONOTONIC, &a);
    cr_assert_eq(raw_clock_gettime(CLOCK_MONOTONIC, &b), 0);
    clock_gettime(CLOCK_MONOTONIC, &c);
    uint64_t na = a.tv_sec * 1000000000ull + a.tv_nsec, nb = b.tv_sec * 1000000000ull + b.tv_nsec,
             nc = c.tv_sec * 1000000000ull + c.tv_nsec;
    cr_expect(na <= nb && nb <= nc, "%llu %llu %llu", (unsigned long long)na, (unsigned long long)nb, (unsigned long long)nc);
    cr_expect_eq(raw_clock_gettime((clockid_t)12345, &b), -1, "a bad clock fails as libc's does");
}

Test(startvec, literal_hash_is_the_gnu_hash)
{
    static const uint32_t lit[] = {ELF_GNU_HASH_LIT(""), ELF_GNU_HASH_LIT("mmap"), ELF_GNU_HASH_LIT("pthread_create"),
                                   ELF_GNU_HASH_LIT("__register_atfork"), ELF_GNU_HASH_LIT("abcdefghijklmnopqrstuvwx")};
    const char *names[] = {"", "mmap", "pthread_create", "__register_atfork", "abcdefghijklmnopqrstuvwx"};
    for (size_t i = 0; i < sizeof lit / sizeof lit[0]; i++) cr_expect_eq(lit[i], elf_gnu_hash(names[i]), "%s", names[i]);
}

Test(startvec, dynamic_function_finds_libc_definitions)
{
    startvec_init(environ);
    void *want = dlsym(RTLD_DEFAULT, "__register_atfork");
    void *got = NULL;
    for (const struct link_map *m = startvec_objects(); m && !got; m = m->l_next)
        got = elf_dynamic_function(m->l_addr, m->l_ld, "__register_atfork", ELF_GNU_HASH_LIT("__register_atfork"));
    cr_expect_eq(got, want);
}

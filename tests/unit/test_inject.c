/* Injection rules: parsing, matching, determinism. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "inject.h"

static struct inject_set set;

static struct failed_call mm(uint64_t len, int prot, int flags)
{
    return (struct failed_call){.id = CALL_MMAP64, .a = {0, len, (uint64_t)prot, (uint64_t)flags}};
}

Test(inject, nth_size_flags_thread_errno)
{
    char err[256];
    cr_assert_eq(inject_parse(&set, "mmap>=512M+MAP_FIXED+PROT_WRITE~java,pthread_create@3,malloc@2-!EPERM", err, sizeof err),
                 0, "%s", err);
    const char *rule;
    unsigned long nth;
    struct failed_call big = mm(512u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
    cr_expect_eq(inject_match(&set, &big, "java", &rule, &nth), ENOMEM);
    cr_expect_eq(inject_match(&set, &big, "main", &rule, &nth), 0, "thread name must match");
    struct failed_call small = mm(256u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
    cr_expect_eq(inject_match(&set, &small, "java", &rule, &nth), 0);
    struct failed_call nofixed = mm(1u << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    cr_expect_eq(inject_match(&set, &nofixed, "java", &rule, &nth), 0);
    struct failed_call pt = {.id = CALL_PTHREAD_CREATE};
    cr_expect_eq(inject_match(&set, &pt, "x", &rule, &nth), 0);
    cr_expect_eq(inject_match(&set, &pt, "x", &rule, &nth), 0);
    cr_expect_eq(inject_match(&set, &pt, "x", &rule, &nth), EAGAIN, "the third call, EAGAIN for threads");
    cr_expect_eq(nth, 3);
    cr_expect_eq(inject_match(&set, &pt, "x", &rule, &nth), 0, "only the third");
    struct failed_call m = {.id = CALL_MALLOC, .a = {10}};
    cr_expect_eq(inject_match(&set, &m, "x", &rule, &nth), 0);
    cr_expect_eq(inject_match(&set, &m, "x", &rule, &nth), EPERM);
    cr_expect_eq(inject_match(&set, &m, "x", &rule, &nth), EPERM, "@2- is the second and every later one");
    cr_expect_str_eq(rule, "malloc@2-!EPERM");
}

Test(inject, prefix_thread_and_prot_none)
{
    char err[256];
    cr_assert_eq(inject_parse(&set, "mmap+PROT_NONE~GC*", err, sizeof err), 0, "%s", err);
    const char *rule;
    unsigned long nth;
    struct failed_call r = mm(4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS);
    cr_expect_eq(inject_match(&set, &r, "GC Thread#0", &rule, &nth), ENOMEM);
    cr_expect_eq(inject_match(&set, &r, "main", &rule, &nth), 0);
    struct failed_call w = mm(4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
    cr_expect_eq(inject_match(&set, &w, "GC Thread#0", &rule, &nth), 0);
}

Test(inject, malformed_rules)
{
    static const char *const bad[] = {"", "mmap,", ",mmap", "nosuchcall", "mmap@0", "mmap@x", "mmap>=lots",
                                      "mmap+MAP_BOGUS", "mmap!EWHAT", "mmap~", "mmap?", "mmap>=1M>=2M",
                                      "mmap=5M", "mmap~averyveryverylongthreadname",
                                      /* found by fuzz_inject: a newline in the echoed rule */
                                      "mm\n\n\n\n\n\nap>=51+MPB_2AMIX_d~java*"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        cr_expect_eq(inject_parse(&set, bad[i], err, sizeof err), -1, "accepted '%s'", bad[i]);
        cr_expect(strlen(err) > 10 && strchr(err, '\n') == NULL, "'%s': %s", bad[i], err);
        cr_expect_eq(inject_active(&set), 0, "a bad rule leaves no rule active");
    }
}

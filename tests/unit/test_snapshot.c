/* The snapshot format: valid files, defaults for missing keys, malformed files. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "snapshot.h"

static const char *good = "# overshim snapshot 1\n"
                          "kernel = 3.10.0-957.el7.x86_64\npage_size = 4096\ncap_sys_admin = 0\n"
                          "[sysctl]\nvm.overcommit_memory = 2\nvm.overcommit_ratio = 80\nvm.swappiness = 60\n"
                          "kernel.pid_max = 32768\n"
                          "[meminfo]\nMemTotal:        4046776 kB\nMemFree:          145408 kB\n"
                          "HugePages_Total:       0\nDirectMap4k:      100000 kB\n";

Test(snapshot, valid_and_defaults)
{
    struct snapshot s;
    char err[256];
    cr_assert_eq(snapshot_parse(good, &s, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(s.release, "3.10.0-957.el7.x86_64");
    cr_expect_eq(s.k.rhel, 7);
    cr_expect_eq(s.overcommit_memory, 2);
    cr_expect_eq(s.overcommit_ratio, 80);
    cr_expect_eq(s.pid_max, 32768);
    cr_expect_eq(s.admin_reserve_kbytes, -1, "absent");
    cr_expect_eq(s.mi.MemTotal, 4046776);
    cr_expect_eq(s.totalreserve, -1);
    struct kmodel_input in;
    snapshot_input(&s, &in);
    cr_expect_eq(in.totalram, 1011694);
    cr_expect_eq(in.admin_reserve_kbytes, 145408 / 32, "the boot default min(free/32, 8 MiB)");
    cr_expect_eq(in.user_reserve_kbytes, 145408 / 32);
    cr_expect_eq(in.overcommit_ratio, 80);
    cr_expect_eq(in.totalreserve_known, 0);
}

Test(snapshot, the_examples_parse)
{
    const char *files[] = {"examples/snapshots/seed000-centos7.snapshot", "examples/snapshots/seed000-rhel9.snapshot",
                           "examples/snapshots/seed002-mode2.snapshot"};
    for (size_t i = 0; i < 3; i++) {
        static char buf[1 << 16];
        FILE *f = fopen(files[i], "r");
        cr_assert(f, "%s", files[i]);
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = 0;
        fclose(f);
        struct snapshot s;
        char err[256];
        cr_expect_eq(snapshot_parse(buf, &s, err, sizeof err), 0, "%s: %s", files[i], err);
        if (i == 0) cr_expect_eq(s.totalreserve, 30186, "the zoneinfo reproduces docs/kernel.md §10(a)");
    }
}

Test(snapshot, malformed_name_the_line)
{
    static const struct {
        const char *text, *expect;
    } bad[] = {
        {"", "empty"},
        {"kernel = 3.10.0\n", "header"},
        {"# overshim snapshot 1\n[meminfo]\nMemTotal: 100 kB\nMemFree: 10 kB\n", "kernel"},
        {"# overshim snapshot 1\nkernel = banana\n", "line 2"},
        {"# overshim snapshot 1\nkernel = 4.19.0\nflavour = spicy\n", "line 3"},
        {"# overshim snapshot 1\nkernel = 4.19.0\npage_size = 1000\n", "page_size"},
        {"# overshim snapshot 1\nkernel = 4.19.0\n[sysctl]\nvm.overcommit_memory 2\n", "line 4"},
        {"# overshim snapshot 1\nkernel = 4.19.0\n[sysctl]\nvm.overcommit_ratio = lots\n", "line 4"},
        {"# overshim snapshot 1\nkernel = 4.19.0\n[sysctl]\nvm.overcommit_memory = 7\n[meminfo]\nMemTotal: 1 kB\nMemFree: 1 kB\n",
         "0, 1 or 2"},
        {"# overshim snapshot 1\nkernel = 4.19.0\n[memory]\n", "line 3"},
        {"# overshim snapshot 1\nkernel = 4.19.0\n[meminfo]\nMemTotal = 5\n", "line 4"},
        {"# overshim snapshot 1\nkernel = 4.19.0\n[meminfo]\nMemTotal: -5 kB\n", "line 4"},
        {"# overshim snapshot 1\nkernel = 4.19.0\n[meminfo]\nMemFree: 5 kB\n", "MemTotal"},
        {"# overshim snapshot 1\nkernel = 4.19.0\n[meminfo]\nMemTotal: 5 kB\nMemFree: 1 kB\n[zoneinfo]\nnothing\n",
         "zoneinfo"},
        {"# overshim snapshot 1\nkernel = 4.19.0\x01\n", "line 2"},
        {"# overshim snapshot 1\ncap_sys_admin = 2\n", "line 2"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct snapshot s;
        char err[256] = "";
        cr_expect_eq(snapshot_parse(bad[i].text, &s, err, sizeof err), -1, "accepted #%zu", i);
        cr_expect(strstr(err, bad[i].expect) != NULL, "#%zu: '%s' does not say '%s'", i, err, bad[i].expect);
        cr_expect(strchr(err, '\n') == NULL, "#%zu: one line", i);
    }
}

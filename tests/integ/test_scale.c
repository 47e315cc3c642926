/* Issue 11: the ledger at scale. Thousands of mprotects in one mapping (a stack pool
 * with guard pages, pages flipped between PROT_NONE and read-write) used to cost the
 * shim a pagemap read per range per call: 8000 guards took minutes. */
#include <time.h>

#include "common.h"

/* guards ARGS bare and under the shim with report_at_exit=1: the same output and
 * status, the shim's run within 30 s, and the ledger equal to the kernel's smaps
 * `ac` sum over the mapping, both as the ledger guessed it before anything read
 * smaps (overshim_stats, on the program's stderr) and in the summary at exit. */
static void scale_case(const char *name, char *const argv[])
{
    char *dir = test_dir(name);
    char opt[] = "OVERSHIM_OPTIONS=report_at_exit=1:verbosity=0";
    char *env[] = {opt, NULL};
    struct run bare, shim;
    run_cmd(&bare, argv, NULL, dir, 0, 60);
    cr_assert_eq(bare.status, 0, "bare: %s", bare.err);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    run_cmd(&shim, argv, env, dir, 1, 30);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cr_assert(!shim.timed_out, "%s %s: not finished within 30 s under the shim", argv[1], argv[2]);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_log_info("%s: %.2f s under the shim", name, took);
    cr_expect_eq(shim.status, bare.status);
    cr_expect_str_eq(shim.out, bare.out);

    char err[256];
    struct jval *truth = json_parse(shim.out, err, sizeof err);
    cr_assert(truth, "%s: %s", err, shim.out);
    long long ac = json_int(truth, "ac_bytes", -1), mapped = json_int(truth, "mapped_bytes", -1);
    cr_assert_gt(ac, 0);
    long long guess = -1;
    unsigned long long ranges = 0;
    const char *line = strstr(shim.err, "ledger committed_bytes ");
    cr_assert(line && sscanf(line, "ledger committed_bytes %lld ranges %llu", &guess, &ranges) == 2, "%s", shim.err);
    cr_expect_eq(guess, ac, "ledger before smaps %lld, kernel %lld (mapped %lld)", guess, ac, mapped);
    cr_expect_geq(ranges, 2000);

    struct jval *ev[MAX_EVENTS];
    int n = events_in(dir, ev);
    const struct jval *s = json_event(ev, n, "summary");
    cr_assert(s, "no summary");
    cr_expect_eq(json_int(s, "process.committed_bytes", -1), ac, "summary %lld, kernel %lld",
                 json_int(s, "process.committed_bytes", -1), ac);
    cr_expect_eq(json_int(s, "process.tracked_accountable_bytes", -1), ac);
    cr_expect_eq((unsigned long long)json_int(s, "process.ledger_ranges", -1), ranges);
    for (int i = 0; i < n; i++) json_free(ev[i]);
    json_free(truth);
    run_free(&bare);
    run_free(&shim);
    free(dir);
}

/* Never touched: on 6.7+ every guard gives its page's charge back. */
Test(scale, guard_pages_in_an_untouched_pool, .timeout = 120)
{
    char *argv[] = {(char *)prog("guards"), "pool", "8000", NULL};
    scale_case("pool", argv);
}

/* Touched first: the pool's VMA has an anon_vma, which every split shares, so every
 * guard stays charged (a look at the guard page alone would say otherwise). */
Test(scale, guard_pages_in_a_touched_pool, .timeout = 120)
{
    char *argv[] = {(char *)prog("guards"), "pool", "8000", "touch", NULL};
    scale_case("pool_touched", argv);
}

Test(scale, alternating_mprotects, .timeout = 120)
{
    char *argv[] = {(char *)prog("guards"), "alternate", "32000", NULL};
    scale_case("alternate", argv);
}

Test(scale, alternating_mprotects_touched, .timeout = 120)
{
    char *argv[] = {(char *)prog("guards"), "alternate", "32000", "touch", NULL};
    scale_case("alternate_touched", argv);
}

/* Before Linux 6.7 there is no PAGEMAP_SCAN (refused here by a seccomp filter in the
 * program): the one look is a bounded pagemap read, and the guesses are the same. */
Test(scale, guard_pages_without_pagemap_scan, .timeout = 120)
{
    char *argv[] = {(char *)prog("guards"), "pool", "8000", "noscan", NULL};
    scale_case("pool_noscan", argv);
}

Test(scale, guard_pages_in_a_touched_pool_without_pagemap_scan, .timeout = 120)
{
    char *argv[] = {(char *)prog("guards"), "pool", "8000", "touch", "noscan", NULL};
    scale_case("pool_touched_noscan", argv);
}

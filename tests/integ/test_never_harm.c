/* Issue 11: the shim never harms the program it lives in: refusals on small stacks,
 * a task sharing the parent's TLS, simultaneous refusals, failure storms, and the
 * shim's own footprint as the reports state it. Every refusal is a real one the
 * kernel makes safely (tests/progs/hostile.c), or an injected or simulated one. */
#include <unistd.h>

#include "common.h"

static int count_lines(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; p && (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}

static int events_of(struct jval **ev, int n, const char *kind)
{
    int k = 0;
    for (int i = 0; i < n; i++) k += !strcmp(json_str(ev[i], "event") ? json_str(ev[i], "event") : "", kind);
    return k;
}

static void free_events(struct jval **ev, int n)
{
    for (int i = 0; i < n; i++) json_free(ev[i]);
}

/* Each enomem event is whole: verdict, stack, ledger, system and the shim's share. */
static void expect_complete(const struct jval *e)
{
    cr_expect(json_str(e, "verdict.cause"), "no cause");
    cr_expect(json_at(e, "stack.0.ip"), "no stack");
    cr_expect(json_at(e, "process.vm_size_bytes"), "no process");
    cr_expect(json_at(e, "threads.0.tid"), "no threads");
    cr_expect(json_at(e, "system.meminfo.MemTotal_kb"), "no system");
    cr_expect_gt(json_int(e, "overshim_footprint.vm_bytes", 0), 0, "no footprint");
}

/* Run hostile ARGS bare and under the shim: same status and stdout; the JSON events. */
static int bare_and_shimmed(const char *name, char *const args[], const char *opts, struct jval **ev, struct run *shim)
{
    char *dir = test_dir(name);
    char *argv[8] = {(char *)prog("hostile")};
    for (int i = 0; args[i] && i < 6; i++) argv[i + 1] = args[i], argv[i + 2] = NULL;
    char opt[512];
    snprintf(opt, sizeof opt, "OVERSHIM_OPTIONS=%s", opts);
    char *env[] = {opt, NULL};
    struct run bare;
    run_cmd(&bare, argv, NULL, dir, 0, 60);
    run_cmd(shim, argv, env, dir, 1, 60);
    cr_expect(!shim->timed_out, "%s: hung under the shim", name);
    cr_expect_eq(shim->status, bare.status, "%s: status %d under the shim, %d bare; stderr %s", name, shim->status,
                 bare.status, shim->err);
    cr_expect_str_eq(shim->out, bare.out, "%s: stdout differs", name);
    cr_expect_eq(bare.status, 0, "%s: bare run did not refuse: %s", name, bare.out);
    int n = 0;
    if (ev && find_file(dir, "overshim_pid", ".jsonl")) n = events_in(dir, ev);
    run_free(&bare);
    free(dir);
    return n;
}

/* Threads of 16 and 24 KiB whose mmap, malloc and pthread_create are refused, and a
 * recursion that leaves 4 KiB: the refusal path runs on the shim's own stack. */
Test(never_harm, refusals_on_small_stacks, .timeout = 120)
{
    const char *sizes[] = {"16", "24"};
    for (int i = 0; i < 2; i++) {
        char *args[] = {"smallstack", (char *)sizes[i], "all", NULL};
        struct jval *ev[MAX_EVENTS];
        struct run r;
        int n = bare_and_shimmed("smallstack", args, "verbosity=0", ev, &r);
        cr_expect_eq(events_of(ev, n, "enomem"), 3, "%s KiB: %d events", sizes[i], events_of(ev, n, "enomem"));
        const char *want[] = {"mmap", "malloc", "pthread_create"};
        for (int k = 0; k < 3 && k < n; k++) {
            cr_expect_str_eq(json_str(ev[k], "call.name"), want[k]);
            expect_complete(ev[k]);
        }
        free_events(ev, n);
        run_free(&r);
    }
    const char *lefts[] = {"4", "1500b"}; /* 4 KiB, and 1500 bytes: the shim needs less than that */
    struct jval *ev[MAX_EVENTS];
    struct run r;
    int n;
    for (int i = 0; i < 2; i++) {
        char *rec[] = {"recurse", (char *)lefts[i], NULL};
        n = bare_and_shimmed("recurse", rec, "verbosity=0", ev, &r);
        cr_expect_eq(events_of(ev, n, "enomem"), 2, "recursion leaving %s: %d events", lefts[i], events_of(ev, n, "enomem"));
        free_events(ev, n);
        run_free(&r);
    }
    /* with every output off, as seen crashing before */
    char *all16[] = {"smallstack", "16", "all", NULL};
    n = bare_and_shimmed("smallstack-quiet", all16, "log=none:json=none:verbosity=0", NULL, &r);
    run_free(&r);
    /* past max_reports (one-line events, and only counting with the files off) */
    char *rec1500[] = {"recurse", "1500b", NULL};
    n = bare_and_shimmed("recurse-brief", rec1500, "max_reports=0:verbosity=0", ev, &r);
    cr_expect_eq(events_of(ev, n, "enomem_brief"), 2, "recursion past max_reports: %d brief events",
                 events_of(ev, n, "enomem_brief"));
    free_events(ev, n);
    run_free(&r);
    n = bare_and_shimmed("recurse-quiet", rec1500, "max_reports=0:log=none:json=none:verbosity=0", NULL, &r);
    run_free(&r);
    n = bare_and_shimmed("smallstack-brief", all16, "max_reports=0:verbosity=0", NULL, &r);
    run_free(&r);
}

/* clone(CLONE_VM) without CLONE_SETTLS: the child's refusal is reported under its own
 * pid, and the parent's own state is intact (its later refusal is its own, its guard
 * and counters were not touched: it still reports, and its malloc counts stand). */
Test(never_harm, clone_vm_child_is_reported_apart, .timeout = 60)
{
    char *dir = test_dir("clonevm");
    char *argv[] = {(char *)prog("hostile"), "clonevm", NULL};
    char opt[] = "OVERSHIM_OPTIONS=report_at_exit=1:verbosity=0";
    char *env[] = {opt, NULL};
    struct run r;
    run_cmd(&r, argv, env, dir, 1, 30);
    cr_assert_eq(r.status, 0, "exit %d: %s %s", r.status, r.out, r.err);
    int child = 0, parent = (int)r.status;
    cr_assert(sscanf(r.out, "child %d", &child) == 1, "%s", r.out);
    char name[64];
    snprintf(name, sizeof name, "overshim_pid%d.jsonl", child);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct jval *ev[MAX_EVENTS];
    char err[256];
    int n = json_lines(path, ev, MAX_EVENTS, err, sizeof err);
    cr_assert_gt(n, 0, "no report of the child %d (%s)", child, err);
    const struct jval *e = json_event(ev, n, "enomem");
    cr_assert(e);
    cr_expect_eq(json_int(e, "pid", 0), child);
    cr_expect_eq(json_int(e, "tid", 0), child);
    parent = (int)json_int(e, "shares_memory_of", 0);
    cr_expect_gt(parent, 0, "the child's report does not name the process whose memory it shares");
    cr_expect_str_eq(json_str(e, "verdict.cause"), "overcommit_guess");
    expect_complete(e);
    free_events(ev, n);
    snprintf(path, sizeof path, "%s/overshim_pid%d.jsonl", dir, parent);
    n = json_lines(path, ev, MAX_EVENTS, err, sizeof err);
    cr_assert_gt(n, 0, "no report of the parent %d (%s)", parent, err);
    e = json_event(ev, n, "enomem");
    cr_assert(e, "the parent's own refusal is not reported");
    cr_expect_eq(json_int(e, "pid", 0), parent);
    cr_expect_eq(json_int(e, "tid", 0), parent);
    cr_expect(!json_at(e, "shares_memory_of"));
    const struct jval *s = json_event(ev, n, "summary");
    cr_assert(s);
    long long ml = json_int(s, "threads.0.malloc_bytes", -1);
    cr_expect(ml >= 0 && ml < 1 << 20, "the parent's malloc live bytes: %lld", ml);
    cr_expect_eq(json_int(s, "refusals.total", 0), 1, "the parent counted the child's refusal as its own");
    free_events(ev, n);
    run_free(&r);
    free(dir);
}

/* Eight threads refused at the same moment, under injection and under simulation:
 * every report whole, every JSON line valid (json_lines fails on any bad line). */
Test(never_harm, eight_simultaneous_refusals, .timeout = 120)
{
    /* mode 2 with CommitLimit RAM+swap (overcommit_kbytes), on a snapshot of this box whose
     * Committed_AS is 1 GiB: simulating from the live Committed_AS, other work on a shared
     * machine (a test that maps up to the heuristic limit, run alongside) pushed it near the
     * limit, and then the eight threads' stacks were refused first */
    char *sdir = test_dir("simultaneous-box");
    char snap[4200], mode2[4400];
    snprintf(snap, sizeof snap, "%s/box.snapshot", sdir);
    char *sa[] = {(char *)cli(), "snapshot", "-o", snap, NULL};
    struct run sr;
    run_cmd(&sr, sa, NULL, sdir, 0, 30);
    cr_assert_eq(sr.status, 0, "%s", sr.err);
    run_free(&sr);
    char *text = read_all(snap);
    cr_assert(text);
    char *ca = strstr(text, "\nCommitted_AS:");
    cr_assert(ca, "no Committed_AS in the snapshot");
    FILE *f = fopen(snap, "w");
    cr_assert(f);
    fprintf(f, "%.*s\nCommitted_AS: 1048576 kB%s", (int)(ca - text), text, strchr(ca + 1, '\n'));
    fclose(f);
    free(text);
    snprintf(mode2, sizeof mode2, "simulate=%s:overcommit_memory=2:overcommit_kbytes=%lld:verbosity=0", snap,
             meminfo_kb("MemTotal") + meminfo_kb("SwapTotal"));
    const char *opts[] = {"inject=mmap>=1G:verbosity=0", mode2};
    for (int i = 0; i < 2; i++) {
        char *dir = test_dir("simultaneous");
        char *argv[] = {(char *)prog("hostile"), "simultaneous", "8", NULL}; /* twice RAM+swap each */
        char opt[4600];
        snprintf(opt, sizeof opt, "OVERSHIM_OPTIONS=%s", opts[i]);
        char *env[] = {opt, NULL};
        struct run r;
        run_cmd(&r, argv, env, dir, 1, 60);
        cr_expect_eq(r.status, 0, "%s: %s %s", opts[i], r.out, r.err);
        cr_expect_str_eq(r.out, "refused 8 of 8\n");
        struct jval *ev[MAX_EVENTS];
        int n = events_in(dir, ev);
        cr_expect_eq(events_of(ev, n, "enomem"), 8, "%s: %d reports", opts[i], events_of(ev, n, "enomem"));
        for (int k = 0; k < n; k++)
            if (!strcmp(json_str(ev[k], "event"), "enomem")) {
                expect_complete(ev[k]);
                cr_expect_str_eq(json_str(ev[k], "verdict.cause"), i == 0 ? "injected" : "overcommit_never");
            }
        char *log = read_all(find_file(dir, "overshim_pid", ".log"));
        cr_expect_eq(count_lines(log, "\nVERDICT  "), 8, "%s: text reports", opts[i]);
        cr_expect_eq(count_lines(log, "\nSYSTEM   "), 8, "%s: text reports cut short", opts[i]);
        free(log);
        free_events(ev, n);
        run_free(&r);
        free(dir);
    }
    free(sdir);
}

/* 20,000 refusals: max_reports full reports, max_brief one-line events, the rest only
 * counted; stderr gets one line per full report and two notices. */
Test(never_harm, failure_storm_is_bounded, .timeout = 120)
{
    char *dir = test_dir("storm");
    char *argv[] = {(char *)prog("hostile"), "storm", "20000", NULL};
    char opt[] = "OVERSHIM_OPTIONS=max_reports=4:max_brief=50";
    char *env[] = {opt, NULL};
    struct run r;
    run_cmd(&r, argv, env, dir, 1, 90);
    cr_expect_eq(r.status, 0, "%s", r.err);
    struct jval *ev[MAX_EVENTS];
    int n = events_in(dir, ev);
    cr_expect_eq(events_of(ev, n, "enomem"), 4);
    cr_expect_eq(events_of(ev, n, "enomem_brief"), 50);
    const struct jval *b = json_event(ev, n, "enomem_brief");
    cr_assert(b);
    cr_expect(json_at(b, "diagnosed") && !json_at(b, "diagnosed")->boolean, "a brief event past max_reports was diagnosed");
    cr_expect_gt(json_int(b, "request_pages", 0), 0);
    const struct jval *x = json_event(ev, n, "exit");
    cr_assert(x, "no exit event");
    cr_expect_eq(json_int(x, "refusals.total", 0), 20000);
    cr_expect_eq(json_int(x, "refusals.reports", 0), 4);
    cr_expect_eq(json_int(x, "refusals.brief", 0), 50);
    cr_expect_eq(json_int(x, "refusals.unreported", 0), 20000 - 4 - 50);
    int lines = count_lines(r.err, "SUMMARY: overshim:");
    cr_expect(lines >= 4 && lines <= 7, "%d SUMMARY lines on stderr:\n%s", lines, r.err);
    free_events(ev, n);
    run_free(&r);
    free(dir);
}

/* A 200 us timer whose handler is refused, while main is refused in a loop: the
 * program finishes (make bench times it against bare). */
Test(never_harm, timer_storm_makes_progress, .timeout = 180)
{
    char *argv[] = {(char *)prog("hostile"), "timerstorm", "20000", NULL};
    char *dir = test_dir("timerstorm");
    char opt[] = "OVERSHIM_OPTIONS=verbosity=0";
    char *env[] = {opt, NULL};
    struct run r;
    run_cmd(&r, argv, env, dir, 1, 150);
    cr_expect(!r.timed_out, "no progress under a failure storm");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "refused 20000 of 20000") && strstr(r.out, "handler ran"), "%s", r.out);
    run_free(&r);
    free(dir);
}

/* The report's overshim_footprint is what the shim adds: the same program's VmSize
 * and mapping count bare and under the shim differ by it. */
Test(never_harm, footprint_in_report_matches_what_the_shim_adds)
{
    struct jval *ev[MAX_EVENTS];
    char *dir = test_dir("footprint");
    char *argv[] = {(char *)prog("hostile"), "footprint", NULL};
    struct run bare, shim;
    run_cmd(&bare, argv, NULL, dir, 0, 30);
    char opt[] = "OVERSHIM_OPTIONS=verbosity=0";
    char *env[] = {opt, NULL};
    run_cmd(&shim, argv, env, dir, 1, 30);
    long bvm, bmaps, svm, smaps;
    cr_assert(sscanf(bare.out, "vmsize_kb %ld maps %ld", &bvm, &bmaps) == 2, "%s", bare.out);
    cr_assert(sscanf(shim.out, "vmsize_kb %ld maps %ld", &svm, &smaps) == 2, "%s", shim.out);
    int n = events_in(dir, ev);
    const struct jval *e = json_event(ev, n, "enomem");
    cr_assert(e);
    long long fvm = json_int(e, "overshim_footprint.vm_bytes", 0) / 1024;
    long long fmaps = json_int(e, "overshim_footprint.mappings", 0);
    cr_expect(llabs(fvm - (svm - bvm)) <= 64, "footprint %lld KiB, the shim added %ld KiB", fvm, svm - bvm);
    cr_expect(llabs(fmaps - (smaps - bmaps)) <= 2, "footprint %lld mappings, the shim added %ld", fmaps, smaps - bmaps);
    cr_expect_leq(fvm, 1024, "the shim's address space: %lld KiB (budget 1 MiB)", fvm);
    free_events(ev, n);
    run_free(&bare);
    run_free(&shim);
    free(dir);
}

/* A program started with stderr closed whose next open() is fd 2: the shim's SUMMARY
 * line must not land in the program's file (it writes to fd 1 and 2 only while they
 * are the files the program started with). */
Test(never_harm, no_line_into_a_file_that_took_fd_2)
{
    char *dir = test_dir("reopened");
    char data[4200], cmd[8600];
    snprintf(data, sizeof data, "%s/data.bin", dir);
    snprintf(cmd, sizeof cmd, "exec '%s' reopened-stderr '%s' 2>&-", prog("hostile"), data);
    char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    struct run r;
    run_cmd(&r, argv, NULL, dir, 1, 30);
    cr_expect_eq(r.status, 0, "%s", r.out);
    cr_expect_str_eq(r.out, "data file was fd 2\n");
    char *got = read_all(data);
    cr_assert(got);
    cr_expect_str_eq(got, "DATA\n", "the program's file holds: %s", got);
    free(got);
    cr_expect(find_file(dir, "overshim_pid", ".log"), "the report itself is still written");
    run_free(&r);
    free(dir);
}

/* Full reports (larger than the shim's buffer: written in pieces) and one-line events
 * from 8 threads at once, 200 more threads idle: every line of the JSON file parses. */
Test(never_harm, full_and_brief_events_never_interleave, .timeout = 180)
{
    char *dir = test_dir("mixed");
    char *argv[] = {(char *)prog("hostile"), "mixedstorm", "500", NULL};
    char opt[] = "OVERSHIM_OPTIONS=max_reports=8:max_brief=100000:verbosity=0";
    char *env[] = {opt, NULL};
    struct run r;
    run_cmd(&r, argv, env, dir, 1, 150);
    cr_assert_eq(r.status, 0, "%s %s", r.out, r.err);
    char *text = read_all(find_file(dir, "overshim_pid", ".jsonl"));
    cr_assert(text);
    int lines = 0, full = 0, brief = 0;
    for (char *l = text, *nl; *l; l = nl + 1) {
        nl = strchr(l, '\n');
        cr_assert(nl, "the file ends inside a line");
        *nl = 0;
        char err[256];
        struct jval *v = json_parse(l, err, sizeof err);
        cr_assert(v, "line %d does not parse (%s): %.200s", lines + 1, err, l);
        full += !strcmp(json_str(v, "event"), "enomem");
        brief += !strcmp(json_str(v, "event"), "enomem_brief");
        json_free(v);
        lines++;
    }
    cr_expect_eq(full, 8);
    cr_expect_eq(brief, 8 * 500 - 8);
    free(text);
    run_free(&r);
    free(dir);
}

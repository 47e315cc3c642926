/* Issue 16: shared memory charged per page. A memfd grown with fallocate (through libc
 * and through syscall(2), as ZGC does) is charged in the ledger as it is allocated, a
 * punched hole and a truncation give pages back; a strict-overcommit box (simulated)
 * refuses the fallocate with ENOSPC as the kernel does; ZGC is refused under such a box
 * while its heap is no larger than 256 MiB (nothing large runs on this machine). */
#include <unistd.h>

#include "common.h"

static long long shmem_bytes(struct jval **ev, int n)
{
    const struct jval *s = json_event(ev, n, "summary");
    return s ? json_int(s, "process.shmem_bytes", -1) : -2;
}

Test(shmem, memfd_pages_charged_as_allocated)
{
    const char *modes[][2] = {{"x", "x"}, {"syscall", "x"}, {"x", "punch"}};
    long long want[] = {32ll << 20, 32ll << 20, 8ll << 20}; /* punch 0-16 MiB, truncate to 24: 16-24 left */
    for (int i = 0; i < 3; i++) {
        char *dir = test_dir("shm-charge");
        char *argv[] = {(char *)prog("shmem"), "32", (char *)modes[i][0], (char *)modes[i][1], NULL};
        struct run r;
        run_cmd(&r, argv, NULL, dir, 1, 30);
        cr_expect_eq(r.status, 0, "%s %s", r.out, r.err);
        struct jval *ev[MAX_EVENTS];
        int n = events_in(dir, ev);
        cr_expect_eq(shmem_bytes(ev, n), want[i], "%s %s", modes[i][0], modes[i][1]);
        const struct jval *s = json_event(ev, n, "summary");
        cr_expect_eq(json_int(s, "process.shmem_files", -1), 1);
        for (int k = 0; k < n; k++) json_free(ev[k]);
        run_free(&r);
        free(dir);
    }
}

/* Seed 002's strict box with its Committed_AS raised (a box of fixed numbers: nothing here
 * depends on this machine's). committed: the new line, 27 characters. */
static void strict_box(const char *dir, char *box, size_t cap, const char *committed)
{
    char src[4200];
    snprintf(src, sizeof src, "%s/../examples/snapshots/seed002-mode2.snapshot", build_dir());
    snprintf(box, cap, "%s/box.snapshot", dir);
    char *text = read_all(src);
    cr_assert(text, "%s", src);
    char *p = strstr(text, "Committed_AS:    8625360 kB");
    cr_assert(p);
    memcpy(p, committed, 27);
    FILE *f = fopen(box, "w");
    fputs(text, f);
    fclose(f);
    free(text);
}

Test(shmem, strict_box_refuses_fallocate_with_enospc)
{
    for (int via = 0; via < 2; via++) {
        char *dir = test_dir("shm-strict");
        char box[4200], opt[4300];
        /* 100 MiB below CommitLimit: a small program's reserves are about nothing */
        strict_box(dir, box, sizeof box, "Committed_AS:   11959460 kB");
        snprintf(opt, sizeof opt, "OVERSHIM_OPTIONS=simulate=%s", box);
        char *env[] = {opt, NULL};
        char *argv[] = {(char *)prog("shmem"), "400", via ? "syscall" : "x", NULL};
        struct run r;
        run_cmd(&r, argv, env, dir, 1, 30);
        cr_expect_eq(r.status, 1, "%s %s", r.out, r.err);
        cr_expect(strstr(r.out, "fallocate 400 MiB: No space left on device"), "%s", r.out);
        struct jval *ev[MAX_EVENTS];
        int n = events_in(dir, ev);
        const struct jval *e = json_event(ev, n, "enomem");
        cr_assert(e, "a report");
        cr_expect_str_eq(json_str(e, "call.name"), "fallocate");
        cr_expect_str_eq(json_str(e, "call.errno"), "ENOSPC");
        cr_expect_eq(json_int(e, "call.args.charge", 0), 400ll << 20);
        cr_expect_eq(json_at(e, "call.args.via_syscall")->boolean, via);
        cr_expect_str_eq(json_str(e, "verdict.cause"), "overcommit_never");
        cr_expect_str_eq(json_str(e, "region.kind"), "shared_memory");
        cr_expect_eq(json_at(e, "simulated")->boolean, 1);
        for (int k = 0; k < n; k++) json_free(ev[k]);
        run_free(&r);
        free(dir);
    }
}

/* On such a box ZGC's 256 MiB heap does not fit, the rest of the JVM does. */
Test(shmem, zgc_refused_under_a_strict_snapshot, .timeout = 120)
{
    /* JDK 11's ZGC (experimental there) sizes its memfd with ftruncate and commits by faulting
     * it in, which no wrapper sees (README, limits); fallocate came with JDK 14 */
    int jm = java_major();
    if (jm < 14) cr_skip_test("this JDK's ZGC commits its heap by page faults, not fallocate");
    /* JDK 24+ (generational ZGC only) started on the strict box in the matrix's sid chroot: how it
     * commits its initial heap there is not examined yet (README, limits) */
    if (jm >= 24) cr_skip_test("JDK %d's ZGC: its initial commit under a strict box is not examined yet", jm);
    char *dir = test_dir("shm-zgc");
    char box[4200];
    /* about 150 MiB of room for a JVM after its user reserve (VmSize/32, its address space is large) */
    strict_box(dir, box, sizeof box, "Committed_AS:   11121436 kB");
    char opt[4300];
    snprintf(opt, sizeof opt, "OVERSHIM_OPTIONS=simulate=%s", box);
    char *env[] = {opt, NULL};
    char *argv[] = {"java", "-XX:+UnlockExperimentalVMOptions", "-XX:+UseZGC", "-Xms256m", "-Xmx256m", "-version", NULL};
    struct run r;
    run_cmd(&r, argv, env, dir, 1, 100);
    cr_expect_eq(r.status, 1, "%s %s", r.out, r.err);
    cr_expect(strstr(r.out, "Failed to commit memory (No space left on device)") ||
                  strstr(r.err, "Failed to commit memory (No space left on device)"),
              "%s %s", r.out, r.err);
    struct jval *ev[MAX_EVENTS];
    int n = events_in(dir, ev);
    const struct jval *e = json_event(ev, n, "enomem");
    cr_assert(e, "a report");
    cr_expect_str_eq(json_str(e, "call.name"), "fallocate");
    cr_expect_eq(json_at(e, "call.args.via_syscall")->boolean, 1, "ZGC calls syscall(SYS_fallocate)");
    cr_expect_eq(json_int(e, "call.args.charge", 0), 256ll << 20, "the initial heap in one fallocate");
    cr_expect_str_eq(json_str(e, "call.errno"), "ENOSPC");
    cr_expect_str_eq(json_str(e, "verdict.cause"), "overcommit_never");
    cr_expect_str_eq(json_str(e, "region.kind"), "java_heap");
    cr_expect_str_eq(json_str(e, "region.gc"), "Z");
    for (int k = 0; k < n; k++) json_free(ev[k]);
    run_free(&r);
    free(dir);
}

/* glibc's arenas, measured from smaps at summary time (the wrappers never see them):
 * four threads' arenas of 20 MB resident each; MALLOC_ARENA_MAX=1 leaves only the main
 * arena (brk), and the remedy goes. */
Test(shmem, glibc_arenas_at_summary_and_their_remedy)
{
    for (int k = 0; k < 2; k++) {
        char *dir = test_dir("arenas");
        char *argv[] = {(char *)prog("arenas"), "4", NULL};
        char one[] = "MALLOC_ARENA_MAX=1";
        char *env[] = {one, NULL};
        struct run r;
        run_cmd(&r, argv, k ? env : NULL, dir, 1, 30);
        cr_expect(strstr(r.out, "summary: 0"), "%s %s", r.out, r.err);
        struct jval *ev[MAX_EVENTS];
        int n = events_in(dir, ev);
        const struct jval *s = json_event(ev, n, "summary");
        cr_assert(s);
        const char *log = find_file(dir, "overshim_pid", ".log");
        char *text = log ? read_all(log) : NULL;
        if (!k) {
            cr_expect_geq(json_int(s, "regions.glibc_arenas.heaps", 0), 4, "one arena a thread (8 x cores allows it)");
            cr_expect_geq(json_int(s, "regions.glibc_arenas.resident_bytes", 0), 70ll << 20);
            cr_expect_eq(json_at(s, "regions.arenas_dominate")->boolean, 1);
            cr_expect(text && strstr(text, "MALLOC_ARENA_MAX=2"), "%s", text);
        } else {
            cr_expect_leq(json_int(s, "regions.glibc_arenas.heaps", 0), 0, "MALLOC_ARENA_MAX=1: the main arena only");
            cr_expect(!text || !strstr(text, "MALLOC_ARENA_MAX=2"), "%s", text);
        }
        free(text);
        for (int i = 0; i < n; i++) json_free(ev[i]);
        run_free(&r);
        free(dir);
    }
}

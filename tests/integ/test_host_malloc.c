/* Issue 11 (continued from test_host.c): every malloc-family call that takes from
 * glibc's tcache, the sized frees, and the start-up warning about definitions ahead of
 * the shim. */
#include <gnu/libc-version.h>
#include <unistd.h>

#include "common.h"

/* ---- 8. every entry point that can take from glibc's tcache ------------------- */

/* The malloc fast path has two forms (shim/interpose_malloc.c): the TLS block at a
 * fixed offset from the thread pointer, where the program has no TLS of its own (refuse),
 * and the offset from the GOT elsewhere (refuse_tls: the same source with a TLS variable
 * of its own). Every tcache test runs both programs. */
static const char *const heap_progs[] = {"refuse", "refuse_tls"};
#define EACH_HEAP_PROG(p) for (const char *const *p = heap_progs; p < heap_progs + 2; p++)

/* The summary's malloc path (process.malloc_fast_path), or "(none)". */
static void summary_fast_path(struct jval **ev, int n, char *path, size_t cap)
{
    const struct jval *sum = json_event(ev, n, "summary");
    const char *fp = sum ? json_str(sum, "process.malloc_fast_path") : NULL;
    snprintf(path, cap, "%s", fp ? fp : "(none)");
}

/* PROGRAM small-heap 20 TAKER [FREER] (tests/progs/refuse.c): the malloc NULLs the
 * shim reported, of the 20 the program saw; with PATH, the summary's malloc path. */
static int small_heap_in(const char *program, const char *taker, const char *freer, char *path, size_t cap,
                         char *extra_env)
{
    char *dir = test_dir("tcache");
    char *argv[] = {(char *)prog(program), "small-heap", "20", (char *)taker, (char *)freer, NULL};
    char opt[] = "OVERSHIM_OPTIONS=report_at_exit=1";
    char *env[] = {opt, extra_env, NULL};
    struct run r;
    run_cmd(&r, argv, env, dir, 1, 120);
    cr_assert_eq(r.status, 0, "%s small-heap %s %s: exit %d: %s %s", program, taker, freer ? freer : "", r.status,
                 r.out, r.err);
    cr_expect(strstr(r.out, ", 20 refused") != NULL, "%s", r.out);
    struct jval *ev[MAX_EVENTS];
    int n = events_in(dir, ev), mallocs = 0;
    for (int i = 0; i < n; i++) {
        const char *k = json_str(ev[i], "event"), *name = json_str(ev[i], "call.name");
        if ((!strcmp(k, "enomem") || !strcmp(k, "enomem_brief")) && name && !strcmp(name, "malloc")) mallocs++;
    }
    if (path) summary_fast_path(ev, n, path, cap);
    for (int i = 0; i < n; i++) json_free(ev[i]);
    run_free(&r);
    free(dir);
    return mallocs;
}

static int small_heap_reported(const char *program, const char *taker, const char *freer)
{
    return small_heap_in(program, taker, freer, NULL, 0, NULL);
}

/* The taking call, once with 64-byte blocks and once with bin 0 (8-byte requests). */
static void taker(const char *name, int tiny_only)
{
    char tiny[64];
    snprintf(tiny, sizeof tiny, "%s-tiny", name);
    EACH_HEAP_PROG(p) {
        if (!tiny_only)
            cr_expect_eq(small_heap_reported(*p, name, NULL), 20, "%s: %s took from the tcache unseen", *p, name);
        cr_expect_eq(small_heap_reported(*p, tiny, NULL), 20, "%s: %s took from bin 0 unseen", *p, tiny);
    }
}

Test(host, tcache_taken_by_malloc, .timeout = 120) { taker("malloc", 0); }
Test(host, tcache_taken_by_realloc_null, .timeout = 120) { taker("realloc", 0); }
Test(host, tcache_taken_by_reallocarray_null, .timeout = 120) { taker("reallocarray", 0); }
Test(host, tcache_taken_by_calloc, .timeout = 120) { taker("calloc", 0); }
Test(host, tcache_taken_by_posix_memalign, .timeout = 120) { taker("posix_memalign", 0); }
Test(host, tcache_taken_by_aligned_alloc, .timeout = 120) { taker("aligned_alloc", 0); }
Test(host, tcache_taken_by_memalign, .timeout = 120) { taker("memalign", 0); }
Test(host, tcache_taken_by_valloc, .timeout = 120) { taker("valloc", 0); }
Test(host, tcache_taken_by_pvalloc_zero, .timeout = 120) { taker("pvalloc", 1); }

/* Requests of 1025 to 1032 bytes are the last bin's too (chunks of 1040): a malloc or
 * calloc of 1030 takes from the bin whose blocks of 1020 were freed, and must lower the
 * shadow (it did not when the shim's limit was 1024: 7 NULLs of 1020-byte mallocs were
 * then tail calls into an empty bin). */
Test(host, tcache_taken_past_1024, .timeout = 120)
{
    EACH_HEAP_PROG(p) {
        cr_expect_eq(small_heap_reported(*p, "malloc-big", NULL), 20, "%s: malloc(1030) took unseen", *p);
        cr_expect_eq(small_heap_reported(*p, "calloc-big", NULL), 20, "%s: calloc(1, 1030) took unseen", *p);
    }
}

/* Whether the shim trusts this glibc's tcache (shim/tcache.c: 2.26 to 2.41, its tcache
 * untouched by GLIBC_TUNABLES); elsewhere it checks every result and misses nothing. */
static int shim_trusts_tcache(void)
{
    int major = 0, minor = 0;
    if (sscanf(gnu_get_libc_version(), "%d.%d", &major, &minor) != 2) return 0;
    int v = major * 100 + minor;
    const char *t = getenv("GLIBC_TUNABLES");
    return v >= 226 && v <= 241 && !(t && strstr(t, "tcache"));
}

/* The control: blocks taken where no wrapper sees it (glibc's __libc_malloc) are
 * missed, 7 NULLs at most, so the runs above would see a wrapper that forgot. Where the
 * shim does not trust the tcache (glibc 2.43) nothing is missed. */
Test(host, tcache_taken_unseen_is_missed, .timeout = 120)
{
    int trusted = shim_trusts_tcache();
    EACH_HEAP_PROG(p) {
        int n = small_heap_reported(*p, "libc", NULL);
        if (trusted) cr_expect(n < 20 && n >= 13, "%s: %d of 20 reported", *p, n);
        else cr_expect_eq(n, 20, "%d of 20 reported (glibc %s: every result checked)", n, gnu_get_libc_version());
        n = small_heap_reported(*p, "libc-tiny", NULL);
        if (trusted) cr_expect(n < 20 && n >= 13, "%s: %d of 20 reported", *p, n);
        else cr_expect_eq(n, 20, "%d of 20 reported (glibc %s: every result checked)", n, gnu_get_libc_version());
    }
}

/* Which path the shim took, from the summary: the fixed offset for a program without
 * TLS of its own, the GOT's for one with it (its block comes first); no tail calls where
 * the tcache is not trusted. A second TLS variable in the shim, or a glibc that placed the block
 * elsewhere, would show as "tcache" for refuse. */
Test(host, tcache_fast_path_by_tls_layout, .timeout = 120)
{
    int trusted = shim_trusts_tcache();
    char path[64];
    small_heap_in("refuse", "malloc", NULL, path, sizeof path, NULL);
    cr_expect_str_eq(path, trusted ? "tcache_fixed_tls" : "checked", "refuse (no TLS of its own)");
    small_heap_in("refuse_tls", "malloc", NULL, path, sizeof path, NULL);
    cr_expect_str_eq(path, trusted ? "tcache" : "checked", "refuse_tls (TLS of its own)");
}

/* With an audit module (LD_AUDIT) glibc sets up TLS before the preloads, and the shim's
 * block comes out of the static TLS surplus (1,792 bytes with one auditor on glibc 2.36
 * and 2.43): a block too large for it keeps the program from starting at all ("cannot
 * allocate memory in static TLS block"; the 2,128-byte block of the first fixed-offset
 * path did). The program starts, the shim misses nothing, and it takes the GOT's path
 * (the block is not at the fixed offset). */
Test(host, starts_under_an_audit_module, .timeout = 120)
{
    char audit[4200];
    snprintf(audit, sizeof audit, "LD_AUDIT=%s", prog("libaudit_noop.so"));
    char path[64];
    int n = small_heap_in("refuse", "malloc", NULL, path, sizeof path, audit);
    cr_expect_eq(n, 20, "%d of 20 reported under LD_AUDIT", n);
    cr_expect_str_eq(path, shim_trusts_tcache() ? "tcache" : "checked", "under LD_AUDIT");
}

/* ... and it leaves there what glibc reserves for libraries with initial-exec TLS that
 * the program dlopens later (512 bytes, glibc.rtld.optional_static_tls): with the table
 * for requests up to 256 bytes (a 1,360-byte block) 480 were left. */
Test(host, leaves_the_static_tls_reserve_under_an_audit_module, .timeout = 60)
{
    char audit[4200], lib[4200];
    snprintf(audit, sizeof audit, "LD_AUDIT=%s", prog("libaudit_noop.so"));
    snprintf(lib, sizeof lib, "%s", prog("libie_tls512.so"));
    char opt[] = "OVERSHIM_OPTIONS=log=none:json=none";
    char *env[] = {opt, audit, NULL};
    char *argv[] = {(char *)prog("dlopen_one"), lib, NULL};
    struct run r;
    run_cmd(&r, argv, env, NULL, 0, 60);
    cr_assert_eq(r.status, 0, "without the shim: %s %s", r.out, r.err);
    run_free(&r);
    run_cmd(&r, argv, env, NULL, 1, 60);
    cr_expect_eq(r.status, 0, "under the shim: %s %s", r.out, r.err);
    run_free(&r);
}

/* free_sized and free_aligned_sized raise the shadow exactly as free does: with the
 * tcache then drained unseen, each misses just as many NULLs as free (a free that did
 * not count would miss none, one that counted past glibc's 7 would miss more). */
Test(host, sized_frees_keep_the_tcache_shadow_as_free, .timeout = 120)
{
    EACH_HEAP_PROG(p) {
        int ref = small_heap_reported(*p, "libc", "free");
        if (shim_trusts_tcache()) cr_expect_lt(ref, 20, "%s", *p);
        else cr_expect_eq(ref, 20, "glibc %s: every result checked", gnu_get_libc_version());
        cr_expect_eq(small_heap_reported(*p, "libc", "free_sized"), ref, "%s: free_sized", *p);
        cr_expect_eq(small_heap_reported(*p, "libc", "free_aligned_sized"), ref, "%s: free_aligned_sized", *p);
        int tiny = small_heap_reported(*p, "libc-tiny", "free");
        cr_expect_eq(small_heap_reported(*p, "libc-tiny", "free_sized"), tiny, "%s", *p);
        cr_expect_eq(small_heap_reported(*p, "malloc", "free_sized"), 20, "%s", *p);
        cr_expect_eq(small_heap_reported(*p, "malloc", "free_aligned_sized"), 20, "%s", *p);
    }
}

/* ... and the malloc-live counts: every block freed through them, of every tcache
 * size, larger heap blocks and mmapped ones, leaves the count where free would. */
Test(host, sized_frees_keep_malloc_live_counts)
{
    char e0[] = "OVERSHIM_OPTIONS=log=none:json=none";
    char *env[] = {e0, NULL};
    char *argv[] = {(char *)prog("sized_free"), NULL};
    struct run r;
    run_cmd(&r, argv, env, NULL, 1, 60);
    cr_expect_eq(r.status, 0, "%s %s", r.out, r.err);
    cr_expect(strstr(r.out, ", 0 wrong") != NULL, "%s", r.out);
    run_free(&r);
}

/* ---- 10. the warning about definitions ahead of the shim -------------------- */

static void no_warning(char *const argv[])
{
    struct run r;
    run_cmd(&r, argv, NULL, NULL, 1, 60);
    cr_expect_eq(r.status, 0, "%s: %s", argv[0], r.err);
    cr_expect(strstr(r.err, "overshim") == NULL, "%s warned: %s", argv[0], r.err);
    run_free(&r);
}

/* Non-PIE programs that take malloc's address hold a canonical PLT entry (an
 * undefined malloc with a value): not a definition, and no warning. */
Test(host, canonical_plt_entries_start_silently, .timeout = 120)
{
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "readelf --dyn-syms -W '%s' | awk '$8 ~ /^malloc@/ && $7 == \"UND\" && $2 !~ /^0+$/'",
             prog("plt_canonical"));
    FILE *p = popen(cmd, "r");
    char line[512] = "";
    cr_expect(fgets(line, sizeof line, p) != NULL, "plt_canonical has no canonical PLT entry for malloc");
    pclose(p);
    char *a[] = {(char *)prog("plt_canonical"), NULL};
    no_warning(a);
    char *py[] = {"/usr/bin/python3", "-c", "import json; print(json.dumps([1]))", NULL};
    no_warning(py);
    char *node[] = {"node", "-e", "console.log(Buffer.alloc(1 << 20).length)", NULL};
    no_warning(node);
}

/* argv with LD_PRELOAD=preload: the warning `want` on stderr, the program unchanged. */
static void warns(char *const argv[], const char *preload, const char *want)
{
    char pre[8400];
    snprintf(pre, sizeof pre, "LD_PRELOAD=%s", preload);
    char *env[] = {pre, NULL};
    struct run r;
    run_cmd(&r, argv, env, NULL, 0, 60);
    cr_expect_eq(r.status, 0, "%s: %s", argv[0], r.err);
    cr_expect(strstr(r.err, want) != NULL, "%s with %s: want '%s': %s", argv[0], preload, want, r.err);
    run_free(&r);
}

/* A real definition ahead of the shim still warns: the program's own malloc, and an
 * allocator preloaded before the shim, also in a program with a canonical PLT entry
 * (the question then goes past it, to the first real definition). */
Test(host, real_definitions_ahead_still_warn, .timeout = 120)
{
    char *own[] = {(char *)prog("own_malloc"), NULL};
    struct run r;
    run_cmd(&r, own, NULL, NULL, 1, 30);
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.err, "overshim: malloc is defined by the program ahead of overshim"), "%s", r.err);
    run_free(&r);
    static const char *const libs[] = {"/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4",
                                       "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"};
    char *py[] = {"/usr/bin/python3", "-c", "print(1)", NULL};
    char *pc[] = {(char *)prog("plt_canonical"), NULL};
    for (size_t i = 0; i < 2; i++) {
        if (access(libs[i], R_OK) != 0) continue;
        char pre[8400], want[600];
        snprintf(pre, sizeof pre, "%s %s", libs[i], shim_path());
        snprintf(want, sizeof want, "overshim: malloc is defined by %s ahead of overshim", libs[i]);
        warns(py, pre, want);
        warns(pc, pre, want);
        snprintf(pre, sizeof pre, "%s %s", shim_path(), libs[i]); /* the shim first: silent */
        char e[8500];
        snprintf(e, sizeof e, "LD_PRELOAD=%s", pre);
        char *env[] = {e, NULL};
        run_cmd(&r, py, env, NULL, 0, 60);
        cr_expect(strstr(r.err, "overshim") == NULL, "%s", r.err);
        run_free(&r);
    }
}

/* ---- 9. under valgrind -------------------------------------------------------- */

/* churn 40 (threads that map and malloc: stacks recorded), or ls -la /usr/bin (realloc,
 * sorting, many small blocks) under valgrind's TOOL with the shim (after valgrind's own
 * preloads) and the project's suppressions: valgrind's exit status (99 when it reported
 * an error), its log in *log; the summary's malloc path in path. */
static int under_valgrind(const char *tool, int ls, char **log, char *path, size_t cap)
{
    char *dir = test_dir("valgrind");
    char supp[4400], logopt[4400], outopt[4400];
    snprintf(supp, sizeof supp, "--suppressions=%s/../docs/valgrind.supp", build_dir());
    snprintf(logopt, sizeof logopt, "--log-file=%s/vg.log", dir);
    snprintf(outopt, sizeof outopt, "--%s-out-file=/dev/null", tool);
    char toolopt[64];
    snprintf(toolopt, sizeof toolopt, "--tool=%s", tool);
    int out_file = !strcmp(tool, "callgrind") || !strcmp(tool, "massif");
    char *argv[] = {"valgrind", toolopt, supp, logopt, "--error-exitcode=99", out_file ? outopt : "--num-callers=12",
                    ls ? "/bin/ls" : (char *)prog("churn"), ls ? "-la" : "40", ls ? "/usr/bin" : NULL, NULL};
    char opt[] = "OVERSHIM_OPTIONS=report_at_exit=1";
    char *env[] = {opt, NULL};
    struct run r;
    run_cmd(&r, argv, env, dir, 1, 240);
    char lp[4400];
    snprintf(lp, sizeof lp, "%s/vg.log", dir);
    *log = read_all(lp);
    cr_expect(strstr(r.out, ls ? " ls\n" : "40 threads") != NULL, "under %s: %.300s %s", tool, r.out, r.err);
    struct jval *ev[MAX_EVENTS];
    int n = events_in(dir, ev);
    summary_fast_path(ev, n, path, cap);
    for (int i = 0; i < n; i++) json_free(ev[i]);
    int st = r.status;
    run_free(&r);
    free(dir);
    return st;
}

/* memcheck (and massif, helgrind, drd, dhat) put their own malloc in place of libc's:
 * there is no chunk header before a block (memcheck's redzone is there) and no tcache.
 * The shim must see that (sys/vgdetect.h) and check every result, reading no header:
 * it read 8 bytes before blocks, 3 errors on ls, before. callgrind leaves glibc's malloc
 * (make bench counts the fast path under it). */
Test(host, valgrind_tools_see_no_header_reads, .timeout = 600)
{
    if (system("valgrind --version >/dev/null 2>&1") != 0) cr_skip_test("no valgrind");
    char path[64], *log = NULL;
    for (int ls = 0; ls < 2; ls++) {
        int st = under_valgrind("memcheck", ls, &log, path, sizeof path);
        cr_expect_eq(st, 0, "memcheck reported errors in %s under the shim: %s", ls ? "ls" : "churn", log ? log : "(no log)");
        cr_expect(log && strstr(log, "ERROR SUMMARY: 0 errors"), "%s", log ? log : "(no log)");
        cr_expect_str_eq(path, "checked", "under memcheck");
        free(log);
    }
    int st = under_valgrind("massif", 1, &log, path, sizeof path);
    cr_expect_eq(st, 0, "%s", log ? log : "(no log)");
    cr_expect_str_eq(path, "checked", "under massif");
    free(log);
    st = under_valgrind("callgrind", 1, &log, path, sizeof path);
    cr_expect_eq(st, 0, "%s", log ? log : "(no log)");
    cr_expect_str_eq(path, shim_trusts_tcache() ? "tcache_fixed_tls" : "checked", "under callgrind");
    free(log);
}

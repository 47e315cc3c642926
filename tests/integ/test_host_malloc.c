/* Issue 11 (continued from test_host.c): every malloc-family call that takes from
 * glibc's tcache, the sized frees, and the start-up warning about definitions ahead of
 * the shim. */
#include <gnu/libc-version.h>
#include <unistd.h>

#include "common.h"

/* ---- 8. every entry point that can take from glibc's tcache ------------------- */

/* refuse small-heap 20 TAKER [FREER] (tests/progs/refuse.c): the malloc NULLs the
 * shim reported, of the 20 the program saw. */
static int small_heap_reported(const char *taker, const char *freer)
{
    char *dir = test_dir("tcache");
    char *argv[] = {(char *)prog("refuse"), "small-heap", "20", (char *)taker, (char *)freer, NULL};
    struct run r;
    run_cmd(&r, argv, NULL, dir, 1, 120);
    cr_assert_eq(r.status, 0, "small-heap %s %s: exit %d: %s %s", taker, freer ? freer : "", r.status, r.out, r.err);
    cr_expect(strstr(r.out, ", 20 refused") != NULL, "%s", r.out);
    struct jval *ev[MAX_EVENTS];
    int n = events_in(dir, ev), mallocs = 0;
    for (int i = 0; i < n; i++) {
        const char *k = json_str(ev[i], "event"), *name = json_str(ev[i], "call.name");
        if ((!strcmp(k, "enomem") || !strcmp(k, "enomem_brief")) && name && !strcmp(name, "malloc")) mallocs++;
    }
    for (int i = 0; i < n; i++) json_free(ev[i]);
    run_free(&r);
    free(dir);
    return mallocs;
}

/* The taking call, once with 64-byte blocks and once with bin 0 (8-byte requests). */
static void taker(const char *name, int tiny_only)
{
    char tiny[64];
    snprintf(tiny, sizeof tiny, "%s-tiny", name);
    if (!tiny_only) cr_expect_eq(small_heap_reported(name, NULL), 20, "%s took from the tcache unseen", name);
    cr_expect_eq(small_heap_reported(tiny, NULL), 20, "%s took from bin 0 unseen", tiny);
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
    int n = small_heap_reported("libc", NULL);
    if (trusted) cr_expect(n < 20 && n >= 13, "%d of 20 reported", n);
    else cr_expect_eq(n, 20, "%d of 20 reported (glibc %s: every result checked)", n, gnu_get_libc_version());
    n = small_heap_reported("libc-tiny", NULL);
    if (trusted) cr_expect(n < 20 && n >= 13, "%d of 20 reported", n);
    else cr_expect_eq(n, 20, "%d of 20 reported (glibc %s: every result checked)", n, gnu_get_libc_version());
}

/* free_sized and free_aligned_sized raise the shadow exactly as free does: with the
 * tcache then drained unseen, each misses just as many NULLs as free (a free that did
 * not count would miss none, one that counted past glibc's 7 would miss more). */
Test(host, sized_frees_keep_the_tcache_shadow_as_free, .timeout = 120)
{
    int ref = small_heap_reported("libc", "free");
    if (shim_trusts_tcache()) cr_expect_lt(ref, 20);
    else cr_expect_eq(ref, 20, "glibc %s: every result checked", gnu_get_libc_version());
    cr_expect_eq(small_heap_reported("libc", "free_sized"), ref, "free_sized");
    cr_expect_eq(small_heap_reported("libc", "free_aligned_sized"), ref, "free_aligned_sized");
    int tiny = small_heap_reported("libc-tiny", "free");
    cr_expect_eq(small_heap_reported("libc-tiny", "free_sized"), tiny);
    cr_expect_eq(small_heap_reported("malloc", "free_sized"), 20);
    cr_expect_eq(small_heap_reported("malloc", "free_aligned_sized"), 20);
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

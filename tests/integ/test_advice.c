/* Issue 14: the words around a verdict, from real programs. Remedies for a C, a Python, a
 * node and a Java program (fork, thread, mmap, malloc) in their own terms and none in
 * another runtime's; the JVM's own flags; the fork bound run as a parent of that size;
 * explain as root and as nobody against overshim run's outcome; the command's exit codes;
 * the journal's fields, read back from a socket of the test's own. Real refusals only of
 * the kinds safe on a shared machine (RLIMIT_*, RLIMIT_NPROC as uid 65534, a request above
 * RAM+swap); the rest under the simulator. */
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common.h"

static const char *cli(void)
{
    static char p[4096];
    snprintf(p, sizeof p, "%s/overshim", build_dir());
    return p;
}

static const char *src(const char *rel)
{
    static char p[4][4096];
    static int k;
    char *b = p[k++ & 3];
    if (!realpath(rel, b)) snprintf(b, 4096, "%s", rel);
    return b;
}

static long long ram_swap_pages(void) { return (meminfo_kb("MemTotal") + meminfo_kb("SwapTotal")) / 4; }

static int mode0(void)
{
    FILE *f = fopen("/proc/sys/vm/overcommit_memory", "r");
    int m = f ? fgetc(f) - '0' : -1;
    if (f) fclose(f);
    return m == 0;
}

struct rep {
    struct run r;
    struct jval *ev[MAX_EVENTS];
    int n;
    char *dir, *log;
};

static void rep_run(struct rep *o, const char *name, char *const argv[], char *const env[], int preload, int timeout)
{
    memset(o, 0, sizeof *o);
    o->dir = test_dir(name);
    run_cmd(&o->r, argv, env, o->dir, preload, timeout);
    const char *j = find_file(o->dir, "overshim_pid", ".jsonl");
    if (j) {
        char err[256];
        o->n = json_lines(j, o->ev, MAX_EVENTS, err, sizeof err);
        cr_assert_geq(o->n, 0, "%s: %s", j, err);
    }
    const char *l = find_file(o->dir, "overshim_pid", ".log");
    o->log = l ? read_all(l) : NULL;
}

static void rep_free(struct rep *o)
{
    for (int i = 0; i < o->n; i++) json_free(o->ev[i]);
    run_free(&o->r);
    free(o->log);
    free(o->dir);
}

/* The first enomem event for a call (NULL: any). */
static const struct jval *event_for(const struct rep *o, const char *call)
{
    for (int i = 0; i < o->n; i++) {
        const char *k = json_str(o->ev[i], "event"), *c = json_str(o->ev[i], "call.name");
        if (k && !strcmp(k, "enomem") && (!call || (c && !strcmp(c, call)))) return o->ev[i];
    }
    return NULL;
}

static void remedies_of(const struct jval *e, char *out, size_t cap)
{
    out[0] = 0;
    const struct jval *r = json_at(e, "verdict.remedies");
    for (size_t i = 0; r && i < r->n; i++) {
        strncat(out, r->items[i]->str, cap - strlen(out) - 2);
        strncat(out, "\n", cap - strlen(out) - 1);
    }
}

enum { C_PROG, PY, NODE, JAVA };
static const char *const foreign[4][8] = {
    [C_PROG] = {NULL},
    [PY] = {"python", "multiprocessing", "threading.", "ThreadPoolExecutor", "concurrent.futures", NULL},
    [NODE] = {"node", "worker_threads", "UV_THREADPOOL", "child_process", NULL},
    [JAVA] = {"java", "-Xs", "-Xm", "-XX", "JVM", NULL},
};

/* No flag or knob of another runtime; every term keyed; the runtime as the report names it. */
static void check_words(const struct jval *e, int who, const char *what)
{
    cr_assert(e, "%s: no enomem event", what);
    char all[16384];
    remedies_of(e, all, sizeof all);
    cr_expect(all[0], "%s: no remedies", what);
    for (int rt = 0; rt < 4; rt++) {
        if (rt == who) continue;
        for (int i = 0; foreign[rt][i]; i++)
            cr_expect(!strstr(all, foreign[rt][i]), "%s: '%s' in:\n%s", what, foreign[rt][i], all);
    }
    static const char *const names[4] = {"native", "python", "node", "jvm"};
    cr_expect_str_eq(json_str(e, "verdict.runtime"), names[who], "%s", what);
    const struct jval *t = json_at(e, "verdict.terms");
    cr_expect(t && t->n > 0, "%s: terms", what);
    for (size_t i = 0; t && i < t->n; i++) {
        const char *k = json_str(t->items[i], "key");
        cr_expect(k && k[0], "%s: term %zu has no key", what, i);
    }
}

static int has_remedy(const struct jval *e, const char *needle)
{
    char all[16384];
    remedies_of(e, all, sizeof all);
    return strstr(all, needle) != NULL;
}

#define NOBODY "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"

/* --- a C program ------------------------------------------------------------ */

Test(advice, c_program_fork_thread_mmap_malloc, .timeout = 120)
{
    if (getuid() != 0) cr_skip_test("needs root to become uid 65534 for RLIMIT_NPROC");
    if (!mode0()) cr_skip_test("vm.overcommit_memory is not 0 here");
    struct rep o;
    char *fork_argv[] = {(char *)prog("advice"), "fork-nproc", NULL};
    rep_run(&o, "c-fork", fork_argv, NULL, 1, 60);
    cr_expect_eq(o.r.status, 1, "%s", o.r.out);
    const struct jval *e = event_for(&o, "fork");
    check_words(e, C_PROG, "C fork");
    cr_expect_str_eq(json_str(e, "verdict.cause"), "thread_limit");
    cr_expect(has_remedy(e, "fewer processes or a smaller pool"));
    cr_expect(strstr(o.r.err, "SUMMARY: overshim: thread_limit fork: ") && !strstr(o.r.err, "0 bytes"),
              "tasks, not bytes: %s", o.r.err);
    cr_expect(o.log && strstr(o.log, "(the main thread)") && !strstr(o.log, "created by"), "%s", o.log);
    cr_expect(o.log && strstr(o.log, "ARITHMETIC (tasks;") && !strstr(o.log, "tasks of 4 KiB"), "%s", o.log);
    cr_expect_eq(json_at(e, "thread.main")->boolean, 1);
    rep_free(&o);

    char *thr_argv[] = {(char *)prog("refuse"), "nproc", "1", NULL};
    rep_run(&o, "c-thread", thr_argv, NULL, 1, 60);
    check_words(event_for(&o, "pthread_create"), C_PROG, "C thread");
    cr_expect(has_remedy(event_for(&o, "pthread_create"), "fewer threads"));
    rep_free(&o);

    char pages[32];
    snprintf(pages, sizeof pages, "%lld", ram_swap_pages() + 1);
    char *mm_argv[] = {(char *)prog("refuse"), "mmap-pages", pages, NULL};
    rep_run(&o, "c-mmap", mm_argv, NULL, 1, 60);
    e = event_for(&o, "mmap");
    check_words(e, C_PROG, "C mmap");
    cr_expect(has_remedy(e, "MAP_NORESERVE"), "a reservation may be MAP_NORESERVE");
    cr_expect(o.log && strstr(o.log, "= MAP_FAILED (errno ENOMEM)"), "%s", o.log);
    rep_free(&o);

    char *ma_argv[] = {(char *)prog("refuse"), "malloc-pages", pages, NULL};
    rep_run(&o, "c-malloc", ma_argv, NULL, 1, 60);
    e = event_for(&o, "malloc");
    check_words(e, C_PROG, "C malloc");
    cr_expect(o.log && strstr(o.log, "= NULL (errno ENOMEM)") && !strstr(o.log, "= -1 ENOMEM"),
              "malloc returns NULL: %s", o.log);
    rep_free(&o);
}

/* The arithmetic's heading names what its numbers count: pages of a size, huge pages of
 * theirs, and mappings or tasks without one; the sums read left to right. */
Test(advice, units_and_sums_in_the_text, .timeout = 60)
{
    struct rep o;
    char opt[] = "OVERSHIM_OPTIONS=max_map_count=200";
    char *env[] = {opt, NULL};
    char *mc[] = {(char *)prog("refuse"), "map-count", NULL};
    rep_run(&o, "words-maps", mc, env, 1, 60);
    const struct jval *e = event_for(&o, "mmap");
    cr_assert(e, "%s", o.r.err);
    cr_expect_str_eq(json_str(e, "verdict.cause"), "max_map_count");
    cr_expect_eq(json_int(e, "verdict.committed_pages", 0) - json_int(e, "verdict.limit_pages", 0),
                 json_int(e, "verdict.shortfall_pages", -1), "in use - limit = short");
    cr_expect(o.log && strstr(o.log, "ARITHMETIC (mappings; ") && !strstr(o.log, "mappings of 4 KiB") &&
                  strstr(o.log, "more than vm.max_map_count 200  ->  ENOMEM; short by 1 mapping\n"),
              "%s", o.log);
    rep_free(&o);
    if (meminfo_kb("HugePages_Free") != 0) return;
    char *hp[] = {(char *)prog("advice"), "hugetlb", NULL};
    rep_run(&o, "words-huge", hp, NULL, 1, 60);
    e = event_for(&o, "mmap");
    cr_assert(e);
    cr_expect_str_eq(json_str(e, "verdict.cause"), "hugetlb");
    char head[64];
    snprintf(head, sizeof head, "ARITHMETIC (huge pages of %lld KiB)", meminfo_kb("Hugepagesize"));
    cr_expect(o.log && strstr(o.log, head) && !strstr(o.log, "huge pages of 4 KiB"), "%s", o.log);
    cr_expect(has_remedy(e, "MAP_NORESERVE"), "a C program's huge pages may be MAP_NORESERVE");
    rep_free(&o);
}

/* A block allocated on one thread and freed on another: the balance, shown for what it is. */
Test(advice, malloc_freed_on_another_thread)
{
    struct rep o;
    char *argv[] = {(char *)prog("advice"), "crossfree", NULL};
    rep_run(&o, "crossfree", argv, NULL, 1, 60);
    const struct jval *e = event_for(&o, "mmap");
    cr_assert(e);
    const struct jval *th = json_at(e, "threads");
    int seen = 0;
    for (size_t i = 0; th && i < th->n; i++) {
        long long in = json_int(th->items[i], "malloc_allocated_bytes", -1);
        long long out = json_int(th->items[i], "malloc_freed_bytes", -1);
        long long net = json_int(th->items[i], "malloc_bytes", 0);
        cr_expect_eq(net, in - out, "net = allocated - freed");
        if (json_at(th->items[i], "main")->boolean) {
            seen = 1;
            cr_expect_gt(out, in, "main freed the other thread's blocks");
        }
    }
    cr_expect(seen);
    cr_expect(o.log && strstr(o.log, "malloc net") && strstr(o.log, "* a thread that freed blocks others allocated"),
              "%s", o.log);
    rep_free(&o);
}

/* --- Python ----------------------------------------------------------------- */

Test(advice, python_fork_thread_mmap_malloc, .timeout = 120)
{
    if (access("/usr/bin/python3", X_OK) != 0) cr_skip_test("no /usr/bin/python3");
    if (getuid() != 0) cr_skip_test("needs root to become uid 65534 for RLIMIT_NPROC");
    if (!mode0()) cr_skip_test("vm.overcommit_memory is not 0 here");
    char pages[32];
    /* 256 MiB above RAM+swap, not one page: glibc falls back to brk when the mmap is refused,
     * and asks brk for the request less the free top of its heap, which the 5.2+ heuristic
     * accepts when that is at most RAM+swap (Python 3.14 on sid got a 24 GiB heap; with
     * bytearray, which filled it, the OOM killer came) */
    snprintf(pages, sizeof pages, "%lld", ram_swap_pages() + 65536);
    static const char *const modes[] = {"fork", "thread", "mmap", "malloc"};
    static const char *const calls[] = {"fork", "pthread_create", "mmap", "malloc"};
    for (int i = 0; i < 4; i++) {
        struct rep o;
        char *argv[] = {"/usr/bin/python3", (char *)src("tests/progs/advice.py"), (char *)modes[i], pages, NULL};
        rep_run(&o, "python", argv, NULL, 1, 60);
        const struct jval *e = event_for(&o, calls[i]);
        check_words(e, PY, modes[i]);
        if (i == 0) cr_expect(has_remedy(e, "multiprocessing"), "Python's own pools");
        if (i == 1) cr_expect(has_remedy(e, "ThreadPoolExecutor"));
        if (i == 2) cr_expect(has_remedy(e, "MAP_NORESERVE"));
        rep_free(&o);
    }
}

/* --- node ------------------------------------------------------------------- */

Test(advice, node_fork_thread_mmap_malloc, .timeout = 120)
{
    if (access("/usr/bin/node", X_OK) != 0) cr_skip_test("no /usr/bin/node (scripts/deps.sh daemons installs nodejs)");
    if (getuid() != 0) cr_skip_test("needs root to become uid 65534 for RLIMIT_NPROC");
    const char *js = src("tests/progs/advice.js");
    struct rep o;
    char *fork_argv[] = {NOBODY, "/usr/bin/node", (char *)js, "fork", NULL};
    rep_run(&o, "node-fork", fork_argv, NULL, 1, 60);
    cr_expect(strstr(o.r.out, "spawn: EAGAIN"), "%s %s", o.r.out, o.r.err);
    const struct jval *e = event_for(&o, "fork");
    if (!e) e = event_for(&o, "posix_spawn"); /* node 24's libuv (sid) starts children with posix_spawn */
    check_words(e, NODE, "node fork");
    cr_expect(has_remedy(e, "child_process"));
    rep_free(&o);

    char *thr_argv[] = {NOBODY, "/usr/bin/node", (char *)js, "thread", NULL};
    rep_run(&o, "node-thread", thr_argv, NULL, 1, 60);
    e = event_for(&o, "pthread_create");
    check_words(e, NODE, "node thread");
    cr_expect(has_remedy(e, "worker_threads"));
    rep_free(&o);

    char wasm[4200], buf[4200];
    snprintf(wasm, sizeof wasm, "ulimit -v 4000000; exec /usr/bin/node '%s' wasm", js);
    char *mm_argv[] = {"sh", "-c", wasm, NULL};
    rep_run(&o, "node-wasm", mm_argv, NULL, 1, 60);
    /* node 24's V8 (sid) retries with smaller reservations until one fits: the refused ones
     * are still reported */
    cr_expect(strstr(o.r.out, "wasm: WebAssembly.Memory(): could not allocate memory") || strstr(o.r.out, "wasm: ok"),
              "%s", o.r.out);
    e = event_for(&o, "mmap64") ? event_for(&o, "mmap64") : event_for(&o, "mmap");
    check_words(e, NODE, "node WebAssembly.Memory");
    cr_expect_str_eq(json_str(e, "verdict.cause"), "rlimit_as");
    cr_expect(has_remedy(e, "RLIMIT_AS counts reservations"));
    rep_free(&o);

    snprintf(buf, sizeof buf, "ulimit -v 2000000; exec /usr/bin/node '%s' buffer 3072", js);
    char *ma_argv[] = {"sh", "-c", buf, NULL};
    rep_run(&o, "node-buffer", ma_argv, NULL, 1, 60);
    e = event_for(&o, "malloc") ? event_for(&o, "malloc") : event_for(&o, "calloc");
    check_words(e, NODE, "node Buffer");
    /* node's exported C++ names, demangled in the report's own stack */
    const char *stack = o.log ? strstr(o.log, "\nSTACK") : NULL;
    const char *end = stack ? strstr(stack, "\nLEDGER") : NULL;
    cr_assert(stack && end, "%s", o.log);
    char *st = strndup(stack, (size_t)(end - stack));
    cr_expect(strstr(st, "node::NodeArrayBufferAllocator::") || strstr(st, "v8::"), "%s", st);
    cr_expect(!strstr(st, "  _ZN"), "no mangled name left: %s", st);
    free(st);
    const struct jval *f0 = json_at(e, "stack.0");
    if (f0 && json_str(f0, "symbol") && !strncmp(json_str(f0, "symbol"), "_Z", 2))
        cr_expect(json_str(f0, "demangled") && strstr(json_str(f0, "demangled"), "::"), "JSON keeps both names");
    rep_free(&o);
}

/* --- Java ------------------------------------------------------------------- */

static const char *classes(void)
{
    static char p[4096];
    snprintf(p, sizeof p, "%s/tests", build_dir());
    return p;
}

static const char *snap(const char *name)
{
    static char p[4][4096];
    static int k;
    char *b = p[k++ & 3];
    snprintf(b, 4096, "%s", src("examples/snapshots"));
    strncat(b, "/", 4095 - strlen(b));
    strncat(b, name, 4095 - strlen(b));
    return b;
}

Test(advice, java_thread_direct_buffer_heap_fork, .timeout = 300)
{
    struct rep o;
    char cmd[4200];
    /* threads of -Xss8m under ulimit -v: -Xss */
    snprintf(cmd, sizeof cmd, "ulimit -v 4000000; exec java -Xmx64m -Xss8m -cp '%s' Advice threads", classes());
    char *thr[] = {"sh", "-c", cmd, NULL};
    /* JDK 11 (bullseye) first has 8 reservations refused under this limit, as many as the
     * default max_reports: the threads' refusals would be brief events only */
    char many[] = "OVERSHIM_OPTIONS=max_reports=64";
    char *many_env[] = {many, NULL};
    rep_run(&o, "java-threads", thr, many_env, 1, 120);
    cr_expect(strstr(o.r.out, "threads started: "), "%s %s", o.r.out, o.r.err);
    const struct jval *e = event_for(&o, "pthread_create");
    check_words(e, JAVA, "java thread");
    cr_expect_str_eq(json_str(e, "verdict.cause"), "rlimit_as");
    cr_expect(has_remedy(e, "java: a smaller -Xss (each Java thread's stack is 8192 KiB now, as -Xss asks)"));
    cr_expect(has_remedy(e, "for 64 more threads"), "room for more than the one thread");
    rep_free(&o);

    /* a direct buffer's malloc under ulimit -d: -XX:MaxDirectMemorySize */
    snprintf(cmd, sizeof cmd, "ulimit -d 1000000; exec java -Xms64m -Xmx2g -cp '%s' Advice direct 1200", classes());
    char *dir[] = {"sh", "-c", cmd, NULL};
    rep_run(&o, "java-direct", dir, NULL, 1, 120);
    e = event_for(&o, "malloc");
    check_words(e, JAVA, "java direct buffer");
    cr_expect_str_eq(json_str(e, "verdict.cause"), "rlimit_data");
    cr_expect(has_remedy(e, "java: -XX:MaxDirectMemorySize="));
    rep_free(&o);

    /* seed 000's heap commit on its CentOS 7 box: -Xms */
    char *heap[] = {(char *)cli(), "run", "--simulate", (char *)snap("seed000-centos7.snapshot"), "--", "java",
                    "-Xms512m", "-Xmx512m", "-XX:+UseG1GC", "-version", NULL};
    rep_run(&o, "java-heap", heap, NULL, 0, 120);
    e = event_for(&o, "mmap64") ? event_for(&o, "mmap64") : event_for(&o, "mmap");
    check_words(e, JAVA, "java heap");
    cr_expect(has_remedy(e, "for the Java heap, -Xms"));
    cr_expect(o.log && strstr(o.log, "= MAP_FAILED (errno ENOMEM)"));
    rep_free(&o);

    /* a FORK child of a 2 GiB heap under strict overcommit: POSIX_SPAWN */
    char *fork[] = {(char *)cli(), "run", "--simulate", (char *)snap("seed002-mode2.snapshot"), "--", "java",
                    "-Xms2g", "-Xmx2g", "-Djdk.lang.Process.launchMechanism=FORK", "-cp", (char *)classes(),
                    "Advice", "fork", NULL};
    rep_run(&o, "java-fork", fork, NULL, 0, 120);
    cr_expect(strstr(o.r.out, "fork: Cannot run program"), "%s", o.r.out);
    e = event_for(&o, "fork");
    check_words(e, JAVA, "java fork");
    cr_expect_str_eq(json_str(e, "verdict.cause"), "overcommit_never");
    cr_expect(has_remedy(e, "launchMechanism=POSIX_SPAWN"));
    cr_expect(has_remedy(e, "a parent with at most"));
    cr_expect(has_remedy(e, "this process holds"), "the JVM's own share is not 'elsewhere'");
    rep_free(&o);
}

/* A JVM refused at start under ulimit -v is offered a limit for its whole start, and it
 * starts under that limit (and under the smaller one with MALLOC_ARENA_MAX=2). */
Test(advice, java_start_under_ulimit_v, .timeout = 300)
{
    static const char *const flags[] = {"-Xmx64m", ""};
    for (int i = 0; i < 2; i++) {
        struct rep o;
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "ulimit -v 300000; exec java %s -version", flags[i]);
        char *argv[] = {"sh", "-c", cmd, NULL};
        rep_run(&o, "java-start", argv, NULL, 1, 120);
        cr_expect_eq(o.r.status, 1);
        const struct jval *e = event_for(&o, NULL);
        check_words(e, JAVA, "java start");
        const char *r0 = json_str(e, "verdict.remedies.0");
        cr_assert(r0 && strstr(r0, "whole start"), "%s", r0);
        long long whole = atoll(strstr(r0, "ulimit -v ") + 10);
        const char *r1 = json_str(e, "verdict.remedies.1");
        cr_assert(r1 && strstr(r1, "MALLOC_ARENA_MAX=2"), "%s", r1);
        long long arena2 = atoll(strstr(r1, "then ulimit -v ") + 15);
        long long alone = json_int(e, "verdict.committed_pages", 0) * 4 + json_int(e, "verdict.request_pages", 0) * 4;
        cr_expect_gt(whole, alone, "more than the failing call alone (%lld KiB)", alone);
        rep_free(&o);
        snprintf(cmd, sizeof cmd, "ulimit -v %lld; exec java %s -cp '%s' Advice fork", whole, flags[i], classes());
        char *again[] = {"sh", "-c", cmd, NULL};
        rep_run(&o, "java-start2", again, NULL, 1, 120);
        cr_expect_eq(o.r.status, 0, "ulimit -v %lld: %s %s", whole, o.r.out, o.r.err);
        cr_expect(strstr(o.r.out, "fork: exit 0"), "the JVM started and ran: %s", o.r.out);
        rep_free(&o);
        snprintf(cmd, sizeof cmd, "ulimit -v %lld; MALLOC_ARENA_MAX=2 exec java %s -cp '%s' Advice fork", arena2, flags[i],
                 classes());
        char *again2[] = {"sh", "-c", cmd, NULL};
        rep_run(&o, "java-start3", again2, NULL, 1, 120);
        cr_expect_eq(o.r.status, 0, "MALLOC_ARENA_MAX=2, ulimit -v %lld: %s %s", arena2, o.r.out, o.r.err);
        rep_free(&o);
    }
}

/* HotSpot's -XX:+UseLargePages probe, which it survives: one note, no report. */
Test(advice, java_large_page_probe_is_a_note, .timeout = 120)
{
    if (meminfo_kb("HugePages_Free") != 0) cr_skip_test("this machine has free huge pages");
    struct rep o;
    char *argv[] = {"java", "-XX:+UseLargePages", "-Xmx64m", "-version", NULL};
    rep_run(&o, "java-lp", argv, NULL, 1, 120);
    cr_expect_eq(o.r.status, 0);
    cr_expect(event_for(&o, NULL) == NULL, "no enomem event");
    const struct jval *n = json_event(o.ev, o.n, "note");
    cr_assert(n, "a note event");
    cr_expect_str_eq(json_str(n, "kind"), "jvm_large_page_probe");
    cr_expect(strstr(json_str(n, "text"), "goes on without large pages"));
    cr_expect(!strstr(o.r.err, "SUMMARY"), "%s", o.r.err);
    cr_expect(strstr(o.r.err, "overshim: note: mmap"), "%s", o.r.err);
    const char *nl = o.log ? strchr(o.log, '\n') : NULL;
    cr_expect(nl && !nl[1], "the text log is one line: %s", o.log);
    const struct jval *x = json_event(o.ev, o.n, "exit");
    cr_expect(x && json_int(x, "refusals.notes", -1) == 1 && json_int(x, "refusals.reports", -1) == 0);
    rep_free(&o);
}

/* --- the fork bound, run ---------------------------------------------------- */

/* Seed 002's box with Committed_AS moved by 824 kB, so that the bound falls mid-MiB (the
 * test needs some pages of slack either side of it for the program's own sizing). */
static char *tailored_snapshot(const char *dir)
{
    char *text = read_all(snap("seed002-mode2.snapshot"));
    cr_assert(text);
    char *p = strstr(text, "Committed_AS:    8625360 kB");
    cr_assert(p);
    memcpy(p, "Committed_AS:    8626184 kB", 27);
    char *path = malloc(4200);
    snprintf(path, 4200, "%s/box.snapshot", dir);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    free(text);
    return path;
}

Test(advice, fork_bound_forks_and_one_mib_more_does_not, .timeout = 120)
{
    char *d = test_dir("forkbound");
    char *box = tailored_snapshot(d);
    struct rep o;
    char *big[] = {(char *)cli(), "run", "--simulate", box, "--", (char *)prog("advice"), "forksize", "2000", NULL};
    rep_run(&o, "forkbound-big", big, NULL, 0, 60);
    cr_expect_eq(o.r.status, 1, "%s", o.r.out);
    const struct jval *e = event_for(&o, "fork");
    cr_assert(e);
    cr_expect_eq(json_int(e, "verdict.request_pages", 0), 2000 * 256, "the parent is the size asked for");
    long long bound = json_int(e, "verdict.fork_parent_bound_pages", -1);
    char all[16384];
    remedies_of(e, all, sizeof all);
    const char *r = strstr(all, "a parent with at most ");
    cr_assert(r, "%s", all);
    long long mib = atoll(r + 22);
    cr_expect_eq(mib, bound / 256, "the remedy is the model's bound, rounded down to MiB");
    cr_expect(mib > 1000 && mib < 2000, "about (allowed - the rest) / 2: %lld", mib);
    rep_free(&o);
    for (int k = 0; k < 2; k++) {
        char size[32];
        snprintf(size, sizeof size, "%lld", mib + k);
        char *argv[] = {(char *)cli(), "run", "--simulate", box, "--", (char *)prog("advice"), "forksize", size, NULL};
        rep_run(&o, "forkbound-run", argv, NULL, 0, 60);
        if (k == 0) cr_expect(o.r.status == 0 && strstr(o.r.out, "fork: ok"), "%s MiB forks: %s", size, o.r.out);
        else cr_expect(o.r.status == 1 && strstr(o.r.out, "Cannot allocate memory"), "%s MiB is refused: %s", size, o.r.out);
        rep_free(&o);
    }
    free(box);
    free(d);
}

/* --- explain and snapshot as root and as nobody ------------------------------ */

static struct jval *explain_json(char *const argv[])
{
    struct run r;
    run_cmd(&r, argv, NULL, "/", 0, 30);
    cr_assert_eq(r.status, 0, "%s", r.err);
    char err[256];
    struct jval *v = json_parse(r.out, err, sizeof err);
    cr_assert(v, "%s: %s", err, r.out);
    run_free(&r);
    return v;
}

/* refuse mmap-pages N under a command line that ends in the count: 1 refused, 0 accepted. */
static int refused(char **argv, int at, long long n, const char *cwd)
{
    char arg[32];
    snprintf(arg, sizeof arg, "%lld", n);
    argv[at] = arg;
    struct run r;
    run_cmd(&r, argv, NULL, cwd, 0, 30);
    int rc = r.status;
    run_free(&r);
    cr_assert(rc == 0 || rc == 3, "refuse exited %d", rc);
    return rc == 0;
}

Test(advice, explain_as_root_and_as_nobody_against_run, .timeout = 300)
{
    if (getuid() != 0) cr_skip_test("needs root, to run as root and as uid 65534");
    if (!mode0()) cr_skip_test("vm.overcommit_memory is not 0 here");
    char *pub = public_dir("explain"); /* the build may sit where uid 65534 cannot reach it */
    char *tool = public_copy(cli(), pub), *lib = public_copy(shim_path(), pub), *refuse = public_copy(prog("refuse"), pub);
    /* the live box, as the caller runs: root and nobody differ only in the reserve they get */
    char *as_root[] = {tool, "explain", "--json", "1", NULL};
    char *as_nobody[] = {NOBODY, tool, "explain", "--json", "1", NULL};
    char *forced[] = {tool, "explain", "--as-user", "--json", "1", NULL};
    struct jval *vr = explain_json(as_root), *vn = explain_json(as_nobody), *vf = explain_json(forced);
    cr_expect_eq(json_at(vr, "verdict.cap_sys_admin")->boolean, 1);
    cr_expect_eq(json_at(vn, "verdict.cap_sys_admin")->boolean, 0);
    cr_expect_eq(json_at(vf, "verdict.cap_sys_admin")->boolean, 0);
    cr_expect_gt(json_int(vr, "verdict.own_pages_left_out", 0), 0, "its own charge is left out");
    long long lr = json_int(vr, "largest_pages", -1), ln = json_int(vn, "largest_pages", -1);
    json_free(vr), json_free(vn), json_free(vf);
    /* what overshim run's program meets, as root and as nobody: the kernel's own answer */
    char *run_root[] = {tool, "run", "--", refuse, "mmap-pages", NULL, NULL};
    char *run_nobody[] = {NOBODY, tool, "run", "--", refuse, "mmap-pages", NULL, NULL};
    cr_expect(!refused(run_root, 5, lr, pub) && refused(run_root, 5, lr + 1, pub), "root: %lld passes, one more is refused",
              lr);
    cr_expect(!refused(run_nobody, 9, ln, pub) && refused(run_nobody, 9, ln + 1, pub),
              "nobody: %lld passes, one more is refused", ln);

    /* snapshots record the caller's CAP_SYS_ADMIN as it is */
    char sr[4300], sn[4300];
    snprintf(sr, sizeof sr, "%s/root.snapshot", pub);
    snprintf(sn, sizeof sn, "%s/nobody.snapshot", pub);
    char *snap_root[] = {tool, "snapshot", "-o", sr, NULL};
    char *snap_nobody[] = {NOBODY, tool, "snapshot", "-o", sn, NULL};
    struct run r;
    run_cmd(&r, snap_root, NULL, pub, 0, 30);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_free(&r);
    run_cmd(&r, snap_nobody, NULL, pub, 0, 30);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_free(&r);
    char *tr = read_all(sr), *tn = read_all(sn);
    cr_expect(tr && strstr(tr, "\ncap_sys_admin = 1\n"), "as root");
    cr_expect(tn && strstr(tn, "\ncap_sys_admin = 0\n"), "as nobody");
    free(tn);

    /* the same box under strict overcommit: explain for root and for an ordinary user against
     * the simulator's outcome for a program of either kind, whose own pages the box then holds */
    char *m2 = strstr(tr, "vm.overcommit_memory = 0");
    cr_assert(m2);
    m2[23] = '2';
    /* with the box's commitments at 1 GiB: the live Committed_AS is whatever other work on
     * a shared machine holds at that moment (a mapping up to the heuristic limit, as above,
     * briefly holds RAM+swap), and above mode 2's limit explain's answer was 0 pages */
    char *ca = strstr(tr, "\nCommitted_AS:");
    cr_assert(ca, "no Committed_AS in the snapshot");
    char *fixed = NULL;
    cr_assert(asprintf(&fixed, "%.*s\nCommitted_AS: 1048576 kB%s", (int)(ca - tr), tr, strchr(ca + 1, '\n')) > 0);
    free(tr);
    tr = fixed;
    char s2r[4300], s2u[4300];
    snprintf(s2r, sizeof s2r, "%s/mode2-root.snapshot", pub);
    snprintf(s2u, sizeof s2u, "%s/mode2-user.snapshot", pub);
    FILE *f = fopen(s2r, "w");
    fputs(tr, f);
    fclose(f);
    strstr(tr, "\ncap_sys_admin = 1\n")[17] = '0';
    f = fopen(s2u, "w");
    fputs(tr, f);
    fclose(f);
    free(tr);
    long long largest[2], real[2];
    for (int k = 0; k < 2; k++) {
        const char *s = k ? s2u : s2r;
        char *ex[] = {tool, "explain", "--snapshot", (char *)s, "--json", "1", NULL};
        struct jval *v = explain_json(ex);
        largest[k] = json_int(v, "largest_pages", -1);
        cr_expect_eq(json_at(v, "verdict.cap_sys_admin")->boolean, !k);
        json_free(v);
        char *sim[] = {tool, "run", "--simulate", (char *)s, "--", refuse, "mmap-pages", NULL, NULL};
        long long lo = largest[k] - 8192, hi = largest[k] + 8192; /* lo passes, hi is refused */
        cr_assert(!refused(sim, 7, lo, pub) && refused(sim, 7, hi, pub), "the boundary is near explain's %lld",
                  largest[k]);
        while (hi - lo > 1) {
            long long mid = (lo + hi) / 2;
            if (refused(sim, 7, mid, pub)) hi = mid;
            else lo = mid;
        }
        real[k] = lo;
        /* explain models a new process; refuse's own accountable pages at start fill the gap */
        cr_expect(real[k] <= largest[k] && largest[k] - real[k] < 1024, "%s: explain %lld, run %lld",
                  k ? "user" : "root", largest[k], real[k]);
    }
    cr_expect_eq(largest[0] - largest[1], 2048, "root skips the 8 MiB admin reserve");
    cr_expect(real[0] - real[1] >= 2040 && real[0] - real[1] <= 2056, "and so does the program: %lld",
              real[0] - real[1]);
    free(tool), free(lib), free(refuse);
    rm_public(pub);
}

/* --- the command's exit codes ------------------------------------------------ */

Test(advice, command_fails_loudly, .timeout = 120)
{
    char *d = test_dir("command");
    char marker[4300], bad[4300], cmd[9000];
    snprintf(marker, sizeof marker, "%s/ran", d);
    snprintf(bad, sizeof bad, "%s/bad.snapshot", d);
    FILE *f = fopen(bad, "w");
    fputs("# overshim snapshot 1\nkernel = 4.19.0\nbogus = 1\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "touch '%s'", marker);
    char *cases[][12] = {
        {(char *)cli(), "run", "--simulate", "/nonexistent/box.snapshot", "--", "sh", "-c", cmd, NULL},
        {(char *)cli(), "run", "--simulate", bad, "--", "sh", "-c", cmd, NULL},
        {(char *)cli(), "run", "--inject", "mmap@0", "--", "sh", "-c", cmd, NULL},
        {(char *)cli(), "run", "--kernel", "linux", "--", "sh", "-c", cmd, NULL},
        {(char *)cli(), "run", "--options", "max_reports=lots", "--", "sh", "-c", cmd, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct run r;
        run_cmd(&r, cases[i], NULL, d, 0, 30);
        cr_expect_eq(r.status, 125, "case %zu: %s", i, r.err);
        cr_expect(!strncmp(r.err, "overshim: run: ", 15) && strchr(r.err, '\n') && !strchr(r.err, '\n')[1],
                  "case %zu: one line: %s", i, r.err);
        cr_expect(access(marker, F_OK) != 0, "case %zu: nothing ran", i);
        run_free(&r);
    }
    /* set directly, OVERSHIM_OPTIONS keeps its rule: one line, then the program runs unshimmed */
    char opt[] = "OVERSHIM_OPTIONS=simulate=/nonexistent/box.snapshot";
    char *env[] = {opt, NULL};
    char *direct[] = {"sh", "-c", cmd, NULL};
    struct run r;
    run_cmd(&r, direct, env, d, 1, 30);
    cr_expect_eq(r.status, 0);
    cr_expect(access(marker, F_OK) == 0, "the program ran");
    cr_expect(strstr(r.err, "overshim: OVERSHIM_OPTIONS: simulate=") != NULL, "%s", r.err);
    run_free(&r);
    /* write errors */
    static const char *const writes[] = {"'%s' snapshot -o /dev/full", "'%s' snapshot > /dev/full",
                                         "'%s' explain 30G > /dev/full", "'%s' explain --json 30G > /dev/full"};
    for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
        char c[4400];
        snprintf(c, sizeof c, writes[i], cli());
        char *sh[] = {"sh", "-c", c, NULL};
        run_cmd(&r, sh, NULL, d, 0, 30);
        cr_expect_eq(r.status, 1, "%s: %s", c, r.err);
        cr_expect(strstr(r.err, "overshim: cannot write") && strstr(r.err, "No space left on device"), "%s: %s", c,
                  r.err);
        run_free(&r);
    }
    free(d);
}

/* --- the journal ------------------------------------------------------------- */

/* The value of KEY in a native-protocol datagram (both forms), into out. */
static int field(const char *dg, size_t n, const char *key, char *out, size_t cap)
{
    size_t k = strlen(key);
    for (size_t i = 0; i < n;) {
        const char *line = dg + i;
        const char *nl = memchr(line, '\n', n - i);
        if (!nl) return 0;
        if ((size_t)(nl - line) > k && !strncmp(line, key, k) && line[k] == '=') {
            size_t l = (size_t)(nl - line) - k - 1;
            snprintf(out, cap, "%.*s", (int)l, line + k + 1);
            return 1;
        }
        if ((size_t)(nl - line) == k && !strncmp(line, key, k)) { /* binary: length, value, newline */
            uint64_t l = 0;
            for (int b = 0; b < 8; b++) l |= (uint64_t)(unsigned char)nl[1 + b] << (8 * b);
            snprintf(out, cap, "%.*s", (int)l, nl + 9);
            return 1;
        }
        if (!memchr(line, '=', (size_t)(nl - line))) { /* a binary field of another key: skip it */
            uint64_t l = 0;
            for (int b = 0; b < 8; b++) l |= (uint64_t)(unsigned char)nl[1 + b] << (8 * b);
            i = (size_t)(nl + 9 + l + 1 - dg);
            continue;
        }
        i = (size_t)(nl + 1 - dg);
    }
    return 0;
}

Test(advice, journal_native_fields, .timeout = 60)
{
    char *d = test_dir("journal");
    char sock[4300], reports[4300];
    snprintf(sock, sizeof sock, "%s/j.sock", d);
    /* a report directory whose name holds a newline: OVERSHIM_REPORT takes the binary form */
    snprintf(reports, sizeof reports, "%s/rep\nort", d);
    mkdir(reports, 0755);
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    cr_assert_lt(strlen(sock), sizeof a.sun_path);
    memcpy(a.sun_path, sock, strlen(sock) + 1);
    cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    char opt[9000], pages[32];
    snprintf(opt, sizeof opt, "OVERSHIM_OPTIONS=syslog=1:journal=%s:dir=%s", sock, reports);
    snprintf(pages, sizeof pages, "%lld", ram_swap_pages() + 1);
    char *env[] = {opt, NULL};
    char *argv[] = {(char *)prog("refuse"), "mmap-pages", pages, NULL};
    struct run r;
    run_cmd(&r, argv, env, d, 1, 30);
    cr_expect_eq(r.status, 0, "%s", r.err);
    char dg[8192];
    ssize_t n = recv(s, dg, sizeof dg, MSG_DONTWAIT);
    cr_assert_gt(n, 0, "nothing reached the journal socket");
    char v[4096];
    cr_expect(field(dg, (size_t)n, "MESSAGE_ID", v, sizeof v) && !strcmp(v, "aced0b25b23b4a59b844fe10afbb5c4e"), "%s", v);
    cr_expect(field(dg, (size_t)n, "OVERSHIM_CAUSE", v, sizeof v) && !strcmp(v, mode0() ? "overcommit_guess" : v));
    cr_expect(field(dg, (size_t)n, "OVERSHIM_CALL", v, sizeof v) && !strcmp(v, "mmap"), "%s", v);
    cr_expect(field(dg, (size_t)n, "OVERSHIM_REQUEST_PAGES", v, sizeof v) && !strcmp(v, pages), "%s", v);
    cr_expect(field(dg, (size_t)n, "MESSAGE", v, sizeof v) && strstr(v, "SUMMARY: overshim: "), "%s", v);
    cr_expect(field(dg, (size_t)n, "SYSLOG_IDENTIFIER", v, sizeof v) && !strcmp(v, "overshim"));
    cr_expect(field(dg, (size_t)n, "OVERSHIM_REPORT", v, sizeof v) && strstr(v, "rep\nort/overshim_pid") &&
                  strstr(v, ".log"),
              "the path, newline and all: %s", v);
    cr_expect(find_file(reports, "overshim_pid", ".log") != NULL);
    run_free(&r);
    /* no journal there: plain syslog, and the program is unaffected */
    snprintf(opt, sizeof opt, "OVERSHIM_OPTIONS=syslog=1:journal=%s/absent.sock:log=none:json=none", d);
    char *env2[] = {opt, NULL};
    run_cmd(&r, argv, env2, d, 1, 30);
    cr_expect_eq(r.status, 0);
    cr_expect(recv(s, dg, sizeof dg, MSG_DONTWAIT) < 0, "nothing for a journal that is not there");
    run_free(&r);
    close(s);
    free(d);
}

/* The demangler linked into the shim cannot allocate: its malloc, realloc and free are stubs. */
Test(advice, demangler_has_no_allocator)
{
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "nm -u '%s/shim/demangle.o'", build_dir());
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    char line[256];
    int undefined = 0;
    while (fgets(line, sizeof line, p)) {
        undefined++;
        cr_expect(!strstr(line, " malloc\n") && !strstr(line, " realloc\n") && !strstr(line, " free\n") &&
                      !strstr(line, " calloc\n"),
                  "demangle.o needs %s", line);
    }
    cr_expect_eq(pclose(p), 0);
    cr_expect_gt(undefined, 0, "nm read the object");
}

/* explain on this box answers for a new process of the shell it runs in: its
 * RLIMIT_AS (ulimit -v) refuses first, and the largest request is the limit less the
 * new process's VmSize (--vm-size). */
Test(advice, explain_counts_the_shells_rlimit_as)
{
    char cmd[4600];
    snprintf(cmd, sizeof cmd, "ulimit -v 500000; exec '%s/overshim' explain --json --vm-size 10M 1G", build_dir());
    char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    struct run r;
    run_cmd(&r, argv, NULL, NULL, 0, 30);
    cr_assert_eq(r.status, 0, "%s", r.err);
    char err[256];
    struct jval *j = json_parse(r.out, err, sizeof err);
    cr_assert(j, "%s: %s", err, r.out);
    cr_expect(json_at(j, "verdict.refused") && json_at(j, "verdict.refused")->boolean, "1 GiB under ulimit -v 500000");
    cr_expect_str_eq(json_str(j, "verdict.cause"), "rlimit_as");
    cr_expect_eq(json_int(j, "largest_pages", -1), 500000 / 4 - 10 * 256);
    cr_expect_eq(json_int(j, "verdict.shortfall_pages", -1), 262144 + 10 * 256 - 500000 / 4);
    cr_expect(json_at(j, "verdict.remedies.0"), "no remedy for a refused request");
    json_free(j);
    run_free(&r);
}

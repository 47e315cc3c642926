/* Issue 14: the words around a verdict, from real programs. Remedies for a C, a Python, a
 * node and a Java program (fork, thread, mmap, malloc) in their own terms and none in
 * another runtime's; the JVM's own flags (the command's own cases are in test_command.c).
 * Real refusals only of the kinds safe on a shared machine (RLIMIT_*, RLIMIT_NPROC as uid 65534, a request above
 * RAM+swap); the rest under the simulator. */
#include "advice.h"

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


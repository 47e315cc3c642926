/* Issue 2: the shim lives inside real programs without changing them, and its
 * ledger tells the truth. */
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

/* The same program with and without the shim: same stdout, same stderr (the shim
 * says nothing when nothing fails), same exit status. */
static void same(char *const argv[], char *const env[], int timeout)
{
    struct run a, b;
    char *dir = test_dir("same");
    run_cmd(&a, argv, env, dir, 0, timeout);
    run_cmd(&b, argv, env, dir, 1, timeout);
    cr_expect(!a.timed_out && !b.timed_out, "%s timed out", argv[0]);
    cr_expect_eq(a.status, b.status, "%s: exit %d bare, %d under the shim; stderr: %s", argv[0], a.status, b.status,
                 b.err);
    cr_expect_str_eq(a.out, b.out, "%s: stdout differs", argv[0]);
    cr_expect_str_eq(a.err, b.err, "%s: stderr differs", argv[0]);
    cr_expect(find_file(dir, "overshim_pid", "") == NULL, "files written although nothing failed");
    run_free(&a);
    run_free(&b);
    free(dir);
}

Test(core, java_version, .timeout = 120)
{
    char *argv[] = {"java", "-version", NULL};
    struct run a, b;
    run_cmd(&a, argv, NULL, NULL, 0, 60);
    run_cmd(&b, argv, NULL, NULL, 1, 60);
    cr_expect_eq(a.status, 0);
    cr_expect_eq(b.status, 0);
    cr_expect_str_eq(a.err, b.err, "java -version prints on stderr");
    run_free(&a);
    run_free(&b);
}

Test(core, java_threads_arrays_exec_vfork, .timeout = 180)
{
    char cp[4200];
    snprintf(cp, sizeof cp, "%s/tests", build_dir());
    char *argv[] = {"java", "-Xmx1g", "-Djdk.lang.Process.launchMechanism=VFORK", "-cp", cp, "Workload", NULL};
    same(argv, NULL, 120);
}

Test(core, java_threads_arrays_exec_posix_spawn, .timeout = 180)
{
    char cp[4200];
    snprintf(cp, sizeof cp, "%s/tests", build_dir());
    char *argv[] = {"java", "-Xmx1g", "-Djdk.lang.Process.launchMechanism=POSIX_SPAWN", "-cp", cp, "Workload", NULL};
    same(argv, NULL, 120);
}

Test(core, shell_pipeline)
{
    char *argv[] = {"sh", "-c", "seq 1 50000 | sort -rn | head -3; echo a b c | tr a-z A-Z; (exit 3)", NULL};
    same(argv, NULL, 60);
}

Test(core, threaded_python)
{
    char *argv[] = {"python3", "-c",
                    "import threading\nr=[0]*8\ndef f(i): r[i]=sum(range(i*100000))\n"
                    "t=[threading.Thread(target=f,args=(i,)) for i in range(8)]\n[x.start() for x in t]\n"
                    "[x.join() for x in t]\nprint(r)",
                    NULL};
    same(argv, NULL, 60);
}

/* Debian's python3 is a non-PIE program with a canonical PLT entry for malloc: it
 * must start without a word from the shim. Threads, a fork pool, big and small
 * allocations, output on both streams. */
Test(core, debian_python3, .timeout = 90)
{
    char *argv[] = {"/usr/bin/python3", "-c",
                    "import sys, threading, multiprocessing as mp\n"
                    "def sq(x): return x * x\n"
                    "r = [0] * 4\n"
                    "def f(i): r[i] = len(bytearray(i * 1000000)) + sum(len(str(k)) for k in range(50000))\n"
                    "t = [threading.Thread(target=f, args=(i,)) for i in range(4)]\n"
                    "[x.start() for x in t]; [x.join() for x in t]\n"
                    "print(r)\n"
                    "with mp.get_context('fork').Pool(2) as p: print(sum(p.map(sq, range(1000))))\n"
                    "print('to stderr', file=sys.stderr)\n"
                    "sys.exit(4)",
                    NULL};
    same(argv, NULL, 60);
}

/* node (also non-PIE here): V8's heap reservations, Buffers, a worker thread, a child
 * process, output on both streams. */
Test(core, node, .timeout = 90)
{
    char *argv[] = {"node", "-e",
                    "const { Worker } = require('worker_threads');\n"
                    "const cp = require('child_process');\n"
                    "const b = Buffer.alloc(32 << 20, 1); let s = 0; for (let i = 0; i < b.length; i += 4096) s += b[i];\n"
                    "const a = []; for (let i = 0; i < 200000; i++) a.push({ i, s: 'x' + i });\n"
                    "console.log(s, a.length, cp.execSync('echo child').toString().trim());\n"
                    "const w = new Worker('require(\"worker_threads\").parentPort.postMessage(6 * 7)', { eval: true });\n"
                    "w.on('message', (m) => { console.log('worker', m); console.error('to stderr'); process.exitCode = 3; });",
                    NULL};
    same(argv, NULL, 60);
}

Test(core, program_with_its_own_jemalloc)
{
    char *argv[] = {(char *)prog("jemalloc_user"), NULL};
    same(argv, NULL, 30);
    struct run r;
    run_cmd(&r, argv, NULL, NULL, 1, 30);
    cr_expect(strstr(r.out, "jemalloc counted at least 100 MiB: yes") != NULL,
              "the program's jemalloc must still serve (and count) its allocations: %s", r.out);
    run_free(&r);
}

/* 4 threads map and touch known amounts: per-thread committed and touched within 2%,
 * and the process's ledger for those ranges equals the kernel's smaps `ac` sum. */
Test(core, ledger_per_thread_truth)
{
    char *dir = test_dir("ledger");
    char opts[] = "OVERSHIM_OPTIONS=report_at_exit=1";
    char *env[] = {opts, NULL};
    char *argv[] = {(char *)prog("threads4"), NULL};
    struct run r;
    run_cmd(&r, argv, env, dir, 1, 60);
    cr_assert_eq(r.status, 0, "%s", r.err);
    char err[256];
    struct jval *truth = json_parse(r.out, err, sizeof err);
    cr_assert(truth, "%s: %s", err, r.out);
    struct jval *ev[MAX_EVENTS];
    int n = events_in(dir, ev);
    const struct jval *sum = json_event(ev, n, "summary");
    cr_assert(sum, "no summary event");
    long long tracked = 0;
    for (int i = 0; i < 4; i++) {
        char p[64];
        snprintf(p, sizeof p, "threads.%d.tid", i);
        long long tid = json_int(truth, p, -1);
        snprintf(p, sizeof p, "threads.%d.mapped", i);
        double mapped = (double)json_int(truth, p, -1);
        snprintf(p, sizeof p, "threads.%d.touched", i);
        double touched = (double)json_int(truth, p, -1);
        const struct jval *th = json_at(sum, "threads");
        const struct jval *mine = NULL;
        for (size_t k = 0; th && k < th->n; k++)
            if (json_int(th->items[k], "tid", 0) == tid) mine = th->items[k];
        cr_assert(mine, "thread %lld missing from the summary", tid);
        double c = (double)json_int(mine, "committed_bytes", -1), t = (double)json_int(mine, "touched_bytes", -1);
        cr_expect(c >= mapped * 0.98 && c <= mapped * 1.02, "thread %lld committed %.0f, truth %.0f", tid, c, mapped);
        cr_expect(t >= touched * 0.98 && t <= touched * 1.02, "thread %lld touched %.0f, truth %.0f", tid, t,
                  touched);
        char want[16];
        snprintf(want, sizeof want, "worker-%d", i);
        cr_expect_str_eq(json_str(mine, "name") ? json_str(mine, "name") : "", want, "thread %lld's name", tid);
        snprintf(p, sizeof p, "threads.%d.malloc_live", i);
        long long live = json_int(truth, p, -1);
        cr_expect_eq(json_int(mine, "malloc_bytes", -1), live, "thread %lld malloc live %lld, truth %lld", tid,
                     json_int(mine, "malloc_bytes", -1), live);
        tracked += (long long)c;
    }
    long long ac = json_int(truth, "ac_bytes", -1);
    cr_expect_eq(tracked, ac, "ledger %lld vs smaps ac %lld for the ranges the threads made", tracked, ac);
    cr_expect_geq(json_int(sum, "process.kernel_accountable_bytes", -1), ac);
    for (int i = 0; i < n; i++) json_free(ev[i]);
    json_free(truth);
    run_free(&r);
    free(dir);
}

/* Run forkstorm (argv) under the shim and expect its last line to contain want. */
static void fork_storm(const char *name, char *const argv[], const char *want)
{
    char *dir = test_dir(name);
    struct run r;
    run_cmd(&r, argv, NULL, dir, 1, 200);
    cr_expect(!r.timed_out);
    cr_expect_eq(r.status, 0, "%s %s", r.out, r.err);
    cr_expect(strstr(r.out, want) != NULL, "want '%s': %s", want, r.out);
    run_free(&r);
    free(dir);
}

/* The shim's locks sit in their one MADV_WIPEONFORK page. */
Test(core, fork_storm_no_hang, .timeout = 240)
{
    char *argv[] = {(char *)prog("forkstorm"), "500", NULL};
    fork_storm("forks", argv, "forks=500 hung=0 failed=0 wipeonfork=1");
}

/* The same where MADV_WIPEONFORK fails, as before Linux 4.14: the shim keeps its locks
 * in static storage and its child handler resets them. */
Test(core, fork_storm_without_wipeonfork, .timeout = 240)
{
    char *argv[] = {(char *)prog("nowipe"), (char *)prog("forkstorm"), "300", NULL};
    fork_storm("forks-nowipe", argv, "forks=300 hung=0 failed=0 wipeonfork=0");
}

/* A malformed OVERSHIM_OPTIONS: one `overshim:` line naming the bad text, and the
 * program runs exactly as without the shim. */
Test(core, malformed_options_step_aside)
{
    static const char *const bad[] = {
        "log",          "=x",          "nosuchkey=1",         "report_at_exit=maybe", "max_reports=-1",
        "stack_depth=0", "stack_depth=9999", "verbosity=7", "log=",             "json=",
        "max_reports=5q", "report_at_exit=1:zzz=1", "help", "max_reports=99999999999999999999",
    };
    char *argv[] = {"sh", "-c", "echo out; echo err >&2; exit 5", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *dir = test_dir("badopt");
        char env0[512];
        snprintf(env0, sizeof env0, "OVERSHIM_OPTIONS=%s", bad[i]);
        char *env[] = {env0, NULL};
        struct run r;
        run_cmd(&r, argv, env, dir, 1, 30);
        cr_expect_eq(r.status, 5, "'%s': exit %d", bad[i], r.status);
        cr_expect_str_eq(r.out, "out\n", "'%s'", bad[i]);
        cr_expect(!strncmp(r.err, "overshim: OVERSHIM_OPTIONS: ", 28), "'%s': stderr %s", bad[i], r.err);
        const char *nl = strchr(r.err, '\n');
        cr_expect(nl && !strcmp(nl + 1, "err\n"), "'%s': exactly one line from the shim: %s", bad[i], r.err);
        cr_expect(find_file(dir, "overshim", "") == NULL, "'%s' left files", bad[i]);
        run_free(&r);
        free(dir);
    }
}

/* nm -D shows only the table's names and the public overshim_* API. */
Test(core, exported_symbols)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "nm -D --defined-only '%s' | awk '{print $3}' | sort", shim_path());
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    char line[256];
    int n = 0;
    static const char *const table[] = {
#define OSH_SYM(req, name) #name,
#include "../../shim/symbols.def"
#undef OSH_SYM
    };
    int seen[sizeof table / sizeof table[0]] = {0};
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = 0;
        int ok = !strncmp(line, "overshim_", 9);
        for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
            if (!strcmp(line, table[i])) ok = 1, seen[i] = 1;
        cr_expect(ok, "unexpected exported symbol '%s'", line);
        n++;
    }
    pclose(p);
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) cr_expect(seen[i], "'%s' is not exported", table[i]);
    cr_expect_gt(n, 20);
}

/* No program symbol binds to the shim's jemalloc, and MALLOC_CONF cannot reach it. */
Test(core, private_jemalloc_is_invisible)
{
    char *dir = test_dir("bind");
    char e1[] = "LD_DEBUG=bindings", e2[] = "MALLOC_CONF=abort_conf:true,junk:bogus,narenas:nonsense";
    char *env[] = {e1, e2, NULL};
    char *argv[] = {"ls", "/", NULL};
    struct run r;
    run_cmd(&r, argv, env, dir, 1, 30);
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.err, "<jemalloc>") == NULL, "the private jemalloc read MALLOC_CONF");
    /* every binding to the shim is one of its interposed names */
    static const char *const table[] = {
#define OSH_SYM(req, name) #name,
#include "../../shim/symbols.def"
#undef OSH_SYM
    };
    int bindings = 0;
    /* lines "binding file A [0] to B [0]: normal symbol `name'": keep those whose B is the shim */
    for (char *l = r.err; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        char *eol = strchr(l, '\n');
        char *to = strstr(l, " to ");
        char *q = strstr(l, "normal symbol `");
        if (!to || !q || (eol && q > eol) || to > q) continue;
        char *target = strstr(to, "libovershim.so");
        if (!target || target > q) continue;
        q += 15;
        char name[128];
        size_t k = strcspn(q, "'");
        snprintf(name, sizeof name, "%.*s", (int)k, q);
        int ok = 0;
        for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) ok |= !strcmp(name, table[i]);
        char *at = strchr(name, '@');
        if (at) *at = 0;
        for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) ok |= !strcmp(name, table[i]);
        cr_expect(ok, "'%s' bound to the shim", name);
        bindings++;
    }
    cr_expect_gt(bindings, 0, "LD_DEBUG shows no binding to the shim at all");
    run_free(&r);
    free(dir);
}

Test(core, summary_at_exit_text_and_json)
{
    char *dir = test_dir("summary");
    char opts[] = "OVERSHIM_OPTIONS=report_at_exit=1";
    char *env[] = {opts, NULL};
    char *argv[] = {"sh", "-c", "echo hi", NULL};
    struct run r;
    run_cmd(&r, argv, env, dir, 1, 30);
    cr_expect_eq(r.status, 0);
    struct jval *ev[MAX_EVENTS];
    int n = events_in(dir, ev);
    const struct jval *s = json_event(ev, n, "summary");
    cr_assert(s);
    cr_expect_eq(json_int(s, "schema", 0), 1);
    cr_expect_gt(json_int(s, "process.kernel_accountable_bytes", 0), 0);
    cr_expect_geq(json_int(s, "process.vm_size_bytes", 0), json_int(s, "process.kernel_accountable_bytes", 0));
    cr_expect(json_event(ev, n, "exit") != NULL, "an exit event follows the summary");
    const char *log = find_file(dir, "overshim_pid", ".log");
    cr_assert(log);
    char *text = read_all(log);
    cr_expect(strstr(text, "summary at") && strstr(text, "kernel accountable (smaps ac)"), "%s", text);
    struct stat st;
    stat(log, &st);
    cr_expect_eq(st.st_mode & 0777, 0600, "report files are private");
    free(text);
    for (int i = 0; i < n; i++) json_free(ev[i]);
    run_free(&r);
    free(dir);
}

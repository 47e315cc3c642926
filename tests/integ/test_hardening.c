/* Issue 6: load, processes, signals, report files, co-existence with other preloads. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

/* 32 threads x 3 s of mmap/mprotect/mremap/munmap/malloc/free/pthread_create under the
 * shim (make stress: 20 s): no crash, no hang, and the ledger's committed total equals
 * the kernel's smaps `ac` sum over the ranges the program made. */
Test(hardening, stress_ledger_equals_smaps, .timeout = 120)
{
    char *dir = test_dir("stress");
    char opt[] = "OVERSHIM_OPTIONS=report_at_exit=1:verbosity=0";
    char *env[] = {opt, NULL};
    char *argv[] = {(char *)prog("stress"), "32", "3", NULL};
    struct run r;
    run_cmd(&r, argv, env, dir, 1, 90);
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    char err[256];
    struct jval *truth = json_parse(r.out, err, sizeof err);
    cr_assert(truth, "%s: %s", err, r.out);
    cr_expect_gt(json_int(truth, "ops", 0), 10000);
    struct jval *ev[MAX_EVENTS];
    int n = events_in(dir, ev);
    const struct jval *s = json_event(ev, n, "summary");
    cr_assert(s);
    long long ac = json_int(truth, "ac_bytes", -1);
    cr_expect_eq(json_int(s, "process.committed_bytes", -2), ac, "ledger %lld, smaps ac %lld",
                 json_int(s, "process.committed_bytes", -2), ac);
    cr_expect_eq(json_int(s, "process.tracked_accountable_bytes", -2), ac);
    for (int i = 0; i < n; i++) json_free(ev[i]);
    json_free(truth);
    run_free(&r);
    free(dir);
}

/* A signal handler that maps and unmaps while the interrupted thread is inside the shim. */
Test(hardening, signal_handlers_never_deadlock, .timeout = 60)
{
    char *argv[] = {(char *)prog("sigstorm"), "2", NULL};
    struct run r;
    run_cmd(&r, argv, NULL, NULL, 1, 40);
    cr_expect(!r.timed_out, "hung");
    cr_expect_eq(r.status, 0, "status %d, stdout '%s', stderr '%s'", r.status, r.out, r.err);
    cr_expect_str_eq(r.out, "loops many, signals handled many\n");
    run_free(&r);
}

/* A signal handler that maps memory while the shim resolves its real functions on the
 * same thread (the first wrapped call of the process, a 20 us timer running): the
 * wrappers' slots are still empty there, and the handler's mmap jumped to address 0
 * (49 of 50 runs crashed; once in ~100 runs of the test above under load, bullseye's
 * make matrix). Now such a call makes its own system call. 50 processes. */
Test(hardening, signal_during_first_resolution, .timeout = 120)
{
    char *argv[] = {(char *)prog("sigstorm"), "first", NULL};
    int bad = 0;
    for (int i = 0; i < 50; i++) {
        struct run r;
        run_cmd(&r, argv, NULL, NULL, 1, 20);
        if (r.timed_out || r.status != 0 || strcmp(r.out, "first ok\n")) {
            if (bad++ < 3) cr_expect(0, "run %d: status %d, timed out %d, '%s' '%s'", i, r.status, r.timed_out, r.out, r.err);
        }
        run_free(&r);
    }
    cr_expect_eq(bad, 0, "%d of 50 runs failed", bad);
}

/* fork+exec, posix_spawn, system, popen, vfork, daemon, and a static program. */
Test(hardening, every_way_to_start_a_process)
{
    char *dir = test_dir("spawn");
    char *argv[] = {(char *)prog("spawny"), (char *)prog("static_hello"), NULL};
    struct run a, b;
    run_cmd(&a, argv, NULL, dir, 0, 30);
    run_cmd(&b, argv, NULL, dir, 1, 30);
    cr_expect_eq(a.status, b.status);
    cr_expect_str_eq(a.out, b.out);
    cr_expect(strstr(b.out, "daemon\n") && strstr(b.out, "static hello\nstatic program exit 3\n"), "%s", b.out);
    cr_expect(find_file(dir, "overshim", "") == NULL);
    run_free(&a);
    run_free(&b);
    free(dir);
}

/* The shim follows exec: every generation reports, each under its own pid. */
Test(hardening, exec_chain_reports_per_pid)
{
    char *dir = test_dir("chain");
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "%s mmap-pages 1000000000000; sh -c '%s mmap-pages 1000000000000'", prog("refuse"),
             prog("refuse"));
    char *argv[] = {"sh", "-c", cmd, NULL};
    struct run r;
    run_cmd(&r, argv, NULL, dir, 1, 30);
    cr_expect_eq(r.status, 0);
    int files = 0;
    char ls[8400];
    snprintf(ls, sizeof ls, "ls %s | grep -c 'overshim_pid[0-9]*\\.jsonl$'", dir);
    FILE *p = popen(ls, "r");
    if (fscanf(p, "%d", &files) != 1) files = -1;
    pclose(p);
    cr_expect_eq(files, 2, "one report per process");
    run_free(&r);
    free(dir);
}

static void refuse_with(const char *dir, const char *opts, struct run *r)
{
    char opt[4600];
    snprintf(opt, sizeof opt, "OVERSHIM_OPTIONS=%s", opts);
    char *env[] = {opt, NULL};
    char *argv[] = {(char *)prog("refuse"), "mmap-pages", "1000000000000", NULL};
    run_cmd(r, argv, env, dir, 1, 30);
}

/* A planted symlink is never followed; an existing file is never overwritten. */
Test(hardening, report_files_symlink_and_existing)
{
    char *dir = test_dir("files");
    char victim[4200], link[4200], opts[4400];
    snprintf(victim, sizeof victim, "%s/victim", dir);
    snprintf(link, sizeof link, "%s/report.log", dir);
    FILE *f = fopen(victim, "w");
    fputs("precious\n", f);
    fclose(f);
    cr_assert_eq(symlink(victim, link), 0);
    snprintf(opts, sizeof opts, "log=%s:json=none", link);
    struct run r;
    refuse_with(dir, opts, &r);
    cr_expect_eq(r.status, 0);
    char *v = read_all(victim);
    cr_expect_str_eq(v, "precious\n", "the symlink was followed");
    free(v);
    char alt[4300];
    snprintf(alt, sizeof alt, "%s.1", link);
    char *rep = read_all(alt);
    cr_expect(rep && strstr(rep, "overshim: mmap refused"), "the report went to a new name");
    free(rep);
    run_free(&r);
    /* an existing regular file: kept, the report goes to the next name */
    refuse_with(dir, opts, &r);
    snprintf(alt, sizeof alt, "%s.2", link);
    rep = read_all(alt);
    cr_expect(rep && strstr(rep, "overshim: mmap refused"));
    free(rep);
    snprintf(alt, sizeof alt, "%s.1", link);
    rep = read_all(alt);
    cr_expect(rep && strstr(rep, "overshim: mmap refused") && !strstr(strstr(rep, "overshim: mmap refused") + 1,
                                                                         "overshim: mmap refused"),
              "the first report was not appended to or overwritten");
    free(rep);
    run_free(&r);
    free(dir);
}

/* An unwritable working directory: the report goes to $TMPDIR. */
Test(hardening, unwritable_cwd_falls_back_to_tmpdir)
{
    if (getuid() != 0) cr_skip_test("needs root to run as another uid");
    char *dir = public_dir("ro");
    char *shim = public_copy(shim_path(), dir), *refuse = public_copy(prog("refuse"), dir);
    char ro[4200], tmp[4200];
    snprintf(ro, sizeof ro, "%s/readonly", dir);
    snprintf(tmp, sizeof tmp, "%s/tmpdir", dir);
    mkdir(ro, 0755);
    mkdir(tmp, 0777);
    chmod(tmp, 0777);
    char t[4300], pre[4300];
    snprintf(t, sizeof t, "TMPDIR=%s", tmp);
    snprintf(pre, sizeof pre, "LD_PRELOAD=%s", shim);
    char *env[] = {t, pre, NULL};
    char *argv[] = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", refuse, "mmap-pages",
                    "1000000000000", NULL};
    struct run r;
    run_cmd(&r, argv, env, ro, 0, 30);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect(find_file(ro, "overshim", "") == NULL);
    cr_expect(find_file(tmp, "overshim_pid", ".log") != NULL, "no report in $TMPDIR: %s", r.err);
    cr_expect(find_file(tmp, "overshim_pid", ".jsonl") != NULL);
    run_free(&r);
    free(shim);
    free(refuse);
    rm_public(dir);
}

/* RLIMIT_FSIZE loses the file, not the program (no SIGXFSZ from the shim's writes). */
Test(hardening, rlimit_fsize_loses_the_file_not_the_program)
{
    char *dir = test_dir("fsize");
    char *argv[] = {"prlimit", "--fsize=100", (char *)prog("refuse"), "mmap-pages", "1000000000000", NULL};
    struct run r;
    run_cmd(&r, argv, NULL, dir, 1, 30);
    cr_expect_eq(r.status, 0, "killed? %d", r.status);
    cr_expect(strstr(r.out, "mmap: refused") != NULL);
    const char *f = find_file(dir, "overshim_pid", ".log");
    cr_assert(f);
    struct stat st;
    stat(f, &st);
    cr_expect_leq(st.st_size, 100);
    run_free(&r);
    free(dir);
}

/* Another allocator preloaded too, in either order: same output, refusals still reported. */
static void coexist(const char *other, int shim_first, int sees_mmap)
{
    char pre[8400];
    if (shim_first) snprintf(pre, sizeof pre, "LD_PRELOAD=%s %s", shim_path(), other);
    else snprintf(pre, sizeof pre, "LD_PRELOAD=%s %s", other, shim_path());
    char bare[4300];
    snprintf(bare, sizeof bare, "LD_PRELOAD=%s", other);
    char *py[] = {"python3", "-c",
                  "import threading\nr=[0]*8\ndef f(i): r[i]=len(bytearray(i*100000))\n"
                  "t=[threading.Thread(target=f,args=(i,)) for i in range(8)]\n[x.start() for x in t]\n"
                  "[x.join() for x in t]\nprint(r)",
                  NULL};
    char *e1[] = {bare, NULL}, *e2[] = {pre, NULL};
    struct run a, b;
    run_cmd(&a, py, e1, NULL, 0, 60);
    run_cmd(&b, py, e2, NULL, 0, 60);
    cr_expect_eq(a.status, 0, "%s", a.err);
    cr_expect_eq(b.status, 0, "%s with %s: %s", shim_first ? "shim first" : "shim second", other, b.err);
    cr_expect_str_eq(a.out, b.out);
    run_free(&a);
    run_free(&b);
    char *dir = test_dir("coexist");
    char *rf[] = {(char *)prog("refuse"), "mmap-pages", "1000000000000", NULL};
    run_cmd(&b, rf, e2, dir, 0, 30);
    cr_expect_eq(b.status, 0);
    if (sees_mmap) {
        cr_expect(find_file(dir, "overshim_pid", ".jsonl") != NULL, "no report with %s", other);
    } else { /* the other library's own mmap takes the call: the shim says so at start */
        cr_expect(strstr(b.err, "overshim: mmap is defined by") && strstr(b.err, "ahead of overshim"), "%s", b.err);
    }
    run_free(&b);
    free(dir);
}

Test(hardening, with_jemalloc_preloaded_either_order, .timeout = 120)
{
    const char *je = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";
    if (access(je, R_OK) != 0) cr_skip_test("libjemalloc2 is not installed");
    coexist(je, 1, 1);
    coexist(je, 0, 1);
}

/* Whether the library at path defines (exports) name. */
static int exports(const char *path, const char *name)
{
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "nm -D --defined-only '%s' | grep -qE ' [TWi] %s(@|$)'", path, name);
    return system(cmd) == 0;
}

Test(hardening, with_tcmalloc_preloaded_either_order, .timeout = 120)
{
    const char *tc = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4";
    if (access(tc, R_OK) != 0) cr_skip_test("libtcmalloc-minimal4 is not installed");
    coexist(tc, 1, 1);
    /* gperftools up to 2.15 defines mmap, munmap, mremap, sbrk itself (its hooks), 2.16 no longer */
    coexist(tc, 0, !exports(tc, "mmap"));
}

/* A thread per task does not grow the shim: old exited threads are folded. */
Test(hardening, thread_churn_is_folded, .timeout = 120)
{
    char *dir = test_dir("churn");
    char opt[] = "OVERSHIM_OPTIONS=report_at_exit=1:verbosity=0";
    char *env[] = {opt, NULL};
    char *argv[] = {(char *)prog("churn"), "6000", NULL};
    struct run r;
    run_cmd(&r, argv, env, dir, 1, 100);
    cr_assert_eq(r.status, 0, "%s", r.err);
    struct jval *ev[MAX_EVENTS];
    int n = events_in(dir, ev);
    const struct jval *s = json_event(ev, n, "summary");
    cr_assert(s);
    const struct jval *th = json_at(s, "threads");
    cr_assert(th && th->n > 0);
    /* 2000 threads keep a mapping (they stay listed), at most 1024 others, the main thread, the folded row */
    cr_expect_leq(th->n, 2000 + 1024 + 2, "%zu rows", th->n);
    const struct jval *last = th->items[th->n - 1];
    cr_expect_str_eq(json_str(last, "name"), "(exited, folded)");
    cr_expect_eq(json_int(last, "folded_threads", 0) + (long long)th->n - 2, 6000);
    cr_expect_eq(json_int(s, "process.committed_bytes", -1), json_int(s, "process.tracked_accountable_bytes", -2));
    for (int i = 0; i < n; i++) json_free(ev[i]);
    run_free(&r);
    free(dir);
}

/* Secure execution (a setuid program: AT_SECURE): OVERSHIM_OPTIONS is ignored and the
 * report goes to stderr only. glibc preloads into such a program only a setuid library
 * from a trusted directory, given without a slash; so, inside a private mount namespace
 * (nothing outside it changes), a setuid copy of the shim is bind-mounted over a
 * library name in the trusted directory. */
Test(hardening, secure_execution_ignores_options, .timeout = 60)
{
    if (getuid() != 0) cr_skip_test("needs root (mount namespace, setuid copies)");
    const char *target = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";
    if (access(target, R_OK) != 0) cr_skip_test("%s is needed as a bind-mount target", target);
    char *dir = test_dir("secure");
    char cmd[16000];
    snprintf(cmd, sizeof cmd,
             "cp '%s' '%s/shim.so' && chmod 4755 '%s/shim.so' && cp '%s' '%s/refuse-suid' && chmod 4755 '%s/refuse-suid'",
             shim_path(), dir, dir, prog("refuse"), dir, dir);
    cr_assert_eq(system(cmd), 0);
    char script[8000];
    snprintf(script, sizeof script,
             "mount --bind '%s/shim.so' %s && cd '%s' && OVERSHIM_OPTIONS='log=%s/ignored.log:json=%s/ignored.jsonl' "
             "LD_PRELOAD=libjemalloc.so.2 setpriv --reuid=65534 --regid=65534 --clear-groups ./refuse-suid mmap-pages "
             "1000000000000",
             dir, target, dir, dir, dir);
    char *argv[] = {"unshare", "--mount", "--propagation", "private", "sh", "-c", script, NULL};
    struct run r;
    run_cmd(&r, argv, NULL, dir, 0, 30);
    if (strstr(r.err, "unshare failed") || strstr(r.err, "Operation not permitted"))
        cr_skip_test("no mount namespaces here: %s", r.err);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.err, "overshim: mmap refused with ENOMEM") != NULL, "the report on stderr: %s", r.err);
    cr_expect(find_file(dir, "ignored", "") == NULL, "OVERSHIM_OPTIONS was obeyed in a secure-execution program");
    cr_expect(find_file(dir, "overshim_pid", "") == NULL, "a report file was written");
    struct stat st;
    stat(target, &st);
    cr_expect(!(st.st_mode & S_ISUID), "the bind mount leaked out of the namespace");
    run_free(&r);
    free(dir);
}

/* The ledger under ThreadSanitizer: writers and reporters at once, no race reported. */
Test(hardening, ledger_has_no_data_race_under_tsan, .timeout = 120)
{
    char opt[] = "TSAN_OPTIONS=halt_on_error=0:exitcode=66";
    char *env[] = {opt, NULL};
    char *argv[] = {"setarch", "-R", (char *)prog("ledger_tsan"), NULL}; /* TSan wants its address layout */
    struct run r;
    run_cmd(&r, argv, env, NULL, 0, 100);
    cr_expect(strstr(r.err, "WARNING: ThreadSanitizer") == NULL, "%s", r.err);
    cr_expect_eq(r.status, 0, "exit %d: %s %s", r.status, r.out, r.err);
    cr_expect_str_eq(r.out, "ranges left 0, committed 0\n");
    run_free(&r);
}

/* The whole fallback chain, and a full disk, inside a private mount namespace: an
 * unwritable cwd and $TMPDIR fall back to /tmp; with /tmp read-only too, to stderr;
 * a full file system loses the file, never the program. Everything runs from a tmpfs
 * on /mnt (inside the namespace), since the build itself may live under /tmp. */
Test(hardening, fallbacks_tmp_stderr_and_full_disk, .timeout = 60)
{
    if (getuid() != 0) cr_skip_test("needs root (mount namespace)");
    char script[12000];
    snprintf(script, sizeof script,
             "set -e; mount -t tmpfs -o size=64m,mode=0755 none /mnt; cp '%s' /mnt/shim.so; cp '%s' /mnt/refuse; "
             "cd /mnt; mkdir -p ro full; mount -t tmpfs -o size=64k,mode=0555 none ro; "
             "mount -t tmpfs -o size=16k,mode=0777 none full; dd if=/dev/zero of=full/filler bs=4k count=64 2>/dev/null || true; "
             "mount -t tmpfs -o mode=1777 none /tmp; "
             "echo '== tmp'; (cd ro && LD_PRELOAD=/mnt/shim.so TMPDIR=/mnt/ro setpriv --reuid=65534 --regid=65534 "
             "--clear-groups /mnt/refuse mmap-pages 1000000000000 2>&1; ls /tmp); "
             "mount -o remount,ro /tmp; "
             "echo '== stderr'; (cd ro && LD_PRELOAD=/mnt/shim.so TMPDIR=/mnt/ro setpriv --reuid=65534 --regid=65534 "
             "--clear-groups /mnt/refuse mmap-pages 1000000000000 2>&1 | grep -c '^==[0-9]*== overshim: mmap refused'); "
             "echo '== full'; (cd full && LD_PRELOAD=/mnt/shim.so /mnt/refuse mmap-pages 1000000000000 > out.txt 2>&1; "
             "echo \"exit $?\")",
             shim_path(), prog("refuse"));
    char *argv[] = {"unshare", "--mount", "--propagation", "private", "sh", "-c", script, NULL};
    struct run r;
    run_cmd(&r, argv, NULL, "/", 0, 50);
    if (strstr(r.err, "unshare failed") || strstr(r.err, "Operation not permitted"))
        cr_skip_test("no mount namespaces here: %s", r.err);
    const char *tmp = strstr(r.out, "== tmp"), *se = strstr(r.out, "== stderr"), *full = strstr(r.out, "== full");
    cr_assert(tmp && se && full, "%s %s", r.out, r.err);
    cr_expect(strstr(tmp, "overshim_pid") && strstr(tmp, "overshim_pid") < se, "the report went to /tmp: %s", r.out);
    cr_expect(strstr(se, "\n1\n") != NULL && strstr(se, "\n1\n") < full, "the report went to stderr: %s", r.out);
    cr_expect(strstr(full, "exit 0") != NULL, "the program survives a full disk: %s", r.out);
    run_free(&r);
}

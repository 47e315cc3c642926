/* Issue 17: the flight recorder (flight=), overshim postmortem and overshim plot, with real
 * programs: a C program and a JVM killed with SIGKILL at a known point, a clean exit, a bad
 * path, a fork child, a kernel log with the OOM killer's line, the HTML plot rendered by
 * headless Chromium and the pixels of its screenshot, the Chrome trace. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "png.h"

/* Start argv with env (K=V..., NULL), stdout on a pipe; wait for a line "READY". */
static pid_t start_until_ready(char *const argv[], char *const env[], const char *cwd, int timeout_s)
{
    int po[2];
    cr_assert_eq(pipe(po), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(po[1], 1);
        close(po[0]), close(po[1]);
        int n = open("/dev/null", O_RDWR);
        dup2(n, 0);
        if (chdir(cwd) != 0) _exit(126);
        int e = open("stderr.txt", O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(e >= 0 ? e : n, 2);
        unsetenv("LD_PRELOAD");
        unsetenv("OVERSHIM_OPTIONS");
        for (int i = 0; env[i]; i++) putenv(env[i]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(po[1]);
    char buf[4096] = "";
    size_t len = 0;
    struct pollfd pf = {po[0], POLLIN, 0};
    time_t t0 = time(NULL);
    while (time(NULL) - t0 < timeout_s && !strstr(buf, "READY")) {
        buf[len] = 0;
        if (poll(&pf, 1, 200) <= 0) continue;
        ssize_t r = read(po[0], buf + len, sizeof buf - 1 - len);
        if (r <= 0) break;
        len += (size_t)r;
        buf[len] = 0;
    }
    close(po[0]);
    cr_assert(strstr(buf, "READY"), "%s did not get ready: '%s'", argv[0], buf);
    return pid;
}

static struct jval *postmortem_json(const char *flight, const char *extra)
{
    char *argv[6] = {(char *)cli(), "postmortem", (char *)flight, "--json", NULL, NULL};
    char *argv2[8] = {(char *)cli(), "postmortem", (char *)flight, "--json", "--kernel-log", (char *)extra, NULL};
    struct run r;
    run_cmd(&r, extra ? argv2 : argv, NULL, NULL, 0, 60);
    cr_assert_eq(r.status, 0, "postmortem: %s", r.err);
    char err[256];
    struct jval *j = json_parse(r.out, err, sizeof err);
    cr_assert(j, "postmortem --json: %s: %s", err, r.out);
    run_free(&r);
    return j;
}

/* The summary event the shim wrote in dir (json=dir/ev.jsonl). */
static const struct jval *summary_of(const char *path, struct jval **ev, int *n)
{
    char err[256];
    *n = json_lines(path, ev, MAX_EVENTS, err, sizeof err);
    cr_assert_gt(*n, 0, "%s: %s", path, err);
    const struct jval *s = json_event(ev, *n, "summary");
    cr_assert(s, "no summary in %s", path);
    return s;
}

/* Every thread of the summary has the same committed bytes in the postmortem, within tol
 * (a fraction); returns how many were compared. */
static int compare_threads(const struct jval *sum, const struct jval *pm, double tol)
{
    const struct jval *st = json_at(sum, "threads"), *pt = json_at(pm, "threads");
    cr_assert(st && pt && st->t == J_ARR && pt->t == J_ARR);
    int compared = 0;
    for (size_t i = 0; i < st->n; i++) {
        long long tid = json_int(st->items[i], "tid", -1), c = json_int(st->items[i], "committed_bytes", -1);
        const struct jval *m = NULL;
        for (size_t k = 0; k < pt->n && !m; k++)
            if (json_int(pt->items[k], "tid", -2) == tid) m = pt->items[k];
        cr_assert(m, "thread %lld of the summary is not in the postmortem", tid);
        long long pc = json_int(m, "committed_bytes", -1);
        double d = (double)(pc > c ? pc - c : c - pc);
        cr_assert_leq(d, tol * (double)c, "thread %lld: summary %lld bytes, postmortem %lld", tid, c, pc);
        compared++;
    }
    return compared;
}

Test(timeline, c_program_killed_matches_its_summary)
{
    char *dir = test_dir("tl_kill");
    char opt[600];
    snprintf(opt, sizeof opt, "OVERSHIM_OPTIONS=flight=%s/fl.%%p:json=%s/ev.jsonl:log=none:verbosity=0", dir, dir);
    char pre[600];
    snprintf(pre, sizeof pre, "LD_PRELOAD=%s", shim_path());
    char *env[] = {pre, opt, NULL};
    char *argv[] = {(char *)prog("timeline"), "4", "16", "25", "50", "hold", NULL};
    pid_t pid = start_until_ready(argv, env, dir, 60);
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    char flight[700];
    snprintf(flight, sizeof flight, "%s/fl.%d", dir, pid);
    struct jval *pm = postmortem_json(flight, NULL);
    cr_assert_str_eq(json_str(pm, "state"), "died", "a killed process did not exit");
    cr_assert_eq(json_at(pm, "exit")->t, J_NULL);
    struct jval *ev[MAX_EVENTS];
    int n;
    char evp[700];
    snprintf(evp, sizeof evp, "%s/ev.jsonl", dir);
    const struct jval *sum = summary_of(evp, ev, &n);
    cr_assert_geq(compare_threads(sum, pm, 0.0), 3, "main and two workers");
    cr_assert_eq(json_int(pm, "committed_bytes", -1), json_int(sum, "process.committed_bytes", -2));
    /* the workers' own 8 MiB each, exactly; the main thread holds the 4 x 16 MiB */
    const struct jval *pt = json_at(pm, "threads");
    int workers = 0;
    for (size_t i = 0; i < pt->n; i++) {
        long long c = json_int(pt->items[i], "committed_bytes", -1);
        if (json_int(pt->items[i], "tid", 0) == pid) cr_assert_geq(c, 64LL << 20);
        else if (c == 8LL << 20) workers++;
    }
    cr_assert_eq(workers, 2);
    /* samples were taken (piggy-backed on the calls, 50 ms apart: the first one at least) */
    cr_assert_geq(json_at(pm, "samples")->n, 1);
    /* a flight file plots too: its committed over time from the events and samples */
    char out[800];
    snprintf(out, sizeof out, "%s/flight.json", dir);
    char *pl[] = {(char *)cli(), "plot", flight, "-o", out, "--format", "chrome", NULL};
    struct run r;
    run_cmd(&r, pl, NULL, NULL, 0, 30);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_free(&r);
    char *jt = read_all(out), jerr[256];
    struct jval *j = json_parse(jt, jerr, sizeof jerr);
    cr_assert(j, "%s", jerr);
    const struct jval *te = json_at(j, "traceEvents");
    long long last = -1;
    for (size_t i = 0; i < te->n; i++)
        if (!strcmp(json_str(te->items[i], "name"), "committed")) last = json_int(te->items[i], "args.bytes", -1);
    cr_assert_eq(last, json_int(pm, "committed_bytes", -2), "the last committed point is what the process held");
    json_free(j);
    free(jt);
    json_free(pm);
    for (int i = 0; i < n; i++) json_free(ev[i]);
}

Test(timeline, clean_exit_is_said)
{
    char *dir = test_dir("tl_exit");
    char opt[600];
    snprintf(opt, sizeof opt, "OVERSHIM_OPTIONS=flight=%s/fl.%%p:log=none:json=none", dir);
    char *env[] = {opt, NULL};
    char *argv[] = {(char *)prog("timeline"), "2", "4", "0", "0", "exit", NULL};
    struct run r;
    run_cmd(&r, argv, env, dir, 1, 60);
    cr_assert_eq(r.status, 0, "%s", r.err);
    const char *f = find_file(dir, "fl.", "");
    cr_assert(f, "no flight file");
    char flight[700];
    snprintf(flight, sizeof flight, "%s", f);
    struct jval *pm = postmortem_json(flight, NULL);
    cr_assert_str_eq(json_str(pm, "state"), "exited");
    cr_assert(json_str(pm, "exit.via"));
    char *a2[] = {(char *)cli(), "postmortem", flight, NULL};
    struct run t;
    run_cmd(&t, a2, NULL, NULL, 0, 30);
    cr_assert(strstr(t.out, "exited normally"), "%s", t.out);
    run_free(&t);
    run_free(&r);
    json_free(pm);
}

Test(timeline, bad_path_is_one_line_and_the_program_runs)
{
    char *dir = test_dir("tl_bad");
    char *env[] = {"OVERSHIM_OPTIONS=flight=/nonexistent/dir/fl:trace=/nonexistent/tr:log=none:json=none", NULL};
    char *argv[] = {(char *)prog("timeline"), "1", "1", "0", "0", "exit", NULL};
    struct run r;
    run_cmd(&r, argv, env, dir, 1, 60);
    cr_assert_eq(r.status, 0);
    cr_assert(strstr(r.out, "READY"));
    int lines = 0;
    for (const char *p = r.err; (p = strstr(p, "overshim: ")); p++) lines++;
    cr_assert_eq(lines, 2, "one line per bad option: '%s'", r.err);
    cr_assert(strstr(r.err, "flight=/nonexistent/dir/fl") && strstr(r.err, "trace=/nonexistent/tr"), "%s", r.err);
    run_free(&r);
    /* RLIMIT_FSIZE below the file's size: no file, no SIGXFSZ */
    char lim[900];
    snprintf(lim, sizeof lim, "ulimit -f 100; exec %s 1 1 0 0 exit", prog("timeline"));
    char opt0[600];
    snprintf(opt0, sizeof opt0, "OVERSHIM_OPTIONS=flight=%s/big.fl:log=none:json=none", dir);
    char *env0[] = {opt0, NULL};
    char *sh[] = {"sh", "-c", lim, NULL};
    run_cmd(&r, sh, env0, dir, 1, 60);
    cr_assert_eq(r.status, 0, "the program ran to its end: %s", r.err);
    cr_assert(strstr(r.err, "cannot allocate"), "%s", r.err);
    run_free(&r);
    /* another live process's file (no %p in the path) is not taken over */
    char opt[600];
    snprintf(opt, sizeof opt, "OVERSHIM_OPTIONS=flight=%s/shared.fl:log=none:json=none:verbosity=0", dir);
    char pre[600];
    snprintf(pre, sizeof pre, "LD_PRELOAD=%s", shim_path());
    char *env2[] = {pre, opt, NULL};
    char *hold[] = {(char *)prog("timeline"), "1", "1", "0", "0", "hold", NULL};
    pid_t first = start_until_ready(hold, env2, dir, 60);
    char *env3[] = {opt, NULL};
    run_cmd(&r, argv, env3, dir, 1, 60);
    cr_assert_eq(r.status, 0);
    cr_assert(strstr(r.err, "another live process"), "%s", r.err);
    run_free(&r);
    kill(first, SIGKILL);
    waitpid(first, NULL, 0);
    char path[700];
    snprintf(path, sizeof path, "%s/shared.fl", dir);
    struct jval *pm = postmortem_json(path, NULL);
    cr_assert_eq(json_int(pm, "pid", 0), first, "the first process's file was kept");
    json_free(pm);
}

Test(timeline, fork_child_leaves_the_parents_file_alone)
{
    char *dir = test_dir("tl_fork");
    char opt[600];
    snprintf(opt, sizeof opt, "OVERSHIM_OPTIONS=flight=%s/fl.%%p:log=none:json=none", dir);
    char *env[] = {opt, NULL};
    /* sh forks and execs timeline: the exec'd program gets a file of its own (%p) */
    char cmd[800];
    snprintf(cmd, sizeof cmd, "%s 1 2 0 0 exit; %s 1 2 0 0 exit; true", prog("timeline"), prog("timeline"));
    char *argv[] = {"sh", "-c", cmd, NULL};
    struct run r;
    run_cmd(&r, argv, env, dir, 1, 60);
    cr_assert_eq(r.status, 0, "%s", r.err);
    int files = 0;
    char ls[800];
    snprintf(ls, sizeof ls, "ls %s | grep -c '^fl\\.'", dir);
    FILE *p = popen(ls, "r");
    cr_assert(p && fscanf(p, "%d", &files) == 1);
    pclose(p);
    cr_assert_eq(files, 3, "the shell and its two programs, one file each");
    run_free(&r);
}

/* The kernel's side: a recorded log with the OOM killer's line for this pid (the VM suite
 * gives a real one; here the line of a 6.x kernel, with the numbers of another process). */
Test(timeline, postmortem_matches_a_recorded_oom_kill_line)
{
    char *dir = test_dir("tl_oom");
    char opt[600];
    snprintf(opt, sizeof opt, "OVERSHIM_OPTIONS=flight=%s/fl.%%p:log=none:json=none", dir);
    char pre[600];
    snprintf(pre, sizeof pre, "LD_PRELOAD=%s", shim_path());
    char *env[] = {pre, opt, NULL};
    char *argv[] = {(char *)prog("timeline"), "1", "8", "50", "0", "hold", NULL};
    pid_t pid = start_until_ready(argv, env, dir, 60);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    char log[700], flight[700];
    snprintf(log, sizeof log, "%s/kern.log", dir);
    snprintf(flight, sizeof flight, "%s/fl.%d", dir, pid);
    FILE *f = fopen(log, "w");
    fprintf(f, "[ 1000.123456] timeline invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0\n");
    fprintf(f, "[ 1000.200000] Out of memory: Killed process %d (othername) total-vm:1000kB, anon-rss:10kB\n", pid);
    fprintf(f, "[ 1000.223456] Out of memory: Killed process %d (timeline) total-vm:86420kB, anon-rss:8316kB, "
               "file-rss:1280kB, shmem-rss:0kB, UID:0 pgtables:76kB oom_score_adj:0\n",
            pid);
    fclose(f);
    struct jval *pm = postmortem_json(flight, log);
    const struct jval *k = json_at(pm, "kernel.oom_kill");
    cr_assert(k && k->t == J_OBJ, "no oom_kill matched");
    cr_assert_eq(json_int(k, "pid", 0), pid);
    cr_assert_str_eq(json_str(k, "comm"), "timeline", "the line of another command is not taken");
    cr_assert_eq(json_int(k, "total_vm_kb", 0), 86420);
    cr_assert_eq(json_int(k, "anon_rss_kb", 0), 8316);
    cr_assert_eq(json_int(k, "file_rss_kb", 0), 1280);
    /* the kernel's numbers against the last sample, as the VM suite's case checks them */
    const struct jval *ls = json_at(k, "last_sample");
    cr_assert(ls && ls->t == J_OBJ, "the last sample is compared");
    double vm = (double)json_int(ls, "vm_size_kb", 0), ra = (double)json_int(ls, "rss_anon_kb", 0);
    cr_assert_gt(vm, 0);
    cr_assert_gt(ra, 0);
    cr_assert_float_eq(json_at(ls, "total_vm_diff_pct")->num, 100 * (86420 - vm) / vm, 0.01);
    cr_assert_float_eq(json_at(ls, "anon_rss_diff_pct")->num, 100 * (8316 - ra) / ra, 0.01);
    char *a2[] = {(char *)cli(), "postmortem", flight, "--kernel-log", log, NULL};
    struct run t;
    run_cmd(&t, a2, NULL, NULL, 0, 30);
    cr_assert(strstr(t.out, "killed by the kernel's OOM killer"), "%s", t.out);
    run_free(&t);
    json_free(pm);
}

Test(timeline, jvm_killed_matches_its_summary, .timeout = 180)
{
    char *dir = test_dir("tl_jvm");
    char fifo[700], done[700], opt[900], pre[900], e1[800], e2[800];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    snprintf(done, sizeof done, "%s/done", dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    snprintf(opt, sizeof opt, "OVERSHIM_OPTIONS=flight=%s/fl.%%p:json=%s/ev.jsonl:log=none:verbosity=0", dir, dir);
    snprintf(pre, sizeof pre, "LD_PRELOAD=%s %s/tests/libsumtrig.so", shim_path(), build_dir());
    snprintf(e1, sizeof e1, "SUMTRIG_FIFO=%s", fifo);
    snprintf(e2, sizeof e2, "SUMTRIG_DONE=%s", done);
    char *env[] = {pre, opt, e1, e2, NULL};
    char cp[800];
    snprintf(cp, sizeof cp, "%s/tests", build_dir());
    /* a small heap, no JIT threads (-Xint) and one GC thread: nothing commits between the
     * summary and the kill but what the program does */
    char *argv[] = {"java", "-Xmx256m", "-Xint", "-XX:+UseSerialGC", "-cp", cp, "Holder", NULL};
    pid_t pid = start_until_ready(argv, env, dir, 120);
    int fd = open(fifo, O_WRONLY);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "s", 1), 1);
    close(fd);
    for (int i = 0; i < 200 && access(done, F_OK) != 0; i++) usleep(50000);
    char *d = read_all(done);
    cr_assert(d && !strncmp(d, "done", 4), "the summary was not written");
    kill(pid, SIGKILL); /* the known point: right after the summary */
    waitpid(pid, NULL, 0);
    char flight[700], evp[700];
    snprintf(flight, sizeof flight, "%s/fl.%d", dir, pid);
    snprintf(evp, sizeof evp, "%s/ev.jsonl", dir);
    struct jval *pm = postmortem_json(flight, NULL);
    cr_assert_str_eq(json_str(pm, "state"), "died");
    struct jval *ev[MAX_EVENTS];
    int n;
    const struct jval *sum = summary_of(evp, ev, &n);
    int k = compare_threads(sum, pm, 0.01);
    cr_assert_geq(k, 8, "a JVM has many threads: %d compared", k);
    long long pc = json_int(pm, "committed_bytes", -1), sc = json_int(sum, "process.committed_bytes", -1);
    cr_assert_gt(sc, 100LL << 20, "the JVM commits its heap and more: %lld", sc);
    cr_assert_leq((double)(pc > sc ? pc - sc : sc - pc), 0.01 * (double)sc, "process: summary %lld, postmortem %lld", sc,
                  pc);
    json_free(pm);
    for (int i = 0; i < n; i++) json_free(ev[i]);
    free(d);
}

/* Chromium takes a screenshot of the HTML; its plot area has the committed (blue), touched
 * (orange) and limit (red) lines and the refusal (purple) in it. */
Test(timeline, plot_html_renders_with_its_lines, .timeout = 240)
{
    char *dir = test_dir("tl_plot");
    char opt[600];
    snprintf(opt, sizeof opt, "OVERSHIM_OPTIONS=trace=%s/tr.%%p:log=none:json=none", dir);
    char *env[] = {opt, NULL};
    char *argv[] = {(char *)prog("timeline"), "8", "16", "50", "150", "exit", NULL};
    struct run r;
    run_cmd(&r, argv, env, dir, 1, 60);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_free(&r);
    const char *tf = find_file(dir, "tr.", "");
    cr_assert(tf);
    char trace[700], html[700], png[700], url[800], json[700], box[700];
    snprintf(trace, sizeof trace, "%s", tf);
    snprintf(html, sizeof html, "%s/plot.html", dir);
    snprintf(png, sizeof png, "%s/shot.png", dir);
    snprintf(json, sizeof json, "%s/plot.json", dir);
    snprintf(url, sizeof url, "file://%s", html);
    snprintf(box, sizeof box, "%s/box.snapshot", dir);
    /* a 1 GiB box under strict overcommit with 400 MiB committed: the program's 8 x 16 MiB reach
     * its limit */
    FILE *b = fopen(box, "w");
    fprintf(b, "# overshim snapshot 1\nkernel = 5.10.0-20-amd64\npage_size = 4096\n[sysctl]\nvm.overcommit_memory = 2\n"
               "vm.overcommit_ratio = 50\n[meminfo]\nMemTotal: 1048576 kB\nMemFree: 600000 kB\nCached: 100000 kB\n"
               "SwapTotal: 0 kB\nSwapFree: 0 kB\nCommitted_AS: 409600 kB\nCommitLimit: 524288 kB\n");
    fclose(b);
    char *p1[] = {(char *)cli(), "plot", trace, "-o", html, "--snapshot", box, NULL};
    run_cmd(&r, p1, NULL, NULL, 0, 60);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_free(&r);
    char *html_text = read_all(html);
    cr_assert(html_text);
    cr_assert(!strstr(html_text, "<script") && !strstr(html_text, "src=") && !strstr(html_text, "href="),
              "self-contained: nothing fetched");
    cr_assert(strstr(html_text, "would be refused"), "the replayed refusal is marked");
    free(html_text);
    char shot[800];
    snprintf(shot, sizeof shot, "--screenshot=%s", png);
    char *c[] = {"chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", shot,
                 "--window-size=1150,800", url, NULL};
    char home[800];
    snprintf(home, sizeof home, "HOME=%s", dir);
    char *cenv[] = {home, NULL};
    run_cmd(&r, c, cenv, dir, 0, 180);
    cr_assert_eq(r.status, 0, "chromium: %s", r.err);
    run_free(&r);
    int w, h;
    unsigned char *px = png_read_rgba(png, &w, &h);
    cr_assert(px, "the screenshot is not a PNG this test reads");
    cr_assert_eq(w, 1150);
    /* the plot area: x 90..1060, y 40..440 of the SVG, below the heading */
    long blue = png_count(px, w, h, 0x1f77b4, 12, 90, 40, 1100, 560);
    long orange = png_count(px, w, h, 0xff7f0e, 12, 90, 40, 1100, 560);
    long red = png_count(px, w, h, 0xd62728, 12, 90, 40, 1100, 560);
    long purple = png_count(px, w, h, 0x9467bd, 12, 90, 40, 1100, 560);
    cr_assert_gt(blue, 500, "committed line: %ld px", blue);
    cr_assert_gt(orange, 500, "touched line: %ld px", orange);
    cr_assert_gt(red, 300, "limit line: %ld px", red);
    cr_assert_gt(purple, 100, "refusal mark: %ld px", purple);
    free(px);
    /* Chrome Trace Event JSON: parses; counters and instants with the documented names */
    char *p2[] = {(char *)cli(), "plot", trace, "-o", json, "--format", "chrome", NULL};
    run_cmd(&r, p2, NULL, NULL, 0, 60);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_free(&r);
    char *jt = read_all(json), err[256];
    struct jval *j = json_parse(jt, err, sizeof err);
    cr_assert(j, "chrome trace: %s", err);
    const struct jval *te = json_at(j, "traceEvents");
    cr_assert(te && te->t == J_ARR);
    int committed = 0, touched = 0, threads = 0, instants = 0, meta = 0;
    for (size_t i = 0; i < te->n; i++) {
        const char *ph = json_str(te->items[i], "ph"), *name = json_str(te->items[i], "name");
        cr_assert(ph && name);
        cr_assert(json_at(te->items[i], "pid"));
        if (!strcmp(ph, "C")) {
            cr_assert(json_at(te->items[i], "ts") && json_at(te->items[i], "args"));
            committed += !strcmp(name, "committed");
            touched += !strcmp(name, "touched");
            threads += !strcmp(name, "thread_committed");
        } else if (!strcmp(ph, "i")) {
            instants += !strcmp(name, "thread_start") || !strcmp(name, "thread_exit") || !strcmp(name, "exit");
        } else if (!strcmp(ph, "M")) {
            meta += !strcmp(name, "process_name");
        }
    }
    cr_assert_gt(committed, 8);
    cr_assert_gt(touched, 0);
    cr_assert_gt(threads, 0);
    cr_assert_geq(instants, 4, "two thread starts and exits at least");
    cr_assert_eq(meta, 1);
    json_free(j);
    free(jt);
}

/* A program that closes every descriptor and opens a file of its own may get the number the
 * trace's descriptor had: the trace then stops growing (records counted as dropped) and the
 * program's file is not touched. */
Test(timeline, trace_never_grows_a_file_of_the_program)
{
    char *dir = test_dir("tl_fds");
    char opt[600];
    snprintf(opt, sizeof opt, "OVERSHIM_OPTIONS=trace=%s/tr.%%p:log=none:json=none", dir);
    char *env[] = {opt, NULL};
    char *argv[] = {(char *)prog("timeline"), "closefds", "20000", NULL};
    struct run r;
    run_cmd(&r, argv, env, dir, 1, 60);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, ", 0 bytes"), "the program's file grew: %s", r.out);
    run_free(&r);
    const char *tf = find_file(dir, "tr.", "");
    cr_assert(tf);
    char path[700];
    snprintf(path, sizeof path, "%s", tf);
    FILE *f = fopen(path, "rb");
    struct osh_trace_header_view {
        char magic[8];
        uint32_t version, header_size, rec_size, pad0;
        int32_t pid, ppid;
        uint64_t start_realtime_ns, start_mono_ns;
        uint32_t page_size, overcommit_memory;
        int64_t start_ac_pages, start_rss_anon_kb;
        uint64_t max_recs, rec_count, dropped;
    } h;
    cr_assert(f && fread(&h, sizeof h, 1, f) == 1);
    fclose(f);
    cr_assert_gt(h.rec_count, 40000, "two requests and two charges per mmap+munmap: %llu", (unsigned long long)h.rec_count);
    cr_assert_gt(h.dropped, 0, "past the first MiB the trace could not grow");
}

/* An idle process makes no call to piggy-back samples on: flight_sampler=1 takes them anyway,
 * once a second, from a thread whose name says whose it is. */
Test(timeline, sampler_thread_samples_an_idle_process, .timeout = 60)
{
    char *dir = test_dir("tl_sampler");
    long long samples[2];
    for (int with = 0; with < 2; with++) {
        char opt[600];
        snprintf(opt, sizeof opt, "OVERSHIM_OPTIONS=flight=%s/fl%d.%%p:flight_sampler=%d:log=none:json=none", dir, with,
                 with);
        char pre[600];
        snprintf(pre, sizeof pre, "LD_PRELOAD=%s", shim_path());
        char *env[] = {pre, opt, NULL};
        char *argv[] = {(char *)prog("timeline"), "1", "4", "50", "0", "hold", NULL};
        pid_t pid = start_until_ready(argv, env, dir, 60);
        sleep(3);
        if (with) { /* the sampler is there, by its name */
            char cmd[1200];
            snprintf(cmd, sizeof cmd, "grep -l overshim-flight /proc/%d/task/*/comm | wc -l", pid);
            FILE *p = popen(cmd, "r");
            int n = 0;
            cr_assert(p && fscanf(p, "%d", &n) == 1);
            pclose(p);
            cr_assert_eq(n, 1, "sampler threads in %d: %d", pid, n);
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        char flight[700];
        snprintf(flight, sizeof flight, "%s/fl%d.%d", dir, with, pid);
        struct jval *pm = postmortem_json(flight, NULL);
        samples[with] = (long long)json_at(pm, "samples")->n;
        json_free(pm);
    }
    cr_assert_eq(samples[0], 1, "without the sampler: the one sample of the first call");
    cr_assert_geq(samples[1], 3, "with it: one a second");
}

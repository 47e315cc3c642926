/* Issue 11: the host program's descriptors, report paths that are not regular files,
 * every malloc-family call that takes from glibc's tcache, the sized frees, and the
 * start-up warning about definitions ahead of the shim. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define HUGE_PAGES "1000000000000" /* refuse mmap-pages: more than any address space */

/* Entries in dir besides . and .. */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

/* Names in /dev that start with one of the device names the tests write to, followed
 * by a dot: what the old no-overwrite rule made (/dev/null.1). Joined into one string. */
static void dev_leftovers(char *out, size_t cap)
{
    out[0] = 0;
    DIR *d = opendir("/dev");
    if (!d) return;
    struct dirent *e;
    static const char *const dev[] = {"null.", "full.", "stdout.", "stderr.", "fd."};
    while ((e = readdir(d)))
        for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++)
            if (!strncmp(e->d_name, dev[i], strlen(dev[i])) && strlen(out) + strlen(e->d_name) + 2 < cap) {
                strcat(out, e->d_name);
                strcat(out, " ");
            }
    closedir(d);
}

/* Parse text as JSON Lines: every line must parse. Returns the number of lines and
 * counts those whose event is `kind` (may be NULL). */
static int json_text_lines(const char *text, const char *kind, int *kinds)
{
    int n = 0;
    if (kinds) *kinds = 0;
    char *copy = strdup(text), *save = NULL;
    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char err[256];
        struct jval *v = json_parse(l, err, sizeof err);
        cr_expect(v != NULL, "line %d is not JSON (%s): %.200s", n + 1, err, l);
        if (v && kind && kinds && json_str(v, "event") && !strcmp(json_str(v, "event"), kind)) ++*kinds;
        json_free(v);
        n++;
    }
    free(copy);
    return n;
}

static char *slurp_fd(int fd)
{
    size_t len = 0, cap = 65536;
    char *b = malloc(cap);
    for (;;) {
        if (len + 65536 + 1 > cap) b = realloc(b, cap *= 2);
        ssize_t r = read(fd, b + len, 65536);
        if (r <= 0) break;
        len += (size_t)r;
    }
    b[len] = 0;
    return b;
}

static void opts(char *buf, size_t cap, const char *fmt, const char *a, const char *b)
{
    char o[9000];
    snprintf(o, sizeof o, fmt, a, b);
    snprintf(buf, cap, "OVERSHIM_OPTIONS=%s", o);
}

/* ---- 6. descriptors: the shim's are >= 3 and close-on-exec ------------------ */

/* fds 0..1023 closed, then two refusals: the JSON file is not where stderr was, so
 * the SUMMARY line stays out of it; every line parses and the text log holds both
 * reports. */
Test(host, closed_stdio_keeps_reports_apart)
{
    char *dir = test_dir("closedfds");
    char log[4200], json[4200], env0[9100];
    snprintf(log, sizeof log, "%s/r.log", dir);
    snprintf(json, sizeof json, "%s/r.jsonl", dir);
    opts(env0, sizeof env0, "log=%s:json=%s:report_at_exit=1", log, json);
    char *env[] = {env0, NULL};
    char *argv[] = {(char *)prog("host_fds"), "closed", log, json, NULL};
    struct run r;
    run_cmd(&r, argv, env, dir, 1, 30);
    cr_expect_eq(r.status, 0, "exit %d (4: a report file at 0-2, 5: a descriptor not close-on-exec)", r.status);
    char *text = read_all(json);
    cr_assert(text, "no %s", json);
    int enomem, n = json_text_lines(text, "enomem", &enomem);
    cr_expect_eq(enomem, 2, "both refusals in the JSON file");
    cr_expect_geq(n, 4, "two enomem events, the summary and the exit event: %d lines", n);
    cr_expect(strstr(text, "SUMMARY") == NULL, "the stderr line went into the JSON file");
    free(text);
    text = read_all(log);
    cr_assert(text);
    const char *first = strstr(text, "overshim: mmap refused");
    cr_expect(first && strstr(first + 1, "overshim: mmap refused") && strstr(text, "STACK"), "%s", text);
    cr_expect(strstr(text, "\"schema\"") == NULL, "JSON in the text log");
    free(text);
    run_free(&r);
    free(dir);
}

/* ---- 7. report paths that are not regular files ----------------------------- */

static void refuse_in(struct run *r, const char *dir, const char *options, char *extra)
{
    char env0[9000];
    snprintf(env0, sizeof env0, "OVERSHIM_OPTIONS=%s", options);
    char *env[] = {env0, extra, NULL};
    char *argv[] = {(char *)prog("refuse"), "mmap-pages", HUGE_PAGES, NULL};
    run_cmd(r, argv, env, dir, 1, 30);
}

/* The same program without the shim: the status and stdout a shimmed run must keep. */
static void bare(struct run *r)
{
    char *argv[] = {(char *)prog("refuse"), "mmap-pages", HUGE_PAGES, NULL};
    run_cmd(r, argv, NULL, NULL, 0, 30);
}

Test(host, fifo_with_a_reader_gets_the_report)
{
    char *dir = test_dir("fifo");
    char tf[4200], jf[4200], o[9000];
    snprintf(tf, sizeof tf, "%s/log.fifo", dir);
    snprintf(jf, sizeof jf, "%s/json.fifo", dir);
    cr_assert_eq(mkfifo(tf, 0600), 0);
    cr_assert_eq(mkfifo(jf, 0600), 0);
    int rt = open(tf, O_RDONLY | O_NONBLOCK), rj = open(jf, O_RDONLY | O_NONBLOCK); /* readers, before any writer */
    cr_assert(rt >= 0 && rj >= 0);
    snprintf(o, sizeof o, "log=%s:json=%s", tf, jf);
    struct run r, b;
    refuse_in(&r, dir, o, NULL);
    bare(&b);
    cr_expect_eq(r.status, b.status);
    cr_expect_str_eq(r.out, b.out);
    char *text = slurp_fd(rt), *json = slurp_fd(rj);
    cr_expect(strstr(text, "overshim: mmap refused") && strstr(text, "STACK"), "text through the FIFO: %s", text);
    int exits, n = json_text_lines(json, "exit", &exits);
    cr_expect_geq(n, 2, "JSON through the FIFO: %s", json);
    cr_expect_eq(exits, 1);
    cr_expect_eq(entries(dir), 2, "only the two FIFOs in %s", dir);
    free(text);
    free(json);
    close(rt);
    close(rj);
    run_free(&r);
    run_free(&b);
    free(dir);
}

/* A reader that never reads: once the FIFO is full the shim waits for room once (a
 * second), then drops what does not fit, and does not wait again for every later
 * report (100 refusals would otherwise cost a second each). */
Test(host, fifo_reader_that_never_reads, .timeout = 60)
{
    char *dir = test_dir("fifo-stuck");
    char f[4200], e0[4400];
    snprintf(f, sizeof f, "%s/log.fifo", dir);
    cr_assert_eq(mkfifo(f, 0600), 0);
    int rd = open(f, O_RDONLY | O_NONBLOCK);
    cr_assert(rd >= 0);
    snprintf(e0, sizeof e0, "OVERSHIM_OPTIONS=log=%s:json=none:verbosity=0:max_reports=100", f);
    char *env[] = {e0, NULL};
    char *argv[] = {(char *)prog("refuse"), "many", "50", NULL};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct run r;
    run_cmd(&r, argv, env, dir, 1, 40);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cr_expect(!r.timed_out);
    cr_expect_eq(r.status, 0, "%s", r.out);
    cr_expect_lt(t1.tv_sec - t0.tv_sec, 15, "100 refusals took %ld s", (long)(t1.tv_sec - t0.tv_sec));
    cr_expect_eq(entries(dir), 1);
    close(rd);
    run_free(&r);
    free(dir);
}

/* No reader: the open fails at once (never blocks the program) and the report falls
 * back as an unwritable path does, to $TMPDIR. */
Test(host, fifo_without_a_reader_falls_back)
{
    char *dir = test_dir("fifo-alone"), *tmp = test_dir("fifo-tmp");
    char f[4200], o[9000], t[4300];
    snprintf(f, sizeof f, "%s/log.fifo", dir);
    cr_assert_eq(mkfifo(f, 0600), 0);
    snprintf(o, sizeof o, "log=%s:json=none", f);
    snprintf(t, sizeof t, "TMPDIR=%s", tmp);
    struct run r, b;
    refuse_in(&r, dir, o, t);
    bare(&b);
    cr_expect(!r.timed_out, "the program hung on a FIFO without a reader");
    cr_expect_eq(r.status, b.status);
    cr_expect_str_eq(r.out, b.out);
    cr_expect_eq(entries(dir), 1, "only the FIFO in %s", dir);
    char alt[4300];
    snprintf(alt, sizeof alt, "%s/log.fifo", tmp);
    char *rep = read_all(alt);
    cr_expect(rep && strstr(rep, "overshim: mmap refused"), "the report went to $TMPDIR: %s", r.err);
    free(rep);
    run_free(&r);
    run_free(&b);
    free(dir);
    free(tmp);
}

static int unix_socket(const char *path, int type)
{
    int s = socket(AF_UNIX, type, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0, "bind %s: %s", path, strerror(errno));
    if (type == SOCK_STREAM) cr_assert_eq(listen(s, 4), 0);
    return s;
}

/* A socket path short enough for sun_path (the build directory may be deep). */
static char *short_dir(const char *name)
{
    char *d = malloc(64);
    snprintf(d, 64, "/tmp/osh-%s-XXXXXX", name);
    cr_assert(mkdtemp(d));
    return d;
}

Test(host, unix_stream_socket_is_connected_to)
{
    char *dir = short_dir("sock");
    char s[128], o[9000];
    snprintf(s, sizeof s, "%s/j.sock", dir);
    int l = unix_socket(s, SOCK_STREAM);
    snprintf(o, sizeof o, "log=none:json=%s", s);
    struct run r, b;
    refuse_in(&r, dir, o, NULL);
    bare(&b);
    cr_expect_eq(r.status, b.status);
    cr_expect_str_eq(r.out, b.out);
    struct pollfd p = {l, POLLIN, 0};
    cr_assert_eq(poll(&p, 1, 5000), 1, "the shim never connected");
    int c = accept(l, NULL, NULL); /* the connection waits in the backlog after the program left */
    cr_assert(c >= 0);
    char *json = slurp_fd(c);
    int enomem, n = json_text_lines(json, "enomem", &enomem);
    cr_expect_eq(enomem, 1, "%s", json);
    cr_expect_geq(n, 2);
    cr_expect_eq(entries(dir), 1, "only the socket in %s", dir);
    free(json);
    close(c);
    close(l);
    unlink(s);
    rmdir(dir);
    run_free(&r);
    run_free(&b);
    free(dir);
}

Test(host, unix_datagram_socket_is_connected_to)
{
    char *dir = short_dir("dgram");
    char s[128], o[9000];
    snprintf(s, sizeof s, "%s/j.sock", dir);
    int d = unix_socket(s, SOCK_DGRAM);
    snprintf(o, sizeof o, "log=none:json=%s", s);
    struct run r;
    refuse_in(&r, dir, o, NULL);
    cr_expect_eq(r.status, 0);
    char all[262144];
    size_t len = 0;
    for (;;) {
        ssize_t k = recv(d, all + len, sizeof all - 1 - len, MSG_DONTWAIT);
        if (k <= 0) break;
        len += (size_t)k;
    }
    all[len] = 0;
    int enomem;
    json_text_lines(all, "enomem", &enomem);
    cr_expect_eq(enomem, 1, "%s", all);
    close(d);
    unlink(s);
    rmdir(dir);
    run_free(&r);
    free(dir);
}

/* /dev/stdout and its other names are the program's fd 1, written as it is (a pipe
 * here, which cannot be reopened as a file anyway): the JSON lines arrive between the
 * program's own, which are unchanged. No file is made, in the directory or in /dev. */
Test(host, dev_stdout_is_fd_1)
{
    static const char *const names[] = {"/dev/stdout", "stdout", "/dev/fd/1", "/proc/self/fd/1"};
    char before[4096], after[4096];
    dev_leftovers(before, sizeof before);
    struct run b;
    bare(&b);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *dir = test_dir("stdout");
        char o[9000];
        snprintf(o, sizeof o, "log=none:json=%s", names[i]);
        struct run r;
        refuse_in(&r, dir, o, NULL);
        cr_expect_eq(r.status, b.status, "%s", names[i]);
        char own[65536] = "", json[262144] = "";
        char *copy = strdup(r.out), *save = NULL;
        for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            char *to = l[0] == '{' ? json : own;
            size_t cap = l[0] == '{' ? sizeof json : sizeof own;
            if (strlen(to) + strlen(l) + 2 < cap) strcat(strcat(to, l), "\n");
        }
        free(copy);
        cr_expect_str_eq(own, b.out, "%s: the program's own output changed", names[i]);
        int exits, n = json_text_lines(json, "exit", &exits);
        cr_expect_geq(n, 2, "%s: %s", names[i], r.out);
        cr_expect_eq(exits, 1, "%s", names[i]);
        cr_expect_eq(entries(dir), 0, "%s: files written", names[i]);
        run_free(&r);
        free(dir);
    }
    dev_leftovers(after, sizeof after);
    cr_expect_str_eq(after, before, "new files in /dev");
    run_free(&b);
}

/* /dev/null is not opened at all (like none): no report path on the SUMMARY line, no
 * /dev/null.1 (as root the old rule created one). */
Test(host, dev_null_is_none)
{
    char before[4096], after[4096];
    dev_leftovers(before, sizeof before);
    char *dir = test_dir("null");
    struct run r, b;
    refuse_in(&r, dir, "log=/dev/null:json=/dev/null", NULL);
    bare(&b);
    cr_expect_eq(r.status, b.status);
    cr_expect_str_eq(r.out, b.out);
    cr_expect(strstr(r.err, "SUMMARY: overshim:") && !strstr(r.err, "(report:"), "%s", r.err);
    cr_expect_eq(entries(dir), 0);
    dev_leftovers(after, sizeof after);
    cr_expect_str_eq(after, before, "new files in /dev (root: %d)", getuid() == 0);
    run_free(&r);
    run_free(&b);
    free(dir);
}

/* /dev/full is written as it is: every write fails with ENOSPC, once, and the program
 * goes on as before (ten refusals, ten reports lost). */
Test(host, dev_full_loses_the_reports_not_the_program)
{
    char before[4096], after[4096];
    dev_leftovers(before, sizeof before);
    char *dir = test_dir("full");
    char e0[] = "OVERSHIM_OPTIONS=log=/dev/full:json=/dev/full:report_at_exit=1";
    char *env[] = {e0, NULL};
    char *argv[] = {(char *)prog("refuse"), "many", "5", NULL};
    struct run r, b;
    run_cmd(&r, argv, env, dir, 1, 60);
    run_cmd(&b, argv, NULL, dir, 0, 60);
    cr_expect(!r.timed_out);
    cr_expect_eq(r.status, b.status, "%s", r.err);
    cr_expect_str_eq(r.out, b.out);
    cr_expect_eq(entries(dir), 0);
    dev_leftovers(after, sizeof after);
    cr_expect_str_eq(after, before, "new files in /dev (root: %d)", getuid() == 0);
    run_free(&r);
    run_free(&b);
    free(dir);
}

/* Run argv under the shim with stdout and stderr on the given descriptors, in a test
 * directory (a shim that took a keyword for a file name leaves it there); the exit
 * status, or 128 + the signal that killed it. */
static int run_on(char *const argv[], const char *options, int out, int err)
{
    char *dir = test_dir("run-on");
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(dir) != 0) _exit(126);
        dup2(out, 1);
        dup2(err, 2);
        setenv("LD_PRELOAD", shim_path(), 1);
        setenv("OVERSHIM_OPTIONS", options, 1);
        signal(SIGPIPE, SIG_DFL); /* as a program starts by default, whatever the runner set */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    cr_expect_eq(entries(dir), 0, "%s: files written for %s", argv[0], options);
    free(dir);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A reader that is gone: writing to the pipe or socket raises SIGPIPE, which kills by
 * default. The shim's writes never do: a JSON stream on stdout, the SUMMARY line on
 * stderr, a socket peer that closed. The program writes nothing itself. */
Test(host, sigpipe_never_kills_the_program)
{
    char *argv[] = {(char *)prog("host_fds"), "quiet", NULL};
    int p[2];
    cr_assert_eq(pipe(p), 0);
    close(p[0]);
    cr_expect_eq(run_on(argv, "log=none:json=stdout", p[1], p[1]), 0, "JSON into a pipe without a reader");
    cr_expect_eq(run_on(argv, "log=stderr:json=none", p[1], p[1]), 0, "the report on a stderr without a reader");
    cr_expect_eq(run_on(argv, "log=none:json=none", p[1], p[1]), 0, "the SUMMARY line on a stderr without a reader");
    close(p[1]);
    int sp[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    close(sp[0]);
    cr_expect_eq(run_on(argv, "log=stdout:json=stdout", sp[1], sp[1]), 0, "a socket whose peer closed");
    close(sp[1]);
    /* the program blocks SIGPIPE itself and has one pending: it stays pending */
    int q[2];
    cr_assert_eq(pipe(q), 0);
    close(q[0]);
    char *pending[] = {(char *)prog("host_fds"), "pending", NULL};
    cr_expect_eq(run_on(pending, "log=none:json=stdout", q[1], q[1]), 0, "the program's own pending SIGPIPE was taken");
    close(q[1]);
}

struct closer {
    int listener;
};

static void *accept_and_close(void *a)
{
    struct closer *c = a;
    int s = accept(c->listener, NULL, NULL);
    if (s >= 0) close(s);
    return NULL;
}

/* A socket the shim connected itself, whose listener accepts and hangs up at once:
 * the later writes fail (EPIPE, with MSG_NOSIGNAL), the program does not notice. */
Test(host, socket_peer_gone_is_not_fatal)
{
    char *dir = short_dir("gone");
    char s[128], o[9000];
    snprintf(s, sizeof s, "%s/j.sock", dir);
    struct closer c = {unix_socket(s, SOCK_STREAM)};
    pthread_t t;
    pthread_create(&t, NULL, accept_and_close, &c);
    snprintf(o, sizeof o, "log=none:json=%s", s);
    int devnull = open("/dev/null", O_WRONLY);
    char *argv[] = {(char *)prog("refuse"), "many", "10", NULL};
    cr_expect_eq(run_on(argv, o, devnull, devnull), 0);
    pthread_join(t, NULL);
    close(devnull);
    close(c.listener);
    unlink(s);
    rmdir(dir);
    free(dir);
}

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

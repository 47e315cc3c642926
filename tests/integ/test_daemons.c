/* Issue 7: real daemons from Debian's packages under the shim, each started on
 * loopback by its test and stopped within a bounded time. */
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

static int port_base(void) { return 20000 + (int)(getpid() % 5000) * 2; }

/* Start argv in the background (own process group), with extra environment. */
static pid_t start_bg(char *const argv[], char *const env[], const char *cwd)
{
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        if (cwd && chdir(cwd) != 0) _exit(126);
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0), dup2(null, 1), dup2(null, 2);
        unsetenv("LD_PRELOAD");
        unsetenv("OVERSHIM_OPTIONS");
        for (int i = 0; env && env[i]; i++) putenv(env[i]);
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static void stop_bg(pid_t pid)
{
    kill(-pid, SIGTERM);
    for (int i = 0; i < 50; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid) return;
        usleep(100000);
    }
    kill(-pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* make test installs the packages (scripts/deps.sh daemons); skip, saying why, only
 * when that was impossible. */
#define NEED(path, pkg)                                                                             \
    do {                                                                                            \
        if (access(path, X_OK) != 0) cr_skip_test("%s is not installed (Debian package %s)", path, pkg); \
    } while (0)

/* redis-cli against the test's port; returns stdout (malloc). */
static char *rcli(int port, const char *a1, const char *a2, const char *a3, const char *a4, const char *a5)
{
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    char *argv[] = {"redis-cli", "-p", p, (char *)a1, (char *)a2, (char *)a3, (char *)a4, (char *)a5, NULL};
    struct run r;
    run_cmd(&r, argv, NULL, NULL, 0, 60);
    char *out = strdup(r.out);
    run_free(&r);
    return out;
}

/* Ask fetch(port) every 100 ms, for 10 s, until its answer contains want. */
static int wait_for(char *(*fetch)(int), int port, const char *want)
{
    for (int i = 0; i < 100; i++) {
        char *o = fetch(port);
        int ok = strstr(o, want) != NULL;
        free(o);
        if (ok) return 1;
        usleep(100000);
    }
    return 0;
}

static char *ping(int port) { return rcli(port, "ping", NULL, NULL, NULL, NULL); }
static int wait_ping(int port) { return wait_for(ping, port, "PONG"); }

static long long allocator_allocated(int port)
{
    char *o = rcli(port, "info", "memory", NULL, NULL, NULL);
    const char *k = strstr(o, "allocator_allocated:");
    long long v = k ? atoll(k + 20) : -1;
    free(o);
    return v;
}

/* The installed redis-server's major version ("Redis server v=7.0.15 ..."), 0 if unknown. */
static int redis_major(void)
{
    FILE *p = popen("redis-server --version 2>/dev/null", "r");
    char line[256] = "";
    if (p && !fgets(line, sizeof line, p)) line[0] = 0;
    if (p) pclose(p);
    const char *v = strstr(line, "v=");
    return v ? atoi(v + 2) : 0;
}

static char *redis_argv[16];
static void redis_args(const char *port, const char *dir, const char *log)
{
    const char *a[] = {"redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                       "--dir", dir, "--logfile", log, NULL, NULL, NULL};
    int n = 13;
    if (redis_major() >= 7) { /* DEBUG is off by default from 7.0 on; 6 knows no such option */
        a[n++] = "--enable-debug-command";
        a[n++] = "yes";
    }
    for (int i = 0; i < n; i++) redis_argv[i] = (char *)a[i];
    redis_argv[n] = NULL;
}

/* A background save refused at fork under strict overcommit; the daemon keeps serving. */
Test(daemons, redis_bgsave_refused_at_fork_keeps_serving, .timeout = 120)
{
    NEED("/usr/bin/redis-server", "redis-server");
    NEED("/usr/bin/redis-cli", "redis-tools");
    char *dir = test_dir("redis");
    int port = port_base();
    char ps[16], log[4300], cwd[2048], snap[4200], opt[4400];
    snprintf(ps, sizeof ps, "%d", port);
    snprintf(log, sizeof log, "%s/redis.log", dir);
    if (!getcwd(cwd, sizeof cwd)) abort();
    snprintf(snap, sizeof snap, "%s/examples/snapshots/redis-mode2.snapshot", cwd);
    snprintf(opt, sizeof opt, "OVERSHIM_OPTIONS=simulate=%s", snap);
    char pre[4300];
    snprintf(pre, sizeof pre, "LD_PRELOAD=%s", shim_path());
    char *env[] = {pre, opt, NULL};
    redis_args(ps, dir, log);
    pid_t pid = start_bg(redis_argv, env, dir);
    cr_assert(wait_ping(port), "redis did not start");
    free(rcli(port, "debug", "populate", "300000", "key", "1000"));
    char *o = rcli(port, "bgsave", NULL, NULL, NULL, NULL);
    free(o);
    usleep(300000);
    o = rcli(port, "ping", NULL, NULL, NULL, NULL);
    cr_expect(strstr(o, "PONG") != NULL, "the daemon stopped serving: %s", o);
    free(o);
    o = rcli(port, "strlen", "key:42", NULL, NULL, NULL);
    cr_expect(atoi(o) == 1000, "the data is still there: %s", o);
    free(o);
    stop_bg(pid);
    char *text = read_all(log);
    cr_expect(text && strstr(text, "Can't save in background: fork: Cannot allocate memory"), "redis's own log: %s",
              text ? text : "(none)");
    free(text);
    struct jval *ev[MAX_EVENTS];
    int n = events_in(dir, ev);
    const struct jval *e = json_event(ev, n, "enomem");
    cr_assert(e);
    cr_expect_str_eq(json_str(e, "call.name"), "fork");
    cr_expect_str_eq(json_str(e, "verdict.cause"), "overcommit_never");
    cr_expect_gt(json_int(e, "verdict.request_pages", 0), 300000000 / 4096, "the dataset is in the fork's charge");
    cr_expect_gt(json_int(e, "process.committed_bytes", 0), 300000000, "the daemon's committed pages");
    for (int i = 0; i < n; i++) json_free(ev[i]);
    free(dir);
}

/* Without a failure the daemon's own allocator statistics are unchanged by the shim. */
Test(daemons, redis_allocator_statistics_unchanged, .timeout = 120)
{
    NEED("/usr/bin/redis-server", "redis-server");
    NEED("/usr/bin/redis-cli", "redis-tools");
    long long v[2];
    for (int shim = 0; shim < 2; shim++) {
        char *dir = test_dir("redis-stats");
        int port = port_base() + 1;
        char ps[16], log[4300], pre[4300];
        snprintf(ps, sizeof ps, "%d", port);
        snprintf(log, sizeof log, "%s/redis.log", dir);
        snprintf(pre, sizeof pre, "LD_PRELOAD=%s", shim_path());
        char *env[] = {shim ? pre : NULL, NULL};
        redis_args(ps, dir, log);
        pid_t pid = start_bg(redis_argv, env, dir);
        cr_assert(wait_ping(port));
        free(rcli(port, "debug", "populate", "200000", "key", "1000"));
        v[shim] = allocator_allocated(port);
        stop_bg(pid);
        free(dir);
    }
    cr_expect_gt(v[0], 200000000);
    double ratio = (double)v[1] / (double)v[0];
    cr_expect(ratio > 0.99 && ratio < 1.01, "allocator_allocated %lld bare, %lld under the shim", v[0], v[1]);
}

static const char *nginx_conf(const char *dir, int port)
{
    static char path[4300];
    snprintf(path, sizeof path, "%s/nginx.conf", dir);
    FILE *f = fopen(path, "w");
    fprintf(f,
            "worker_processes 2;\npid %s/nginx.pid;\nerror_log %s/error.log info;\nevents { worker_connections 64; }\n"
            "http {\n access_log off;\n connection_pool_size 1536;\n client_body_temp_path %s/body;\n"
            " server { listen 127.0.0.1:%d; location / { return 200 \"hello from nginx\\n\"; } }\n}\n",
            dir, dir, dir, port);
    fclose(f);
    return path;
}

static char *curl(int port)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    char *argv[] = {"curl", "-s", "-m", "5", url, NULL};
    struct run r;
    run_cmd(&r, argv, NULL, NULL, 0, 20);
    char *o = strdup(r.out);
    run_free(&r);
    return o;
}

static int wait_http(int port) { return wait_for(curl, port, "hello"); }

static pid_t read_pid(const char *dir)
{
    char p[4300];
    snprintf(p, sizeof p, "%s/nginx.pid", dir);
    char *t = read_all(p);
    pid_t v = t ? (pid_t)atoi(t) : -1;
    free(t);
    return v;
}

/* A pre-forking server: master and workers serve and reload under the shim unchanged. */
Test(daemons, nginx_serves_and_reloads, .timeout = 120)
{
    NEED("/usr/sbin/nginx", "nginx-light");
    NEED("/usr/bin/curl", "curl");
    char *dir = public_dir("nginx"); /* the workers run as nobody: they must reach the shim and dir= */
    char *shim = public_copy(shim_path(), dir);
    int port = port_base();
    const char *conf = nginx_conf(dir, port);
    char opt[4400], pre[4300];
    snprintf(opt, sizeof opt, "OVERSHIM_OPTIONS=dir=%s", dir);
    snprintf(pre, sizeof pre, "LD_PRELOAD=%s", shim);
    char *env[] = {pre, opt, NULL};
    char *argv[] = {"nginx", "-p", dir, "-c", (char *)conf, "-g", "daemon off;", NULL};
    pid_t pid = start_bg(argv, env, dir);
    cr_assert(wait_http(port), "nginx did not serve");
    pid_t master = read_pid(dir);
    cr_expect_gt(master, 0);
    kill(master, SIGHUP); /* reload: new workers */
    usleep(500000);
    char *o = curl(port);
    cr_expect_str_eq(o, "hello from nginx\n");
    free(o);
    stop_bg(pid);
    cr_expect(find_file(dir, "overshim_pid", "") == NULL, "a report although nothing failed");
    char el[4300];
    snprintf(el, sizeof el, "%s/error.log", dir);
    char *t = read_all(el);
    cr_expect(t && strstr(t, "reconfiguring") && !strstr(t, "[emerg]") && !strstr(t, "[crit]"), "%s", t);
    free(t);
    free(shim);
    rm_public(dir);
}

/* An injected failure on the worker side is reported for that worker's pid. */
Test(daemons, nginx_worker_failure_reported_for_the_worker, .timeout = 120)
{
    NEED("/usr/sbin/nginx", "nginx-light");
    NEED("/usr/bin/curl", "curl");
    char *dir = public_dir("nginx-inject"); /* the workers run as nobody: they must reach the shim and dir= */
    char *shim = public_copy(shim_path(), dir);
    int port = port_base() + 1;
    const char *conf = nginx_conf(dir, port);
    char opt[4400], pre[4300];
    /* the connection pool (connection_pool_size 1536) is allocated by a worker per connection */
    snprintf(opt, sizeof opt, "OVERSHIM_OPTIONS=dir=%s:inject=posix_memalign==1536", dir);
    snprintf(pre, sizeof pre, "LD_PRELOAD=%s", shim);
    char *env[] = {pre, opt, NULL};
    char *argv[] = {"nginx", "-p", dir, "-c", (char *)conf, "-g", "daemon off;", NULL};
    pid_t pid = start_bg(argv, env, dir);
    pid_t master = -1;
    for (int i = 0; i < 50 && master <= 0; i++) usleep(100000), master = read_pid(dir);
    usleep(300000);
    free(curl(port));
    usleep(300000);
    stop_bg(pid);
    struct jval *ev[MAX_EVENTS];
    int n = events_in(dir, ev);
    const struct jval *e = json_event(ev, n, "enomem");
    cr_assert(e);
    cr_expect_str_eq(json_str(e, "verdict.cause"), "injected");
    cr_expect_str_eq(json_str(e, "call.name"), "posix_memalign");
    cr_expect_neq(json_int(e, "pid", -1), master, "reported for a worker, not the master");
    cr_expect_eq(json_int(e, "ppid", -1), master, "the worker's parent is the master");
    char el[4300];
    snprintf(el, sizeof el, "%s/error.log", dir);
    char *t = read_all(el);
    cr_expect(t && strstr(t, "posix_memalign(16, 1536) failed (12: Cannot allocate memory)"), "nginx's own log: %s", t);
    free(t);
    for (int i = 0; i < n; i++) json_free(ev[i]);
    free(shim);
    rm_public(dir);
}

/* A shared memory request larger than this kernel accepts, refused for real at startup. */
/* The server's directory: the newest /usr/lib/postgresql/N/bin that has a postgres (the
 * suite's own major version: 13 on bullseye, 15 on bookworm, 17 on trixie, 18 on sid). */
static const char *pg_bindir(void)
{
    static char dir[4096];
    glob_t g;
    int best = -1;
    if (glob("/usr/lib/postgresql/*/bin/postgres", 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            int v = atoi(g.gl_pathv[i] + strlen("/usr/lib/postgresql/"));
            if (v > best && access(g.gl_pathv[i], X_OK) == 0) {
                best = v;
                snprintf(dir, sizeof dir, "%.*s", (int)(strlen(g.gl_pathv[i]) - strlen("/postgres")), g.gl_pathv[i]);
            }
        }
        globfree(&g);
    }
    return best >= 0 ? dir : NULL;
}

Test(daemons, postgresql_shared_memory_refused_for_real, .timeout = 180)
{
    const char *bin = pg_bindir();
    if (!bin) cr_skip_test("no /usr/lib/postgresql/*/bin/postgres (Debian package postgresql)");
    char pg[4200];
    snprintf(pg, sizeof pg, "%s/postgres", bin);
    if (getuid() != 0) cr_skip_test("needs root to run PostgreSQL as its own user");
    FILE *f = fopen("/proc/sys/vm/overcommit_memory", "r");
    int mode = f ? fgetc(f) - '0' : -1;
    if (f) fclose(f);
    if (mode != 0) cr_skip_test("vm.overcommit_memory is %d here, not 0", mode);
    char *dir = public_dir("pg"); /* postgres runs as its own user */
    char *shim = public_copy(shim_path(), dir);
    char cmd[13000];
    snprintf(cmd, sizeof cmd, "chown postgres '%s' && setpriv --reuid=postgres --regid=postgres --init-groups "
                              "'%s/initdb' -D '%s/data' -A trust -U postgres > '%s/initdb.log' 2>&1",
             dir, bin, dir, dir);
    cr_assert_eq(system(cmd), 0, "initdb failed");
    long long gb = (meminfo_kb("MemTotal") + meminfo_kb("SwapTotal")) / 1048576 + 2;
    char sb[64], data[4300], port[16], opt[4400];
    snprintf(sb, sizeof sb, "shared_buffers=%lldGB", gb);
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(port, sizeof port, "%d", port_base());
    snprintf(opt, sizeof opt, "OVERSHIM_OPTIONS=dir=%s", dir);
    char pre[4400];
    snprintf(pre, sizeof pre, "LD_PRELOAD=%s", shim);
    char *env[] = {opt, pre, NULL};
    char sockdir[4400];
    snprintf(sockdir, sizeof sockdir, "unix_socket_directories=%s", dir);
    char *argv[] = {"setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", pg, "-D", data,
                    "-c", sb, "-c", "huge_pages=off", "-c", "listen_addresses=", "-c", sockdir, "-p", port, NULL};
    struct run r;
    run_cmd(&r, argv, env, dir, 0, 120);
    cr_expect_eq(r.status, 1, "postgres must refuse to start: %s", r.err);
    cr_expect(strstr(r.err, "FATAL:  could not map anonymous shared memory: Cannot allocate memory"),
              "the server's own message: %s", r.err);
    struct jval *ev[MAX_EVENTS];
    int n = events_in(dir, ev);
    const struct jval *e = json_event(ev, n, "enomem");
    cr_assert(e);
    cr_expect_str_eq(json_str(e, "call.name"), "mmap");
    cr_expect(strstr(json_str(e, "call.args.flags"), "MAP_SHARED") != NULL);
    cr_expect_str_eq(json_str(e, "verdict.cause"), "overcommit_guess");
    cr_expect(strstr(json_str(e, "verdict.explanation"), "shmem object") != NULL, "%s",
              json_str(e, "verdict.explanation"));
    cr_expect_eq(json_at(e, "simulated")->boolean, 0);
    for (int i = 0; i < n; i++) json_free(ev[i]);
    run_free(&r);
    free(shim);
    rm_public(dir);
}

/* Issue 4: the test rig. Every seed example, simulation fidelity against the live
 * kernel, injection, malformed snapshots and rules, and the command. */
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

static const char *snap(const char *name)
{
    static char p[4][4096];
    static int k;
    char *b = p[k++ & 3];
    char cwd[2048];
    if (!getcwd(cwd, sizeof cwd)) abort();
    snprintf(b, 4096, "%s/examples/snapshots/%s", cwd, name);
    return b;
}

static const char *example(const char *name)
{
    static char p[4][4096];
    static int k;
    char *b = p[k++ & 3];
    snprintf(b, 4096, "%s/examples/%s", build_dir(), name);
    return b;
}

struct ex {
    struct run r;
    struct jval *ev[MAX_EVENTS];
    int n;
    const struct jval *e;
    char *dir;
};

static void run_ex(struct ex *x, char **argv, int expect_event)
{
    x->dir = test_dir("example");
    run_cmd(&x->r, argv, NULL, x->dir, 0, 120);
    x->n = 0;
    x->e = NULL;
    if (expect_event) {
        x->n = events_in(x->dir, x->ev);
        x->e = json_event(x->ev, x->n, "enomem");
        cr_assert(x->e, "no enomem event: %s %s", x->r.out, x->r.err);
        cr_expect_eq(json_at(x->e, "simulated")->boolean, 1);
    } else {
        cr_expect(find_file(x->dir, "overshim_pid", ".jsonl") == NULL, "a refusal where none was expected: %s",
                  x->r.err);
    }
}

static void ex_free(struct ex *x)
{
    for (int i = 0; i < x->n; i++) json_free(x->ev[i]);
    run_free(&x->r);
    free(x->dir);
}

/* Seed 000's C program on its CentOS 7 box: 512 MiB MAP_FIXED refused, 2 x 256 MiB pass. */
Test(examples, seed000_c_fixed512)
{
    struct ex x;
    char *argv[] = {(char *)cli(), "run", "--simulate", (char *)snap("seed000-centos7.snapshot"), "--",
                    (char *)example("fixed512"), NULL};
    run_ex(&x, argv, 1);
    cr_expect_eq(x.r.status, 1);
    cr_expect(strstr(x.r.out, "mmap 512 MiB at 0x600000000000: Cannot allocate memory\n"
                               "mmap 256 MiB at 0x610000000000: ok\nmmap 256 MiB at 0x620000000000: ok\n") != NULL,
              "%s", x.r.out);
    cr_expect_str_eq(json_str(x.e, "verdict.cause"), "overcommit_guess");
    cr_expect_str_eq(json_str(x.e, "verdict.kernel_model"), "3.10-rhel7");
    cr_expect_eq(json_int(x.e, "verdict.request_pages", -1), 131072);
    /* docs/kernel.md §10(a): 69142 pages on the box without the program; the simulator takes the
     * pages this program touched since it started (a few: stdio) off MemFree */
    long long limit = json_int(x.e, "verdict.limit_pages", -1);
    cr_expect(limit <= 69142 && limit > 69142 - 64, "limit %lld", limit);
    ex_free(&x);
}

/* Whether this JDK's libjvm.so imports name (nm -D): HotSpot maps its heap with mmap64
 * where it was built with a 64-bit off_t against a glibc that has mmap64 (JDK 17 on
 * bookworm), with plain mmap elsewhere (JDK 11 on bullseye). */
static int libjvm_imports(const char *name)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "j=$(readlink -f \"$(command -v java)\") && nm -D --undefined-only \"${j%%/bin/java}/lib/server/libjvm.so\" "
             "| grep -qE ' U %s(@|$)'",
             name);
    return system(cmd) == 0;
}

static void java_on(const char *snapshot, const char *xms, struct ex *x, int expect_event)
{
    char *argv[] = {(char *)cli(), "run", "--simulate", (char *)snap(snapshot), "--", "java", (char *)xms,
                    "-Xmx512m", "-XX:+UseG1GC", "-version", NULL};
    run_ex(x, argv, expect_event);
}

Test(examples, seed000_java_heap_512m_refused, .timeout = 120)
{
    struct ex x;
    java_on("seed000-centos7.snapshot", "-Xms512m", &x, 1);
    cr_expect_eq(x.r.status, 1);
    cr_expect(strstr(x.r.out, "Native memory allocation (mmap) failed to map 536870912 bytes") != NULL, "%s",
              x.r.out);
    cr_expect_str_eq(json_str(x.e, "verdict.cause"), "overcommit_guess");
    cr_expect_str_eq(json_str(x.e, "verdict.kernel_model"), "3.10-rhel7");
    cr_expect_eq(json_int(x.e, "verdict.request_pages", -1), 131072);
    long long limit = json_int(x.e, "verdict.limit_pages", -1);
    cr_expect(limit < 69142 && limit > 50000, "the JVM's own touched pages come off MemFree: %lld", limit);
    const char *call = json_str(x.e, "call.name");
    cr_expect(call && (!strcmp(call, "mmap64") || !strcmp(call, "mmap")), "%s", call);
    cr_expect(call && libjvm_imports(call), "the heap commit came through %s, which libjvm.so does not import", call);
    cr_expect(strstr(json_str(x.e, "call.args.flags"), "MAP_FIXED") != NULL);
    ex_free(&x);
}

Test(examples, seed000_java_heap_256m_starts, .timeout = 120)
{
    struct ex x;
    java_on("seed000-centos7.snapshot", "-Xms256m", &x, 0);
    cr_expect_eq(x.r.status, 0, "%s", x.r.err);
    cr_expect(strstr(x.r.err, "openjdk version") != NULL);
    ex_free(&x);
}

Test(examples, seed000_java_on_a_5_2_kernel_starts, .timeout = 120)
{
    struct ex x;
    java_on("seed000-rhel9.snapshot", "-Xms512m", &x, 0);
    cr_expect_eq(x.r.status, 0, "%s", x.r.err);
    ex_free(&x);
}

/* Seed 002: a 1.5 GiB dataset, then fork, under strict overcommit. */
Test(examples, seed002_fork_cannot_allocate_memory)
{
    struct ex x;
    char *argv[] = {(char *)cli(), "run", "--simulate", (char *)snap("seed002-mode2.snapshot"), "--",
                    (char *)example("bigfork"), "1536", NULL};
    run_ex(&x, argv, 1);
    cr_expect_eq(x.r.status, 1);
    cr_expect(strstr(x.r.out, "fork: Cannot allocate memory") != NULL, "%s", x.r.out);
    cr_expect_str_eq(json_str(x.e, "call.name"), "fork");
    cr_expect_str_eq(json_str(x.e, "verdict.cause"), "overcommit_never");
    cr_expect_str_eq(json_str(x.e, "verdict.kernel_model"), "2.6.32");
    /* allowed = 3015465 - 94233 - VmSize/32 (the program's own) */
    long long limit = json_int(x.e, "verdict.limit_pages", -1), req = json_int(x.e, "verdict.request_pages", -1);
    cr_expect(limit > 2900000 && limit < 2921232, "%lld", limit);
    cr_expect(req >= 393216 && req < 393216 + 4096, "the child's charge is the dataset plus the program: %lld", req);
    cr_expect_geq(json_int(x.e, "verdict.committed_pages", 0) + req, limit);
    ex_free(&x);
    /* with a smaller dataset the fork passes */
    char *argv2[] = {(char *)cli(), "run", "--simulate", (char *)snap("seed002-mode2.snapshot"), "--",
                     (char *)example("bigfork"), "512", NULL};
    run_ex(&x, argv2, 0);
    cr_expect_eq(x.r.status, 0);
    cr_expect(strstr(x.r.out, "fork: ok") != NULL);
    ex_free(&x);
}

Test(examples, strict_overcommit_refuses_threads)
{
    struct ex x;
    char *argv[] = {(char *)cli(), "run", "--simulate", (char *)snap("seed002-mode2.snapshot"), "--",
                    (char *)example("threads"), "2800", "100", NULL};
    run_ex(&x, argv, 1);
    cr_expect_eq(x.r.status, 1);
    cr_expect(strstr(x.r.out, "pthread_create: Resource temporarily unavailable") != NULL, "%s", x.r.out);
    cr_expect_str_eq(json_str(x.e, "call.name"), "pthread_create");
    cr_expect_str_eq(json_str(x.e, "call.errno"), "EAGAIN");
    cr_expect_str_eq(json_str(x.e, "verdict.cause"), "overcommit_never");
    cr_expect_eq(json_int(x.e, "verdict.request_pages", -1), 2048, "an 8 MiB stack");
    ex_free(&x);
}

/* A snapshot of this machine: the simulator's decision equals the real kernel's for
 * mode-0 requests around the boundary, to the page. */
Test(fidelity, live_snapshot_boundary, .timeout = 120)
{
    FILE *f = fopen("/proc/sys/vm/overcommit_memory", "r");
    int mode = f ? fgetc(f) - '0' : -1;
    if (f) fclose(f);
    if (mode != 0) cr_skip_test("vm.overcommit_memory is %d here, not 0", mode);
    char *dir = test_dir("fidelity");
    char path[4200];
    snprintf(path, sizeof path, "%s/live.snapshot", dir);
    char *sa[] = {(char *)cli(), "snapshot", "-o", path, NULL};
    struct run r;
    run_cmd(&r, sa, NULL, dir, 0, 30);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_free(&r);
    long long limit = (meminfo_kb("MemTotal") + meminfo_kb("SwapTotal")) / 4;
    for (long long n = limit - 2; n <= limit + 2; n++) {
        char arg[32];
        snprintf(arg, sizeof arg, "%lld", n);
        char *bare[] = {(char *)prog("refuse"), "mmap-pages", arg, NULL};
        char *sim[] = {(char *)cli(), "run", "--simulate", path, "--", (char *)prog("refuse"), "mmap-pages", arg, NULL};
        struct run b, s;
        run_cmd(&b, bare, NULL, dir, 0, 30);
        run_cmd(&s, sim, NULL, dir, 0, 30);
        int real_refused = b.status == 0, sim_refused = s.status == 0; /* refuse exits 0 when refused */
        cr_expect_eq(real_refused, sim_refused, "%lld pages: kernel %s, simulator %s", n,
                     real_refused ? "refused" : "accepted", sim_refused ? "refused" : "accepted");
        cr_expect_eq(real_refused, n > limit);
        run_free(&b);
        run_free(&s);
    }
    free(dir);
}

Test(inject, rules_refuse_deterministically)
{
    char *dir = test_dir("inject");
    char opt[] = "OVERSHIM_OPTIONS=inject=mmap@2";
    char *env[] = {opt, NULL};
    char *argv[] = {"sh", "-c", "true", NULL};
    (void)argv;
    char *a2[] = {(char *)example("fixed512"), NULL};
    struct run r;
    run_cmd(&r, a2, env, dir, 1, 30);
    cr_expect(strstr(r.out, "mmap 512 MiB at 0x600000000000: ok\nmmap 256 MiB at 0x610000000000: Cannot allocate "
                            "memory\nmmap 256 MiB at 0x620000000000: ok\n") != NULL,
              "%s", r.out);
    struct jval *ev[MAX_EVENTS];
    int n = events_in(dir, ev);
    const struct jval *e = json_event(ev, n, "enomem");
    cr_assert(e);
    cr_expect_str_eq(json_str(e, "verdict.cause"), "injected");
    cr_expect(strstr(json_str(e, "verdict.explanation"), "mmap@2") != NULL);
    cr_expect_eq(json_at(e, "simulated")->boolean, 1);
    for (int i = 0; i < n; i++) json_free(ev[i]);
    run_free(&r);
    free(dir);
}

Test(inject, thread_creation_by_name_and_errno)
{
    char *dir = test_dir("inject2");
    char opt[] = "OVERSHIM_OPTIONS=inject=pthread_create@3";
    char *env[] = {opt, NULL};
    char *argv[] = {(char *)example("threads"), "0", "10", NULL};
    struct run r;
    run_cmd(&r, argv, env, dir, 1, 30);
    cr_expect(strstr(r.out, "threads started: 2 of 10; pthread_create: Resource temporarily unavailable") != NULL,
              "%s", r.out);
    run_free(&r);
    free(dir);
}

/* A malformed snapshot or rule: one line naming it, and the program runs unshimmed. */
Test(robustness, malformed_snapshots_and_rules_step_aside)
{
    char *dir = test_dir("malformed");
    static const char *const snaps[] = {
        "", "not a snapshot\n", "# overshim snapshot 1\n", "# overshim snapshot 1\nkernel = x\n",
        "# overshim snapshot 1\nkernel = 4.19.0\n[meminfo]\n", "# overshim snapshot 1\nkernel = 4.19.0\nbogus = 1\n",
        "# overshim snapshot 1\nkernel = 4.19.0\n[sysctl]\nvm.overcommit_memory = two\n",
        "# overshim snapshot 1\nkernel = 4.19.0\n[meminfo]\nMemTotal 5 kB\n",
        "# overshim snapshot 1\nkernel = 4.19.0\n[meminfo]\nMemTotal: 5 kB\nMemFree: 1 kB\n[zoneinfo]\nx\n",
        "# overshim snapshot 1\nkernel = 4.19.0\npage_size = 12\n",
        "# overshim snapshot 1\nkernel = 4.19.0\n[sysctl]\nvm.overcommit_memory = 3\n[meminfo]\nMemTotal: 5 kB\nMemFree: 1 kB\n",
    };
    char *argv[] = {"sh", "-c", "echo out; exit 4", NULL};
    for (size_t i = 0; i < sizeof snaps / sizeof snaps[0] + 1; i++) {
        char path[4200], opt[4300];
        snprintf(path, sizeof path, "%s/bad%zu.snapshot", dir, i);
        if (i < sizeof snaps / sizeof snaps[0]) {
            FILE *f = fopen(path, "w");
            fputs(snaps[i], f);
            fclose(f);
        } /* the last one: a file that does not exist */
        snprintf(opt, sizeof opt, "OVERSHIM_OPTIONS=simulate=%s", path);
        char *env[] = {opt, NULL};
        struct run r;
        run_cmd(&r, argv, env, dir, 1, 30);
        cr_expect_eq(r.status, 4);
        cr_expect_str_eq(r.out, "out\n");
        cr_expect(!strncmp(r.err, "overshim: OVERSHIM_OPTIONS: simulate=", 37) && strchr(r.err, '\n') &&
                      !strchr(r.err, '\n')[1],
                  "snapshot %zu: %s", i, r.err);
        run_free(&r);
    }
    static const char *const rules[] = {"mmap,", "nosuchcall", "mmap@0", "mmap>=lots", "mmap+MAP_BOGUS",
                                        "mmap!EWHAT", "mmap~", "mmap?", "mmap>=1M>=2M", ",", "fork@-1"};
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        char opt[256];
        snprintf(opt, sizeof opt, "OVERSHIM_OPTIONS=inject=%s", rules[i]);
        char *env[] = {opt, NULL};
        struct run r;
        run_cmd(&r, argv, env, dir, 1, 30);
        cr_expect_eq(r.status, 4);
        cr_expect_str_eq(r.out, "out\n");
        cr_expect(strstr(r.err, "injection rule") && strchr(r.err, '\n') && !strchr(r.err, '\n')[1], "rule '%s': %s",
                  rules[i], r.err);
        run_free(&r);
    }
    cr_expect(find_file(dir, "overshim_pid", "") == NULL);
    free(dir);
}

/* overshim run passes exit statuses and signals through; explain agrees with kmodel. */
Test(command, run_passes_status_and_signals)
{
    char *a[] = {(char *)cli(), "run", "--", "sh", "-c", "exit 42", NULL};
    struct run r;
    run_cmd(&r, a, NULL, NULL, 0, 30);
    cr_expect_eq(r.status, 42);
    run_free(&r);
    char *b[] = {(char *)cli(), "run", "--", "sh", "-c", "kill -TERM $$", NULL};
    run_cmd(&r, b, NULL, NULL, 0, 30);
    cr_expect_eq(r.status, 128 + SIGTERM);
    run_free(&r);
    char *c[] = {(char *)cli(), "run", "--", "/nonexistent/program", NULL};
    run_cmd(&r, c, NULL, NULL, 0, 30);
    cr_expect_eq(r.status, 127);
    cr_expect(strstr(r.err, "/nonexistent/program") != NULL);
    run_free(&r);
}

Test(command, explain_agrees_with_kmodel)
{
    char *a[] = {(char *)cli(), "explain", "--snapshot", (char *)snap("seed000-centos7.snapshot"), "--json", "512M", NULL};
    struct run r;
    run_cmd(&r, a, NULL, NULL, 0, 30);
    cr_assert_eq(r.status, 0, "%s", r.err);
    char err[256];
    struct jval *v = json_parse(r.out, err, sizeof err);
    cr_assert(v, "%s: %s", err, r.out);
    cr_expect_str_eq(json_str(v, "event"), "explain");
    cr_expect_eq(json_int(v, "request_pages", -1), 131072);
    cr_expect_eq(json_int(v, "largest_pages", -1), 69141, "docs/kernel.md §10(a), as tests/unit/test_kmodel.c computes");
    cr_expect_eq(json_at(v, "verdict.refused")->boolean, 1);
    cr_expect_eq(json_int(v, "verdict.limit_pages", -1), 69142);
    cr_expect_str_eq(json_str(v, "verdict.cause"), "overcommit_guess");
    cr_expect_gt(json_at(v, "verdict.remedies")->n, 0);
    json_free(v);
    run_free(&r);
    char *b[] = {(char *)cli(), "explain", "--snapshot", (char *)snap("seed000-centos7.snapshot"), "--json", "256M", NULL};
    run_cmd(&r, b, NULL, NULL, 0, 30);
    v = json_parse(r.out, err, sizeof err);
    cr_assert(v);
    cr_expect_eq(json_at(v, "verdict.refused")->boolean, 0);
    json_free(v);
    run_free(&r);
    char *c[] = {(char *)cli(), "explain", "--json", "1G", NULL};
    run_cmd(&r, c, NULL, NULL, 0, 30);
    v = json_parse(r.out, err, sizeof err);
    cr_assert(v);
    if (!strcmp(json_str(v, "verdict.kernel_model"), "5.2"))
        cr_expect_eq(json_int(v, "largest_pages", -1), (meminfo_kb("MemTotal") + meminfo_kb("SwapTotal")) / 4);
    json_free(v);
    run_free(&r);
}

/* Offline names for a report's frames: .symtab, DWARF lines and inlined frames. */
Test(command, symbolize_names_lines_and_inlines)
{
    char *dir = test_dir("symbolize");
    char *argv[] = {(char *)prog("refuse"), "mmap-pages", "1000000000000", NULL};
    struct run r;
    run_cmd(&r, argv, NULL, dir, 1, 30);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_free(&r);
    const char *f = find_file(dir, "overshim_pid", ".jsonl");
    cr_assert(f);
    char path[4200];
    snprintf(path, sizeof path, "%s", f);
    char *s[] = {(char *)cli(), "symbolize", path, NULL};
    run_cmd(&r, s, NULL, dir, 0, 60);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "mmap refused with ENOMEM") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "refuse+0x") && strstr(r.out, "main+0x"), "%s", r.out);
    cr_expect(strstr(r.out, "refuse.c:") != NULL, "a source line: %s", r.out);
    cr_expect(strstr(r.out, "inlined: map_pages") != NULL, "the inlined frame: %s", r.out);
    run_free(&r);
    free(dir);
}

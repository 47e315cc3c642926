/* Issue 17: trace= and overshim replay. Every seed example recorded on this machine (no
 * simulation) and replayed against its box agrees with `overshim run --simulate BOX` on
 * the same program: the same first refused call, cause and request, or both start. The
 * sweep's answer starts under the simulator and one step below it is refused. */
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

/* Run cmd under the shim with trace= (no simulation); the trace's path. */
static char *record(char *const cmd[], const char *name)
{
    char *dir = test_dir(name);
    char opt[700];
    snprintf(opt, sizeof opt, "OVERSHIM_OPTIONS=trace=%s/tr.%%p:log=none:json=none:verbosity=0", dir);
    char *env[] = {opt, NULL};
    struct run r;
    run_cmd(&r, cmd, env, dir, 1, 120);
    cr_assert(!r.timed_out);
    run_free(&r);
    const char *f = find_file(dir, "tr.", "");
    cr_assert(f, "no trace in %s", dir);
    char *path = strdup(f);
    free(dir);
    return path;
}

static struct jval *replay(const char *trace, const char *box, const char *sweep)
{
    char *a[] = {(char *)cli(), "replay", (char *)trace, "--snapshot", (char *)box, "--json", NULL, NULL, NULL};
    if (sweep) a[6] = "--sweep", a[7] = (char *)sweep;
    struct run r;
    run_cmd(&r, a, NULL, NULL, 0, 120);
    cr_assert_eq(r.status, 0, "replay: %s", r.err);
    char err[256];
    struct jval *j = json_parse(r.out, err, sizeof err);
    cr_assert(j, "replay --json: %s: %s", err, r.out);
    run_free(&r);
    return j;
}

/* `overshim run --simulate box` on cmd, extra options opts ("" none): the first enomem event
 * (NULL: none), its file parsed into ev. */
struct sim {
    struct jval *ev[MAX_EVENTS];
    int n;
    const struct jval *e;
    struct run r;
};

static void simulate(struct sim *s, const char *box, const char *opts, char *const cmd[])
{
    char *dir = test_dir("replay_sim");
    char *a[32] = {(char *)cli(), "run", "--simulate", (char *)box};
    int k = 4;
    if (opts[0]) a[k++] = "--options", a[k++] = (char *)opts;
    a[k++] = "--";
    for (int i = 0; cmd[i]; i++) a[k++] = cmd[i];
    a[k] = NULL;
    run_cmd(&s->r, a, NULL, dir, 0, 120);
    s->n = 0;
    s->e = NULL;
    const char *f = find_file(dir, "overshim_pid", ".jsonl");
    if (f) {
        char err[256];
        s->n = json_lines(f, s->ev, MAX_EVENTS, err, sizeof err);
        cr_assert_geq(s->n, 0, "%s", err);
        s->e = json_event(s->ev, s->n, "enomem");
    }
    free(dir);
}

static void sim_free(struct sim *s)
{
    for (int i = 0; i < s->n; i++) json_free(s->ev[i]);
    run_free(&s->r);
}

/* replay and the simulator agree on cmd and box. */
static void agree(const char *name, const char *box, char *const cmd[], int expect_refused)
{
    char *trace = record(cmd, name);
    struct jval *j = replay(trace, box, NULL);
    struct sim s;
    simulate(&s, box, "", cmd);
    int starts = json_at(j, "starts")->boolean;
    cr_assert_eq(!starts, expect_refused, "%s: replay says %s", name, starts ? "starts" : "refused");
    cr_assert_eq(s.e != NULL, expect_refused, "%s: the simulator %s", name, s.e ? "refused" : "started it");
    if (expect_refused) {
        cr_expect_str_eq(json_str(j, "refused.call.name"), json_str(s.e, "call.name"), "%s", name);
        cr_expect_str_eq(json_str(j, "refused.verdict.cause"), json_str(s.e, "verdict.cause"), "%s", name);
        cr_expect_str_eq(json_str(j, "refused.verdict.kernel_model"), json_str(s.e, "verdict.kernel_model"));
        long long rq = json_int(j, "refused.verdict.request_pages", -1), sq = json_int(s.e, "verdict.request_pages", -2);
        cr_expect_eq(rq, sq, "%s: request %lld pages replayed, %lld simulated", name, rq, sq);
        long long rl = json_int(j, "refused.verdict.limit_pages", -1), sl = json_int(s.e, "verdict.limit_pages", -2);
        cr_expect_leq(llabs(rl - sl), sl / 100, "%s: limit %lld pages replayed, %lld simulated", name, rl, sl);
    }
    sim_free(&s);
    json_free(j);
    free(trace);
}

Test(replay, seed000_c_fixed512_agrees)
{
    char *cmd[] = {(char *)example("fixed512"), NULL};
    agree("replay_fixed512", snap("seed000-centos7.snapshot"), cmd, 1);
}

Test(replay, seed002_fork_agrees)
{
    char *cmd[] = {(char *)example("bigfork"), "1536", NULL};
    agree("replay_bigfork", snap("seed002-mode2.snapshot"), cmd, 1);
}

Test(replay, seed002_threads_agree)
{
    char *cmd[] = {(char *)example("threads"), "2800", "100", NULL};
    agree("replay_threads", snap("seed002-mode2.snapshot"), cmd, 1);
}

Test(replay, seed000_java_512m_agrees, .timeout = 180)
{
    char *cmd[] = {"java", "-Xms512m", "-Xmx512m", "-version", NULL};
    agree("replay_java512", snap("seed000-centos7.snapshot"), cmd, 1);
}

Test(replay, seed000_java_256m_starts_in_both, .timeout = 180)
{
    char *cmd[] = {"java", "-Xms256m", "-Xmx256m", "-version", NULL};
    agree("replay_java256", snap("seed000-centos7.snapshot"), cmd, 0);
}

Test(replay, seed000_java_on_a_5_2_kernel_starts_in_both, .timeout = 180)
{
    char *cmd[] = {"java", "-Xms512m", "-Xmx512m", "-version", NULL};
    agree("replay_java_rhel9", snap("seed000-rhel9.snapshot"), cmd, 0);
}

/* The sweep's answer, checked by the simulator: it starts there, one step below it does not. */
Test(replay, sweep_answer_starts_and_one_below_is_refused, .timeout = 180)
{
    char *cmd[] = {(char *)example("threads"), "2800", "100", NULL};
    char *trace = record(cmd, "replay_sweep");
    const char *box = snap("seed002-mode2.snapshot");
    struct jval *j = replay(trace, box, "overcommit_ratio=50..200");
    long long a = json_int(j, "sweep.answer", -1);
    cr_assert_gt(a, 99, "the box's own ratio (99) refuses: the answer is above it, got %lld", a);
    cr_assert_leq(a, 200);
    cr_assert_str_eq(json_str(j, "sweep.below.call"), "pthread_create");
    char opt[64];
    struct sim s;
    snprintf(opt, sizeof opt, "overcommit_ratio=%lld", a);
    simulate(&s, box, opt, cmd);
    cr_expect(s.e == NULL, "ratio %lld: the simulator refused %s", a, s.e ? json_str(s.e, "call.name") : "");
    cr_expect(strstr(s.r.out, "threads started: 100 of 100"), "ratio %lld: %s", a, s.r.out);
    sim_free(&s);
    snprintf(opt, sizeof opt, "overcommit_ratio=%lld", a - 1);
    simulate(&s, box, opt, cmd);
    cr_expect(s.e != NULL, "ratio %lld: the simulator started it", a - 1);
    if (s.e) cr_expect_str_eq(json_str(s.e, "call.name"), "pthread_create");
    sim_free(&s);
    json_free(j);
    free(trace);
}

/* A trace is a file of the documented layout; a corrupt one is one line, exit status 1. */
Test(replay, bad_files_are_one_line)
{
    char *dir = test_dir("replay_bad");
    char p[700];
    snprintf(p, sizeof p, "%s/not-a-trace", dir);
    FILE *f = fopen(p, "w");
    fputs("hello\n", f);
    fclose(f);
    char *a[] = {(char *)cli(), "replay", p, "--snapshot", (char *)snap("seed002-mode2.snapshot"), NULL};
    struct run r;
    run_cmd(&r, a, NULL, NULL, 0, 30);
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "not-a-trace") && strchr(r.err, '\n') == strrchr(r.err, '\n'), "%s", r.err);
    run_free(&r);
    char *b[] = {(char *)cli(), "replay", p, "--snapshot", (char *)snap("seed002-mode2.snapshot"), "--sweep",
                 "ratio=1..2", NULL};
    run_cmd(&r, b, NULL, NULL, 0, 30);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "ratio=1..2"), "%s", r.err);
    run_free(&r);
    char *c[] = {(char *)cli(), "postmortem", p, NULL};
    run_cmd(&r, c, NULL, NULL, 0, 30);
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "not-a-trace"), "%s", r.err);
    run_free(&r);
    free(dir);
}

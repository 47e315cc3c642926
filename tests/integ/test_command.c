/* The command and the journal (issue 14): the fork bound run as a parent of that size;
 * explain as root and as nobody against overshim run's outcome; the command's exit codes;
 * the journal's fields, read back from a socket of the test's own. */
#include "advice.h"

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

/* The overshim command: run a program under the shim, snapshot this machine,
 * explain what the kernel would answer to a request. */
#include <errno.h>
#include <sys/resource.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diagnose.h"
#include "fmt_fd.h"
#include "snapfile.h"
#include "inject.h"
#include "kmodel.h"
#include "livestate.h"
#include "options.h"
#include "overshim.h"
#include "rawsys.h"
#include "snapshot.h"
#include "sysstate.h"

static int usage(FILE *f)
{
    fprintf(f, "usage: overshim run [--simulate FILE] [--kernel VER] [--inject RULES] [--log PATH] [--json PATH]\n"
               "                    [--report-at-exit] [--options K=V:..] -- CMD [ARG...]\n"
               "       overshim snapshot [-o FILE]\n"
               "       overshim explain [--snapshot FILE] [--vm-size BYTES] [--as-user|--as-root] [--json] SIZE\n"
               "       overshim symbolize FILE.jsonl\n"
               "       overshim postmortem FLIGHT [--json] [--kernel-log FILE] [--exit-status N]\n"
               "       overshim replay TRACE --snapshot BOX [--sweep KEY=LO..HI] [--json]\n"
               "       overshim plot TRACE|FLIGHT -o FILE [--format html|chrome] [--snapshot BOX]\n"
               "       overshim --version\n"
               "SIZE and BYTES take K, M, G, T suffixes (powers of 1024).\n");
    return f == stderr ? 2 : 0;
}

static int parse_size(const char *s, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || errno || s[0] == '-') return -1;
    int shift = 0;
    switch (*end) {
    case 0: break;
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    default: return -1;
    }
    if (*end && end[1] && !(end[1] == 'i' && end[2] == 'B' && !end[3]) && !(end[1] == 'B' && !end[2])) return -1;
    if (shift && v > (~0ull >> shift)) return -1;
    *out = v << shift;
    return 0;
}

/* The shim next to this command (build tree), or in ../lib/overshim (installed). */
static int find_shim(char *out, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return -1;
    self[n] = 0;
    char *slash = strrchr(self, '/');
    *slash = 0;
    const char *cands[] = {"%s/libovershim.so", "%s/../lib/overshim/libovershim.so", "%s/../lib/libovershim.so"};
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) {
        char p[PATH_MAX + 64];
        snprintf(p, sizeof p, cands[i], self);
        char real[PATH_MAX];
        if (realpath(p, real) && access(real, R_OK) == 0) {
            snprintf(out, cap, "%s", real);
            return 0;
        }
    }
    return -1;
}


/* The checks the shim makes at start (options, injection rules, the snapshot, the kernel
 * model), made by the command: one line and non-zero instead of a program that runs
 * without the shim. */
static int validate_options(const char *text)
{
    static struct osh_options o;
    char err[512];
    options_defaults(&o);
    if (options_parse(&o, text, err, sizeof err) != 0) {
        fprintf(stderr, "overshim: run: %s; nothing was run\n", err);
        return -1;
    }
    static struct inject_set rules; /* checked here; the shim parses its own copy */
    if (o.inject[0] && inject_parse(&rules, o.inject, err, sizeof err) != 0) {
        fprintf(stderr, "overshim: run: inject=%s: %s; nothing was run\n", o.inject, err);
        return -1;
    }
    if (o.simulate[0]) {
        static struct snapshot sn;
        if (snapshot_file_read(o.simulate, &sn, err, sizeof err) != 0) {
            fprintf(stderr, "overshim: run: --simulate: %s; nothing was run\n", err);
            return -1;
        }
    }
    struct kmodel_kernel k;
    if (strcmp(o.kernel, "auto") != 0 && kmodel_parse_release(o.kernel, &k) != 0) {
        fprintf(stderr, "overshim: run: --kernel %s: not a kernel release or model; nothing was run\n", o.kernel);
        return -1;
    }
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    char opts[4096] = "";
    struct fmtbuf fb;
    fb_init_str(&fb, opts, sizeof opts);
    const char *prev = getenv("OVERSHIM_OPTIONS");
    if (prev && *prev) fb_puts(&fb, prev);
    int i = 0;
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char *key = NULL;
        if (!strcmp(a, "--")) {
            i++;
            break;
        } else if (!strcmp(a, "--log")) key = "log";
        else if (!strcmp(a, "--json")) key = "json";
        else if (!strcmp(a, "--options")) key = "";
        else if (!strcmp(a, "--simulate")) key = "simulate";
        else if (!strcmp(a, "--kernel")) key = "kernel";
        else if (!strcmp(a, "--inject")) key = "inject";
        else if (!strcmp(a, "--report-at-exit")) {
            fb_puts(&fb, fb.len ? ":report_at_exit=1" : "report_at_exit=1");
            continue;
        } else if (a[0] == '-') {
            fprintf(stderr, "overshim: unknown option '%s'\n", a);
            return usage(stderr);
        } else {
            break; /* the command itself, without "--" */
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "overshim: %s needs a value\n", a);
            return 2;
        }
        if (fb.len) fb_putc(&fb, ':');
        if (*key) fb_printf(&fb, "%s=", key);
        const char *v = argv[++i];
        char abs[PATH_MAX];
        if (!strcmp(key, "simulate") && v[0] != '/' && realpath(v, abs)) v = abs; /* the program may chdir */
        if (strchr(v, ':') && *key) {
            fprintf(stderr, "overshim: %s '%s': ':' separates options and cannot appear in a value\n", a, v);
            return 2;
        }
        fb_puts(&fb, v);
    }
    if (i >= argc) {
        fprintf(stderr, "overshim: run needs a command\n");
        return usage(stderr);
    }
    /* What the shim would refuse to start with, refused here, before anything runs: a CI
     * gate that ran the command unshimmed would pass without testing anything. */
    if (fb.len && validate_options(fb_cstr(&fb)) != 0) return 125;
    char shim[PATH_MAX];
    if (find_shim(shim, sizeof shim) != 0) {
        fprintf(stderr, "overshim: cannot find libovershim.so next to this command\n");
        return 127;
    }
    char pre[PATH_MAX * 2];
    const char *old = getenv("LD_PRELOAD");
    if (old && *old && !strstr(old, shim)) snprintf(pre, sizeof pre, "%s:%s", shim, old);
    else snprintf(pre, sizeof pre, "%s", shim);
    setenv("LD_PRELOAD", pre, 1);
    if (fb.len) setenv("OVERSHIM_OPTIONS", fb_cstr(&fb), 1);
    execvp(argv[i], argv + i);
    fprintf(stderr, "overshim: cannot run '%s': %s\n", argv[i], strerror(errno));
    return errno == ENOENT ? 127 : 126;
}

static void cat_file(FILE *out, const char *path)
{
    static char buf[262144];
    ssize_t n = raw_read_file(path, buf, sizeof buf);
    if (n > 0) fputs(buf, out);
    if (n > 0 && buf[n - 1] != '\n') fputc('\n', out);
}

/* A write error anywhere (a full disk, /dev/full, a closed pipe) is the command's failure. */
static int finish(FILE *out, const char *what)
{
    int bad = fflush(out) != 0 || ferror(out);
    int e = errno;
    if (out != stdout && fclose(out) != 0 && !bad) bad = 1, e = errno;
    if (bad) {
        fprintf(stderr, "overshim: cannot write %s: %s\n", what, strerror(e ? e : EIO));
        return 1;
    }
    return 0;
}

static int cmd_snapshot(int argc, char **argv)
{
    FILE *out = stdout;
    const char *what = "the snapshot to stdout";
    if (argc == 2 && !strcmp(argv[0], "-o")) {
        what = argv[1];
        out = fopen(argv[1], "w");
        if (!out) {
            fprintf(stderr, "overshim: cannot write '%s': %s\n", argv[1], strerror(errno));
            return 1;
        }
    } else if (argc) {
        return usage(stderr);
    }
    struct live_state s;
    livestate_read(&s, 0);
    fprintf(out, "# overshim snapshot 1\n# made by overshim %s on this machine\nkernel = %s\npage_size = %lld\n",
            OVERSHIM_VERSION, s.release, (long long)s.in.page_kb * 1024);
    /* the caller's CAP_SYS_ADMIN as the kernel would judge it for this process (docs/kernel.md §9) */
    fprintf(out, "cap_sys_admin = %d\nncpus = %d\n[sysctl]\n", s.in.cap_sys_admin ? 1 : 0, s.in.ncpus);
    static const char *const keys[] = {"overcommit_memory",    "overcommit_ratio", "overcommit_kbytes",
                                       "admin_reserve_kbytes", "user_reserve_kbytes", "max_map_count",
                                       "min_free_kbytes",      "nr_hugepages",        "nr_overcommit_hugepages"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char p[128], v[64];
        snprintf(p, sizeof p, "/proc/sys/vm/%s", keys[i]);
        if (raw_read_file(p, v, sizeof v) > 0) fprintf(out, "vm.%s = %s", keys[i], v);
    }
    static const char *const kkeys[] = {"threads-max", "pid_max"};
    for (size_t i = 0; i < 2; i++) {
        char p[128], v[64];
        snprintf(p, sizeof p, "/proc/sys/kernel/%s", kkeys[i]);
        if (raw_read_file(p, v, sizeof v) > 0) fprintf(out, "kernel.%s = %s", kkeys[i], v);
    }
    fputs("[meminfo]\n", out);
    cat_file(out, "/proc/meminfo");
    fputs("[zoneinfo]\n", out);
    cat_file(out, "/proc/zoneinfo");
    return finish(out, what);
}

static int64_t own_left_out, largest_certain;

static int print_verdict_json(const struct live_state *s, const struct kverdict *v, const struct diagnosis *d)
{
    char buf[8192];
    struct fmtbuf fb;
    fb_init(&fb, buf, sizeof buf, 1);
    fb_printf(&fb, "{\"schema\":1,\"event\":\"explain\",\"request_pages\":%lld,\"largest_pages\":%lld,"
                   "\"largest_certain_pages\":%lld,\"verdict\":{",
              (long long)v->request_pages, (long long)v->largest_pages, (long long)largest_certain);
    /* refused by the shell's RLIMIT_AS/RLIMIT_DATA first: the diagnosis's check, its numbers */
    int by_rlimit = v->refused && cause_is_rlimit(d->cause);
    fb_printf(&fb, "\"refused\":%s,\"cause\":%pJ,\"kernel_model\":%pJ,\"overcommit_memory\":%d,\"request_pages\":%lld,"
                   "\"limit_pages\":%lld,\"committed_pages\":",
              v->refused ? "true" : "false", cause_name(by_rlimit ? d->cause : v->refused ? v->cause : CAUSE_NONE), s->k.label, v->mode,
              (long long)v->request_pages, (long long)(by_rlimit ? d->limit_pages : v->limit_pages));
    int64_t committed = by_rlimit ? d->committed_pages : v->committed_pages;
    if (committed >= 0) fb_printf(&fb, "%lld", (long long)committed);
    else fb_puts(&fb, "null");
    int refused = v->refused;
    if (by_rlimit) v = &d->kv;
    fb_printf(&fb, ",\"shortfall_pages\":%lld,\"cap_sys_admin\":%s,\"own_pages_left_out\":%lld,\"band_pages\":%lld,"
                   "\"within_band\":%s,\"formula\":%pJ,\"terms\":[",
              (long long)(refused || d->within_band ? d->shortfall_pages : 0), s->in.cap_sys_admin ? "true" : "false",
              (long long)own_left_out, (long long)d->band_pages, d->within_band ? "true" : "false",
              v->formula ? v->formula : "");
    for (int i = 0; i < v->nterms; i++)
        fb_printf(&fb, "%s{\"key\":%pJ,\"name\":%pJ,\"op\":\"%c\",\"pages\":%lld}", i ? "," : "",
                  v->terms[i].key ? v->terms[i].key : "", v->terms[i].name, v->terms[i].op,
                  (long long)v->terms[i].pages);
    int said = refused || d->within_band;
    fb_printf(&fb, "],\"explanation\":%pJ,\"remedies\":[", said ? d->explanation : "accepted");
    for (int i = 0; said && i < d->nremedies; i++) fb_printf(&fb, "%s%pJ", i ? "," : "", d->remedies[i]);
    fb_puts(&fb, "]}}\n");
    fb_flush(&fb);
    return fb.failed ? -1 : 0;
}

/* This process's own share of Committed_AS (the `ac` VMAs in its smaps): explain models
 * a new process, so the command's own pages are not part of the box. */
static int64_t self_ac_pages(int64_t page_kb)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return 0;
    char line[512];
    long long size = 0, total = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "Size:", 5)) size = atoll(line + 5);
        else if (!strncmp(line, "VmFlags:", 8) && strstr(line, " ac")) total += size;
    }
    fclose(f);
    return page_kb > 0 ? total / page_kb : 0;
}

static int load_snapshot(const char *path, struct live_state *s)
{
    static struct snapshot sn;
    char err[512];
    if (snapshot_file_read(path, &sn, err, sizeof err) != 0) {
        fprintf(stderr, "overshim: %s\n", err);
        return -1;
    }
    memset(s, 0, sizeof *s);
    snprintf(s->release, sizeof s->release, "%s", sn.release);
    s->k = sn.k;
    s->mi = sn.mi;
    snapshot_input(&sn, &s->in);
    return 0;
}

static int cmd_explain(int argc, char **argv)
{
    unsigned long long size = 0, vm = 0;
    int json = 0, have = 0, as = -1; /* -1: the caller as it is; 0 --as-user; 1 --as-root */
    const char *snap = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--as-user")) as = 0;
        else if (!strcmp(argv[i], "--as-root")) as = 1;
        else if (!strcmp(argv[i], "--vm-size") && i + 1 < argc) {
            if (parse_size(argv[++i], &vm)) {
                fprintf(stderr, "overshim: bad --vm-size '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--snapshot") && i + 1 < argc) {
            snap = argv[++i];
        } else if (!have && parse_size(argv[i], &size) == 0) have = 1;
        else {
            fprintf(stderr, "overshim: bad argument '%s'\n", argv[i]);
            return usage(stderr);
        }
    }
    if (!have) return usage(stderr);
    struct live_state s;
    if (snap) {
        if (load_snapshot(snap, &s) != 0) return 2;
    } else {
        /* this box, for a new process of the caller as it runs (root: CAP_SYS_ADMIN in the
         * initial user namespace), without the command's own pages */
        livestate_read(&s, 0);
        own_left_out = self_ac_pages(s.in.page_kb);
        s.in.committed = s.in.committed > own_left_out ? s.in.committed - own_left_out : 0;
    }
    if (as >= 0) s.in.cap_sys_admin = as;
    int64_t ps = s.in.page_kb * 1024;
    int64_t pages = (int64_t)((size + (unsigned long long)ps - 1) / (unsigned long long)ps);
    struct kverdict v;
    kmodel_vm_enough_memory(&s.k, &s.in, pages, (int64_t)(vm / (unsigned long long)ps), &v);
    /* the same request as diagnose sees it, for the explanation and the remedies */
    s.vm_size_pages = (int64_t)(vm / (unsigned long long)ps);
    s.map_count = 0;
    s.max_map_count = 65530;
    s.rlim_as = s.rlim_data = s.rlim_nproc = s.rlim_stack = s.rlim_data_max = LS_UNLIMITED;
    /* On this box, a new process of this shell inherits its RLIMIT_AS and RLIMIT_DATA:
     * they refuse first when the request and the new process's VmSize (--vm-size)
     * exceed them. A snapshot describes the kernel only. */
    int64_t lim_largest = INT64_MAX;
    struct rlimit rl;
    if (!snap && getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        s.rlim_as = (int64_t)rl.rlim_cur;
        int64_t l = (int64_t)rl.rlim_cur / ps - s.vm_size_pages;
        if (l < lim_largest) lim_largest = l;
    }
    if (!snap && getrlimit(RLIMIT_DATA, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        s.rlim_data = (int64_t)rl.rlim_cur;
        s.rlim_data_max = rl.rlim_max == RLIM_INFINITY ? LS_UNLIMITED : (int64_t)rl.rlim_max;
        s.vm_data_pages = s.vm_size_pages;
        int64_t l = (int64_t)rl.rlim_cur / ps - s.vm_data_pages;
        if (l < lim_largest) lim_largest = l;
    }
    if (lim_largest < 0) lim_largest = 0;
    int by_limit = lim_largest < v.largest_pages || (v.mode == 1 && lim_largest != INT64_MAX);
    if (by_limit) v.largest_pages = lim_largest;
    if (pages > lim_largest) v.refused = 1;
    struct failed_call fc = {.id = CALL_MMAP, .a = {0, (uint64_t)pages * (uint64_t)ps, 3, 0x22, (uint64_t)-1, 0}};
    struct diagnosis d;
    diagnose(&fc, &s, NULL, &d);
    /* mode 2 on 5.9+: the check reads an approximate counter (docs/kernel.md §7) */
    int64_t band = v.mode == 2 ? kmodel_band_pages(&s.k, &s.in) : 0;
    int64_t sure = v.mode == 2 ? v.limit_pages - v.committed_pages - band - 1 : v.largest_pages;
    if (sure > lim_largest) sure = lim_largest;
    if (sure < 0) sure = 0;
    largest_certain = sure;
    if (json) {
        if (print_verdict_json(&s, &v, &d) != 0) {
            fprintf(stderr, "overshim: cannot write to stdout: %s\n", strerror(errno ? errno : EIO));
            return 1;
        }
        return 0;
    }
    printf("Linux %s (model %s), vm.overcommit_memory=%d, caller %sCAP_SYS_ADMIN\n", s.release, s.k.label, v.mode,
           s.in.cap_sys_admin ? "" : "not ");
    printf("%s\n", v.formula);
    for (int i = 0; i < v.nterms; i++) printf("  %c %12lld  %s\n", v.terms[i].op, (long long)v.terms[i].pages, v.terms[i].name);
    printf("request %lld pages (%llu bytes): %s\n", (long long)pages, size,
           v.refused       ? "REFUSED (ENOMEM)"
           : d.within_band ? "accepted by the exact sum, but within the per-cpu counter's band: may be REFUSED"
                           : "accepted");
    if (v.refused || d.within_band) {
        printf("short by %lld pages: %s\n", (long long)d.shortfall_pages, d.explanation);
        for (int i = 0; i < d.nremedies; i++) printf("  - %s\n", d.remedies[i]);
    }
    if (v.mode != 1 || by_limit)
        printf("largest request that would pass: %lld pages (%lld MiB)%s\n", (long long)v.largest_pages,
               (long long)(v.largest_pages * s.in.page_kb / 1024),
               by_limit ? ", by this shell's RLIMIT_AS/RLIMIT_DATA (ulimit -v/-d) less --vm-size" : "");
    if (band) printf("largest request certain to pass whatever the per-cpu counter's error (%lld pages): %lld pages "
                     "(%lld MiB)\n",
                     (long long)band, (long long)sure, (long long)(sure * s.in.page_kb / 1024));
    if (own_left_out) printf("(this command's own %lld pages are left out of Committed_AS)\n", (long long)own_left_out);
    return finish(stdout, "to stdout");
}

int cmd_symbolize(int argc, char **argv);
int cmd_postmortem(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_plot(int argc, char **argv);

int main(int argc, char **argv)
{
    if (argc < 2) return usage(stderr);
    if (!strcmp(argv[1], "--version")) {
        printf("overshim %s\n", OVERSHIM_VERSION);
        return 0;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) return usage(stdout);
    if (!strcmp(argv[1], "run")) return cmd_run(argc - 2, argv + 2);
    if (!strcmp(argv[1], "snapshot")) return cmd_snapshot(argc - 2, argv + 2);
    if (!strcmp(argv[1], "explain")) return cmd_explain(argc - 2, argv + 2);
    if (!strcmp(argv[1], "symbolize")) return cmd_symbolize(argc - 2, argv + 2);
    if (!strcmp(argv[1], "postmortem")) return cmd_postmortem(argc - 2, argv + 2);
    if (!strcmp(argv[1], "replay")) return cmd_replay(argc - 2, argv + 2);
    if (!strcmp(argv[1], "plot")) return cmd_plot(argc - 2, argv + 2);
    fprintf(stderr, "overshim: unknown command '%s'\n", argv[1]);
    return usage(stderr);
}

/* Issue 3: real refusals on this machine (per-process limits only), asserted on
 * the JSON event the shim wrote at the moment of the failure. */
#include <unistd.h>

#include "common.h"

struct outcome {
    struct run r;
    struct jval *ev[MAX_EVENTS];
    int n;
    const struct jval *e; /* first enomem event */
    char *dir;
};

static void refuse_env(struct outcome *o, const char *mode, const char *arg, char *const env[])
{
    o->dir = test_dir(mode);
    char *argv[] = {(char *)prog("refuse"), (char *)mode, (char *)arg, NULL};
    run_cmd(&o->r, argv, env, o->dir, 1, 120);
    cr_assert_eq(o->r.status, 0, "refuse %s: exit %d: %s %s", mode, o->r.status, o->r.out, o->r.err);
    o->n = events_in(o->dir, o->ev);
    o->e = json_event(o->ev, o->n, "enomem");
    cr_assert(o->e, "no enomem event for %s", mode);
}

static void refuse(struct outcome *o, const char *mode, const char *arg) { refuse_env(o, mode, arg, NULL); }

static void done(struct outcome *o)
{
    for (int i = 0; i < o->n; i++) json_free(o->ev[i]);
    run_free(&o->r);
    free(o->dir);
}

static const char *cause(const struct outcome *o) { return json_str(o->e, "verdict.cause"); }

static long long ram_swap_pages(void)
{
    return (meminfo_kb("MemTotal") + meminfo_kb("SwapTotal")) / (sysconf(_SC_PAGESIZE) / 1024);
}

Test(refusals, mode0_more_than_ram_plus_swap, .timeout = 60)
{
    if (meminfo_kb("CommitLimit") < 0) cr_skip_test("no meminfo");
    FILE *f = fopen("/proc/sys/vm/overcommit_memory", "r");
    int mode = f ? fgetc(f) - '0' : -1;
    if (f) fclose(f);
    if (mode != 0) cr_skip_test("vm.overcommit_memory is %d here, not 0", mode);
    long long limit = ram_swap_pages();
    char arg[32];
    snprintf(arg, sizeof arg, "%lld", limit + 1);
    struct outcome o;
    refuse(&o, "mmap-pages", arg);
    cr_expect_str_eq(cause(&o), "overcommit_guess");
    cr_expect_eq(json_int(o.e, "verdict.request_pages", -1), limit + 1);
    cr_expect_eq(json_int(o.e, "verdict.limit_pages", -1), limit);
    cr_expect_eq(json_int(o.e, "verdict.shortfall_pages", -1), 1);
    cr_expect_str_eq(json_str(o.e, "call.name"), "mmap");
    cr_expect_str_eq(json_str(o.e, "call.errno"), "ENOMEM");
    cr_expect_str_eq(json_str(o.e, "call.args.flags"), "MAP_PRIVATE|MAP_ANONYMOUS");
    cr_expect_eq(json_at(o.e, "simulated")->boolean, 0);
    cr_expect_gt(json_at(o.e, "verdict.terms")->n, 1);
    cr_expect_gt(json_at(o.e, "stack")->n, 0);
    const char *mod = json_str(o.e, "stack.0.module");
    cr_expect(mod && strstr(mod, "refuse"), "first frame is the caller, not the shim: %s", mod);
    done(&o);

    /* exactly RAM + swap is accepted by the kernel and reported by nobody */
    char *dir = test_dir("ramswap");
    snprintf(arg, sizeof arg, "%lld", limit);
    char *argv[] = {(char *)prog("refuse"), "mmap-pages", arg, NULL};
    struct run r;
    run_cmd(&r, argv, NULL, dir, 1, 60);
    cr_expect_eq(r.status, 3, "RAM+swap pages must succeed: %s", r.out);
    cr_expect(find_file(dir, "overshim_pid", ".jsonl") == NULL);
    run_free(&r);
    free(dir);
}

Test(refusals, rlimit_as)
{
    struct outcome o;
    refuse(&o, "rlimit-as", NULL);
    cr_expect_str_eq(cause(&o), "rlimit_as");
    cr_expect_eq(json_int(o.e, "verdict.request_pages", -1), 131072);
    cr_expect_str_eq(json_str(o.e, "call.args.prot"), "PROT_NONE");
    long long limit = json_int(o.e, "verdict.limit_pages", -1);
    long long used = json_int(o.e, "verdict.committed_pages", -1);
    cr_expect_eq(json_int(o.e, "verdict.shortfall_pages", -1), used + 131072 - limit);
    cr_expect_eq(json_int(o.e, "system.rlimits.as", -1), limit * 4096);
    done(&o);
}

/* The first call the shim sees is refused in a signal handler with RLIMIT_AS used up:
 * what it sets up on first use (the report stack in its bss, the overcommit mode, the
 * kernel's rules, the tid's place, its own image for the stack, the program's path)
 * needs no memory and no lock, and the report is whole. */
Test(refusals, first_call_in_a_signal_handler_at_rlimit_as)
{
    struct outcome o;
    refuse(&o, "first-in-handler", NULL);
    cr_expect_str_eq(o.r.out, "mmap in the handler: refused\n");
    cr_expect_str_eq(cause(&o), "rlimit_as");
    cr_expect_eq(json_int(o.e, "verdict.request_pages", -1), 16384);
    cr_expect_gt(json_at(o.e, "stack")->n, 0);
    const char *mod = json_str(o.e, "stack.0.module");
    cr_expect(mod && strstr(mod, "refuse"), "first frame is the handler in the program: %s", mod);
    cr_expect_gt(json_int(o.e, "thread.tid", 0), 0);
    char *log = read_all(find_file(o.dir, "overshim_pid", ".log"));
    cr_expect(log && strstr(log, "\nVERDICT  ") && strstr(log, "\nSYSTEM   "), "the text report is whole: %s", log);
    free(log);
    done(&o);
}

Test(refusals, rlimit_data)
{
    struct outcome o;
    refuse(&o, "rlimit-data", NULL);
    cr_expect_str_eq(cause(&o), "rlimit_data");
    cr_expect_eq(json_int(o.e, "verdict.request_pages", -1), 32768);
    done(&o);
}

Test(refusals, rlimit_data_map_fixed_commit_over_a_reservation)
{
    struct outcome o;
    refuse(&o, "rlimit-data-fixed", NULL);
    cr_expect_str_eq(cause(&o), "rlimit_data");
    cr_expect(strstr(json_str(o.e, "call.args.flags"), "MAP_FIXED") != NULL);
    cr_expect_eq(json_int(o.e, "verdict.request_pages", -1), 16384, "the second commit");
    cr_expect(json_int(o.e, "verdict.committed_pages", -1) > json_int(o.e, "verdict.limit_pages", 0),
              "the first commit took VmData past the limit");
    cr_expect(strstr(json_str(o.e, "verdict.explanation"), "net growth") != NULL);
    done(&o);
}

Test(refusals, max_map_count, .timeout = 120)
{
    struct outcome o;
    refuse(&o, "map-count", NULL);
    cr_expect_str_eq(cause(&o), "max_map_count");
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    long long max = -1;
    if (f && fscanf(f, "%lld", &max) != 1) max = -1;
    if (f) fclose(f);
    cr_expect_eq(json_int(o.e, "verdict.limit_pages", -1), max);
    cr_expect_str_eq(json_str(o.e, "verdict.units"), "mappings");
    cr_expect_geq(json_int(o.e, "verdict.committed_pages", -1), max);
    done(&o);
}

Test(refusals, pthread_create_at_rlimit_nproc_as_nobody)
{
    if (getuid() != 0) cr_skip_test("needs root to become an unprivileged uid");
    struct outcome o;
    refuse(&o, "nproc", "1");
    cr_expect_str_eq(cause(&o), "thread_limit");
    cr_expect_str_eq(json_str(o.e, "call.name"), "pthread_create");
    cr_expect_str_eq(json_str(o.e, "call.errno"), "EAGAIN");
    cr_expect_eq(json_int(o.e, "verdict.limit_pages", -1), 1);
    cr_expect_str_eq(json_str(o.e, "verdict.units"), "tasks");
    done(&o);
}

Test(refusals, sbrk_past_rlimit_data)
{
    struct outcome o;
    refuse(&o, "sbrk-data", NULL);
    cr_expect_str_eq(json_str(o.e, "call.name"), "sbrk");
    cr_expect_str_eq(cause(&o), "rlimit_data");
    cr_expect_eq(json_int(o.e, "verdict.request_pages", -1), 32768);
    done(&o);
}

Test(refusals, malloc_larger_than_ram_plus_swap)
{
    char arg[32];
    snprintf(arg, sizeof arg, "%lld", ram_swap_pages() + 1);
    struct outcome o;
    refuse(&o, "malloc-pages", arg);
    cr_expect_str_eq(json_str(o.e, "call.name"), "malloc");
    cr_expect_str_eq(cause(&o), "overcommit_guess");
    cr_expect_eq(json_at(o.e, "verdict.estimated")->boolean, 1);
    done(&o);
}

/* RLIMIT_AS just above current use, 50 failing mallocs and 50 failing mmaps: every
 * line parses and the first event is complete. */
Test(refusals, many_failures_every_line_parses)
{
    struct outcome o;
    refuse(&o, "many", "50");
    cr_expect_eq(o.n, 101, "8 full reports, 92 brief ones and the exit event");
    const struct jval *e = o.ev[0];
    static const char *const keys[] = {"pid", "tid", "thread.tid", "thread.name", "thread.parent_tid", "call.name",
                                       "call.args", "call.errno", "simulated", "verdict.cause",
                                       "verdict.kernel_model", "verdict.overcommit_memory", "verdict.request_pages",
                                       "verdict.limit_pages", "verdict.committed_pages", "verdict.shortfall_pages",
                                       "verdict.terms", "verdict.explanation", "verdict.remedies", "stack",
                                       "process.committed_bytes", "process.touched_bytes",
                                       "process.kernel_accountable_bytes", "process.untracked_bytes",
                                       "process.vm_size_bytes", "process.map_count", "threads",
                                       "system.kernel_release", "system.page_size", "system.meminfo", "system.vm"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        cr_expect(json_at(e, keys[i]) != NULL, "first event lacks %s", keys[i]);
    cr_expect_str_eq(json_str(e, "verdict.cause"), "rlimit_as");
    cr_expect_str_eq(json_str(o.ev[o.n - 1], "event"), "exit");
    int full = 0, brief = 0;
    for (int i = 0; i < o.n; i++) {
        const char *k = json_str(o.ev[i], "event");
        full += !strcmp(k, "enomem");
        brief += !strcmp(k, "enomem_brief");
    }
    cr_expect_eq(full, 8);
    cr_expect_eq(brief, 92);
    done(&o);
}

/* Small mallocs with every tcache bin warm (the shim tail-calls those it knows
 * glibc's tcache will serve), heap capped by RLIMIT_AS and RLIMIT_DATA: every NULL
 * the program sees is a report, none is missed. */
static void small_heap(char *const env[])
{
    struct outcome o;
    refuse_env(&o, "small-heap", "20", env);
    cr_expect(strstr(o.r.out, ", 20 refused") != NULL, "%s", o.r.out);
    int mallocs = 0;
    for (int i = 0; i < o.n; i++) {
        const char *k = json_str(o.ev[i], "event");
        if (!strcmp(k, "enomem") || !strcmp(k, "enomem_brief"))
            mallocs += !strcmp(json_str(o.ev[i], "call.name") ? json_str(o.ev[i], "call.name") : "", "malloc");
    }
    cr_expect_eq(mallocs, 20, "20 NULLs from malloc, %d reported: %s", mallocs, o.r.out);
    cr_expect_str_eq(json_str(o.e, "call.name"), "malloc");
    done(&o);
}

Test(refusals, small_mallocs_after_tcache_hits_all_reported, .timeout = 120) { small_heap(NULL); }

/* The same with glibc's tcache resized by a tunable: the shim must not trust its
 * shadow counts there, and still misses nothing. */
Test(refusals, small_mallocs_with_tcache_tunable_all_reported, .timeout = 120)
{
    char *env[] = {"GLIBC_TUNABLES=glibc.malloc.tcache_count=2", NULL};
    small_heap(env);
}

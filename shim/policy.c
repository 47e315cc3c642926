/* Simulation and injection (see policy.h). */
#include "common.h"
#include "policy.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "diagnose.h"
#include "fmt.h"
#include "inject.h"
#include "ledger.h"
#include "rawsys.h"
#include "reconcile.h"
#include "report.h"
#include "report_call.h"
#include "rstack.h"
#include "shmem.h"
#include "snapshot.h"
#include "state.h"
#include "sysstate.h"

OSH_HOT static int sim_on;
static struct live_state base;         /* the modelled box without the program */
static int64_t start_ac_pages;         /* the program's accountable pages at start */
static int64_t start_rss_pages;        /* its touched anonymous pages at start */
static int64_t malloc_mapped_bytes;    /* large malloc blocks (glibc's own mmaps) */
#define SNAP_MAX (1 << 20)                /* a snapshot file's largest size */

int policy_mode(int live_mode) { return sim_on ? base.in.overcommit_memory : live_mode; }

const struct kmodel_kernel *policy_kernel(void) { return sim_on ? &base.k : NULL; }

void policy_malloc_mapped(long long bytes) { __atomic_add_fetch(&malloc_mapped_bytes, bytes, __ATOMIC_RELAXED); }

static int sim_requested(const struct osh_options *o)
{
    return o->simulate[0] || o->overcommit_memory >= 0 || o->overcommit_ratio >= 0 || o->overcommit_kbytes >= 0 ||
           o->admin_reserve_kbytes >= 0 || o->user_reserve_kbytes >= 0 || o->max_map_count >= 0 ||
           strcmp(o->kernel, "auto") != 0;
}

OSH_START_TEXT int policy_init(char *err, size_t errcap)
{
    const struct osh_options *o = &osh_st.opt;
    if (o->inject[0] && inject_parse(&osh_inject, o->inject, err, errcap) != 0) return -1;
    if (sim_requested(o)) {
        memset(&base, 0, sizeof base);
        if (o->simulate[0]) {
            /* read once into a mapping of its own, given back once parsed: a process that
             * simulates keeps no megabyte of buffer for it */
            char *text = raw_mmap(NULL, SNAP_MAX, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (text == MAP_FAILED) return osh_snprintf(err, errcap, "simulate=%s: no memory to read it", o->simulate), -1;
            ssize_t n = raw_read_file(o->simulate, text, SNAP_MAX);
            struct snapshot s;
            char why[256];
            int bad = n < 0 ? 1 : (size_t)n >= SNAP_MAX - 1 ? 2 : snapshot_parse(text, &s, why, sizeof why) != 0 ? 3 : 0;
            raw_munmap(text, SNAP_MAX);
            if (bad == 1) return osh_snprintf(err, errcap, "simulate=%s: cannot read the file", o->simulate), -1;
            if (bad == 2) return osh_snprintf(err, errcap, "simulate=%s: larger than 1 MiB", o->simulate), -1;
            if (bad == 3) return osh_snprintf(err, errcap, "simulate=%s: %s", o->simulate, why), -1;
            osh_snprintf(base.release, sizeof base.release, "%s", s.release);
            base.k = s.k;
            base.mi = s.mi;
            snapshot_input(&s, &base.in);
            base.max_map_count = s.max_map_count >= 0 ? s.max_map_count : 65530;
            base.min_free_kbytes = s.min_free_kbytes;
            base.threads_max = s.threads_max;
            base.pid_max = s.pid_max;
            base.hugepages_free = -1;
            base.hugepagesize_kb = s.mi.Hugepagesize;
        } else {
            livestate_read(&base, 0); /* this machine, with the overrides below */
        }
        if (strcmp(o->kernel, "auto") != 0) {
            struct kmodel_kernel k;
            if (kmodel_parse_release(o->kernel, &k) != 0)
                return osh_snprintf(err, errcap, "kernel=%s: not a kernel release or model", o->kernel), -1;
            base.k = k;
            osh_snprintf(base.release, sizeof base.release, "%s (kernel=%s)", base.release, o->kernel);
        }
        if (o->overcommit_memory >= 0) base.in.overcommit_memory = (int)o->overcommit_memory;
        if (o->overcommit_ratio >= 0) base.in.overcommit_ratio = o->overcommit_ratio, base.in.overcommit_kbytes = 0;
        if (o->overcommit_kbytes >= 0) base.in.overcommit_kbytes = o->overcommit_kbytes;
        if (o->admin_reserve_kbytes >= 0) base.in.admin_reserve_kbytes = o->admin_reserve_kbytes;
        if (o->user_reserve_kbytes >= 0) base.in.user_reserve_kbytes = o->user_reserve_kbytes;
        if (o->max_map_count >= 0) base.max_map_count = o->max_map_count;
        if (!o->simulate[0]) {
            /* the live Committed_AS already holds this program: do not add it twice */
            struct smaps_facts f;
            smaps_facts(0, 0, &f);
            base.in.committed -= (int64_t)f.ac_total_pages;
        }
        struct smaps_facts f;
        smaps_facts(0, 0, &f);
        start_ac_pages = (int64_t)f.ac_total_pages;
        start_rss_pages = status_get_kb("RssAnon") / (base.in.page_kb ? base.in.page_kb : 4);
        sim_on = 1;
    }
    osh_policy = sim_on || inject_active(&osh_inject);
    return 0;
}

void policy_state(struct live_state *s)
{
    *s = base;
    int64_t pk = base.in.page_kb ? base.in.page_kb : 4;
    int64_t mine = start_ac_pages + ledger_committed_bytes() / 1024 / pk +
                   __atomic_load_n(&malloc_mapped_bytes, __ATOMIC_RELAXED) / 1024 / pk + shmem_charged_bytes() / 1024 / pk;
    s->in.committed = base.in.committed + (mine > 0 ? mine : 0);
    static char st[8192];
    if (raw_read_file("/proc/self/status", st, sizeof st) > 0) {
        s->vm_size_pages = meminfo_get(st, "VmSize") / pk;
        s->vm_data_pages = meminfo_get(st, "VmData") / pk;
        int64_t rss = meminfo_get(st, "RssAnon") / pk - start_rss_pages;
        if (rss > 0) s->in.nr_free = base.in.nr_free > rss ? base.in.nr_free - rss : 0;
    }
    s->map_count = s->max_map_count < 1000000 ? sys_map_count() : 0;
    /* only the modelled kernel's own checks: real rlimits refuse for real */
    s->rlim_as = s->rlim_data = s->rlim_nproc = s->rlim_stack = s->rlim_data_max = LS_UNLIMITED;
    s->pids_max = s->pids_current = -1;
    s->user_tasks = -1;
    s->nr_tasks = 0;
    s->model_exact = 1; /* the check is this very count: no per-cpu band */
    s->proc_ac_pages = mine > 0 ? mine : 0;
    s->start_brk = s->cur_brk = s->start_data = s->end_data = 0;
}

/* An injected refusal with a full report (on the report stack). */
struct inject_job {
    struct failed_call *fc;
    const char *rule;
    unsigned long nth;
};

/* The diagnosis and the state the report stack's bodies below work in: one of each, for
 * they run one at a time, under the report lock (the shim's footprint). */
static struct diagnosis body_diag;
static struct live_state body_state;

static void injected_body(void *p)
{
    struct inject_job *j = p;
    struct failed_call *fc = j->fc;
    struct diagnosis *const d = &body_diag;
    struct live_state *const st = &body_state;
    memset(d, 0, sizeof *d);
    d->cause = CAUSE_INJECTED;
    d->headline = "an injected fault (inject=)";
    d->units = "pages";
    d->committed_pages = -1;
    d->request_pages = (int64_t)((call_request_bytes(fc) + 4095) / 4096);
    osh_snprintf(d->explanation, sizeof d->explanation,
                "the injection rule '%s' matched this call (match number %lu); the kernel was not asked", j->rule,
                j->nth);
    osh_snprintf(d->remedies[0], sizeof d->remedies[0], "remove the rule from OVERSHIM_OPTIONS inject=");
    d->nremedies = 1;
    if (sim_on) policy_state(st);
    else livestate_read(st, 0);
    failure_report_claimed(fc, st, d);
}

/* The modelled kernel's checks, in its order, on the modelled state (on the
 * report stack: policy_state and smaps_facts use static buffers, and the
 * diagnosis is larger than a small thread's whole stack). */
struct sim_job {
    struct failed_call *fc;
    int err;
};

static void sim_body(void *p)
{
    struct sim_job *j = p;
    struct failed_call *fc = j->fc;
    struct live_state *const st = &body_state;
    struct diagnosis *const d = &body_diag;
    static struct smaps_facts f;
    uintptr_t lo, hi;
    osh_process_check();
    diagnose_call_range(fc, &lo, &hi);
    policy_state(st);
    if (hi > lo || fc->id == CALL_FORK) smaps_facts(lo, hi, &f);
    else memset(&f, 0, sizeof f);
    if (fc->id == CALL_FORK) { /* the child's charge: the program's accountable mappings, modelled */
        f.ac_total_pages = (uint64_t)(st->in.committed - base.in.committed);
    }
    diagnose(fc, st, &f, d);
    if (!cause_simulated(d->cause)) return;
    fc->err = fc->id == CALL_FALLOCATE ? ENOSPC /* shmem_acct_blocks' error (mm/shmem.c) */
              : fc->id == CALL_PTHREAD_CREATE || fc->id == CALL_CLONE || fc->id == CALL_POSIX_SPAWN ||
                      fc->id == CALL_POSIX_SPAWNP
                  ? EAGAIN
                  : ENOMEM;
    fc->simulated = 1;
    j->err = fc->err;
    failure_report_decided(fc, st, &f, d);
}

int policy_gate_model(struct failed_call *fc, int model)
{
    if (inject_active(&osh_inject)) {
        char tname[17] = {0};
        prctl(PR_GET_NAME, tname, 0, 0, 0);
        const char *rule;
        unsigned long nth;
        int e = inject_match(&osh_inject, fc, tname, &rule, &nth);
        if (e) {
            fc->err = e;
            fc->simulated = 1;
            struct inject_job j = {fc, rule, nth};
            if (failure_claim_full()) {
                if (rstack_run(injected_body, &j) != 0) __atomic_add_fetch(&osh_st.nunreported, 1, __ATOMIC_RELAXED);
            } else {
                failure_brief_injected(fc);
            }
            return e;
        }
    }
    if (!sim_on || !model) return 0;
    struct sim_job j = {fc, 0};
    if (rstack_run(sim_body, &j) != 0) return 0; /* no report stack: the call goes to the kernel */
    return j.err;
}

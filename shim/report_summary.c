/* The ledger part of every report (per-thread committed / touched / malloc, the
 * process totals, the smaps reconciliation), the summary at exit and the exit
 * event. */
#include <pthread.h>
#include <string.h>

#include "common.h"
#include "fmt_fd.h"
#include "hserr.h"
#include "latefn.h"
#include "ledger.h"
#include "report_region.h"
#include "rawsys.h"
#include "shmem.h"
#include "reconcile.h"
#include "rstack.h"
#include "report.h"
#include "state.h"
#include "touched.h"

char report_jbuf[REPORT_BUF], report_tbuf[REPORT_BUF];

void report_lock(void) { pthread_mutex_lock(&osh_fs->report_mu); }

LATE_SLOT(pthread_mutex_timedlock);

int report_lock_for(int seconds)
{
    __typeof__(&pthread_mutex_timedlock) timedlock = LATE(pthread_mutex_timedlock);
    if (!timedlock) return pthread_mutex_lock(&osh_fs->report_mu); /* glibc < 2.34 without libpthread */
    struct timespec until;
    raw_clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += seconds;
    return timedlock(&osh_fs->report_mu, &until);
}
void report_unlock(void) { pthread_mutex_unlock(&osh_fs->report_mu); }

void report_prefix(struct fmtbuf *fb) { fb_printf(fb, "==%d== ", (int)osh_st.pid); }

/* A thread's malloc counters: what it allocated and what it freed. A block freed by
 * another thread counts as that thread's free, so one thread's balance can go negative;
 * the process's sum is the live amount. */
static void malloc_counts(const struct thread_rec *th, int64_t *in, int64_t *out)
{
    if (th->tls) {
        ledger_tls_malloc(th->tls, in, out);
    } else {
        *in = th->malloc_in;
        *out = th->malloc_out;
    }
}

static int text_thread_row(struct fmtbuf *t, const struct thread_rec *th)
{
    fb_puts(t, "  ");
    struct fmtbuf col;
    char c[32];
    int64_t net = ledger_malloc_live(th);
    const int64_t vals[3] = {th->committed, (int64_t)th->touched, net};
    for (int i = 0; i < 3; i++) {
        fb_init_str(&col, c, sizeof c);
        fb_ssize(&col, vals[i]);
        if (i == 2 && net < 0) fb_putc(&col, '*');
        fb_printf(t, "%-13s", fb_cstr(&col));
    }
    fb_init_str(&col, c, sizeof c);
    fb_ssize(&col, th->peak_committed);
    if (th->tid == osh_st.pid)
        fb_printf(t, "%-13s%d \"%s\" (the main thread)%s\n", fb_cstr(&col), (int)th->tid, th->name,
                  th->alive ? "" : ", exited");
    else
        fb_printf(t, "%-13s%d \"%s\" (created by %d)%s\n", fb_cstr(&col), (int)th->tid, th->name,
                  (int)th->parent_tid, th->alive ? "" : ", exited");
    return net < 0;
}

void report_ledger(struct fmtbuf *j, struct fmtbuf *t)
{
    struct reconcile rc;
    struct ledger_totals tot;
    ledger_lock();
    ledger_refresh_names();
    ledger_compute_touched();
    reconcile_scan(&rc);
    ledger_totals(&tot);
    if (j) {
        fb_printf(j,
                  "\"process\":{\"committed_bytes\":%lld,\"peak_committed_bytes\":%lld,\"touched_bytes\":%llu,"
                  "\"malloc_bytes\":%lld,\"kernel_accountable_bytes\":%llu,\"tracked_accountable_bytes\":%llu,"
                  "\"untracked_bytes\":%llu,\"untracked\":{\"brk_heap\":%llu,\"main_stack\":%llu,"
                  "\"file_data\":%llu,\"anonymous\":%llu},\"shim_heap_bytes\":%llu,\"vm_size_bytes\":%llu,\"map_count\":%llu,"
                  "\"ledger_ranges\":%llu,\"shmem_bytes\":%lld,\"shmem_files\":%d,\"malloc_fast_path\":\"%s\"},"
                  "\"threads\":[",
                  (long long)tot.committed, (long long)tot.peak_committed, (unsigned long long)tot.touched,
                  (long long)tot.malloc_live, (unsigned long long)rc.kernel_accountable,
                  (unsigned long long)rc.tracked, (unsigned long long)rc.untracked,
                  (unsigned long long)rc.untracked_heap, (unsigned long long)rc.untracked_stack,
                  (unsigned long long)rc.untracked_file, (unsigned long long)rc.untracked_anon,
                  (unsigned long long)rc.shim_heap, (unsigned long long)rc.vm_size, (unsigned long long)rc.map_count,
                  (unsigned long long)tot.nranges, (long long)shmem_charged_bytes(), shmem_files(), malloc_fast_path());
        int first = 1;
        for (const struct thread_rec *th = ledger_threads(); th; th = th->next) {
            int64_t in, out;
            malloc_counts(th, &in, &out);
            fb_printf(j,
                      "%s{\"tid\":%d,\"name\":%pJ,\"parent_tid\":%d,\"main\":%s,\"alive\":%s,\"committed_bytes\":%lld,"
                      "\"peak_committed_bytes\":%lld,\"touched_bytes\":%llu,\"malloc_bytes\":%lld,"
                      "\"malloc_allocated_bytes\":%lld,\"malloc_freed_bytes\":%lld,\"maps\":%llu}",
                      first ? "" : ",", (int)th->tid, th->name, (int)th->parent_tid,
                      th->tid == osh_st.pid ? "true" : "false", th->alive ? "true" : "false",
                      (long long)th->committed, (long long)th->peak_committed, (unsigned long long)th->touched,
                      (long long)(in - out), (long long)in, (long long)out, (unsigned long long)th->nmaps);
            first = 0;
        }
        uint64_t nrec;
        const struct thread_rec *rc_agg = ledger_recycled(&nrec);
        if (nrec)
            fb_printf(j, "%s{\"tid\":0,\"name\":\"(exited, folded)\",\"folded_threads\":%llu,\"parent_tid\":0,"
                         "\"alive\":false,\"committed_bytes\":0,\"peak_committed_bytes\":%lld,\"touched_bytes\":0,"
                         "\"malloc_bytes\":%lld,\"maps\":0}",
                      first ? "" : ",", (unsigned long long)nrec, (long long)rc_agg->peak_committed,
                      (long long)(rc_agg->malloc_in - rc_agg->malloc_out));
        fb_puts(j, "]");
    }
    ledger_unlock();
    if (region_count() || rc.arena_heaps || shmem_files()) region_totals(j, t, &rc);
    ledger_lock();
    if (t) {
        fb_puts(t, "LEDGER   committed    touched      malloc net   peak committed  thread\n");
        int negative = 0;
        for (const struct thread_rec *th = ledger_threads(); th; th = th->next) negative |= text_thread_row(t, th);
        if (negative)
            fb_puts(t, "         (malloc net: what a thread allocated minus what it freed; * a thread that freed "
                       "blocks others allocated; the process's sum below is what mallocs hold)\n");
        uint64_t nrec;
        const struct thread_rec *agg = ledger_recycled(&nrec);
        if (nrec) {
            fb_puts(t, "  (and ");
            fb_printf(t, "%llu earlier exited threads, folded: malloc live ", (unsigned long long)nrec);
            fb_ssize(t, agg->malloc_in - agg->malloc_out);
            fb_puts(t, ")\n");
        }
        fb_puts(t, "         process: tracked committed ");
        fb_ssize(t, tot.committed);
        fb_puts(t, " (peak ");
        fb_ssize(t, tot.peak_committed);
        fb_puts(t, "), touched ");
        fb_size(t, tot.touched);
        fb_puts(t, ", malloc live ");
        fb_ssize(t, tot.malloc_live);
        if (shmem_files()) {
            fb_puts(t, ", shared memory allocated (memfd, shm_open; charged per page) ");
            fb_ssize(t, shmem_charged_bytes());
        }
        fb_puts(t, "\n                  kernel accountable (smaps ac) ");
        fb_size(t, rc.kernel_accountable);
        fb_puts(t, ", of which tracked ");
        fb_size(t, rc.tracked);
        fb_puts(t, ", untracked ");
        fb_size(t, rc.untracked);
        fb_puts(t, "\n                  untracked: brk heap ");
        fb_size(t, rc.untracked_heap);
        fb_puts(t, ", main stack ");
        fb_size(t, rc.untracked_stack);
        fb_puts(t, ", library data ");
        fb_size(t, rc.untracked_file);
        fb_puts(t, ", anonymous (glibc arenas, cached stacks) ");
        fb_size(t, rc.untracked_anon);
        fb_puts(t, "; overshim's own heap (mapped) ");
        fb_size(t, rc.shim_heap);
        fb_puts(t, "\n                  (glibc's own mmap/brk/mprotect bypass the PLT: see README, 'What the ledger sees')\n");
        fb_printf(t, "                  VmSize ");
        fb_size(t, rc.vm_size);
        fb_printf(t, ", %llu mappings\n", (unsigned long long)rc.map_count);
    }
    ledger_unlock();
}

void report_summary(const char *via, int status, int have_status)
{
    struct out_stream *js = &osh_st.json, *ls = &osh_st.log;
    int jfd = out_fd(js), tfd = out_fd(ls);
    struct fmtbuf j, t;
    fb_init(&j, report_jbuf, sizeof report_jbuf, jfd);
    fb_init(&t, report_tbuf, sizeof report_tbuf, tfd);
    uint64_t ms = (raw_now_ns() - osh_st.start_ns) / 1000000;
    fb_printf(&j, "{\"schema\":1,\"event\":\"summary\",\"pid\":%d,\"ppid\":%d,\"via\":%pJ,\"status\":", (int)osh_st.pid,
              (int)raw_getppid(), via);
    if (have_status) fb_printf(&j, "%d", status);
    else fb_puts(&j, "null");
    fb_printf(&j, ",\"ms_since_start\":%llu,", (unsigned long long)ms);
    report_prefix(&t);
    fb_printf(&t, "overshim: summary at %s", via);
    if (have_status) fb_printf(&t, "(%d)", status);
    fb_printf(&t, ", %llu ms after start, pid %d (parent %d)\n", (unsigned long long)ms, (int)osh_st.pid,
              (int)raw_getppid());
    report_ledger(jfd >= 0 ? &j : NULL, tfd >= 0 ? &t : NULL);
    fb_putc(&j, ',');
    report_refusal_counts(&j);
    fb_puts(&j, "}\n");
    if (osh_st.nfailures)
        fb_printf(&t, "         refusals: %d (%d full reports, %d one-line, %d only counted)\n", osh_st.nfailures,
                  osh_st.nreports, osh_st.nbrief, osh_st.nunreported);
    if (jfd >= 0) fb_flush(&j);
    if (tfd >= 0) fb_flush(&t);
    if (jfd >= 0 || tfd >= 0) osh_st.wrote_events = 1;
}

/* "refusals":{...}: how every refusal was told (max_reports, max_brief). */
void report_refusal_counts(struct fmtbuf *j)
{
    fb_printf(j, "\"refusals\":{\"total\":%d,\"reports\":%d,\"brief\":%d,\"unreported\":%d,\"notes\":%d}",
              __atomic_load_n(&osh_st.nfailures, __ATOMIC_RELAXED), osh_st.nreports,
              __atomic_load_n(&osh_st.nbrief, __ATOMIC_RELAXED), __atomic_load_n(&osh_st.nunreported, __ATOMIC_RELAXED),
              osh_st.nnotes);
}

struct exit_job {
    const char *via;
    int status, have_status;
};

static void exit_body(void *p)
{
    const struct exit_job *x = p;
    const char *via = x->via;
    int status = x->status, have_status = x->have_status;
    osh_process_check();
    if (raw_getpid() != osh_st.pid) return; /* a task sharing this memory (vfork child): the files are not its own */
    if (osh_st.exit_done) return;
    osh_st.exit_done = 1;
    if (osh_st.opt.report_at_exit) report_summary(via, status, have_status);
    if (!osh_st.wrote_events && !osh_st.nfailures) return;
    /* HotSpot wrote its error file after a refusal it could not survive */
    /* the hs_err findings and the command line, in the report path's scratch buffer (the
     * report lock is held; nothing else uses it until the exit event is out) */
    size_t scap = 0;
    char *scratch = raw_scratch(&scap);
    struct hserr *hs = (struct hserr *)scratch;
    char *cmdline = scratch + sizeof *hs;
    int have_hs = 0;
    if (osh_st.nreports > 0 && osh_st.opt.hs_err && scap > sizeof *hs + 1024) {
        ssize_t cn = raw_read_file("/proc/self/cmdline", cmdline, scap - sizeof *hs);
        have_hs = hserr_find(hs, cmdline, cn > 0 ? (size_t)cn : 0);
    }
    struct fmtbuf j;
    char b[1024];
    int fd = out_fd(&osh_st.json);
    fb_init(&j, b, sizeof b, fd);
    fb_printf(&j, "{\"schema\":1,\"event\":\"exit\",\"pid\":%d,\"via\":%pJ,\"status\":", (int)osh_st.pid, via);
    if (have_status) fb_printf(&j, "%d", status);
    else fb_puts(&j, "null");
    if (osh_st.first_report_us)
        fb_printf(&j, ",\"report_write_ms\":%llu.%03llu", (unsigned long long)((osh_st.first_report_us - 1) / 1000),
                  (unsigned long long)((osh_st.first_report_us - 1) % 1000));
    fb_puts(&j, ",\"after_enomem_ms\":");
    if (osh_st.last_enomem_ns) {
        uint64_t us = (raw_now_ns() - osh_st.last_enomem_ns) / 1000;
        fb_printf(&j, "%llu.%03llu", (unsigned long long)(us / 1000), (unsigned long long)(us % 1000));
    } else {
        fb_puts(&j, "null");
    }
    fb_putc(&j, ',');
    report_refusal_counts(&j);
    if (have_hs) hserr_json(&j, hs);
    fb_puts(&j, "}\n");
    if (fd >= 0) fb_flush(&j);
    if (osh_st.last_enomem_ns || osh_st.nunreported) {
        int tfd = out_fd(&osh_st.log);
        fb_init(&j, b, sizeof b, tfd);
        report_prefix(&j);
        if (!strcmp(via, "destructor")) /* main returned: libc's own exit, which no wrapper sees */
            fb_puts(&j, "overshim: process leaves by returning from main");
        else
            fb_printf(&j, "overshim: process leaves through %s", via);
        if (have_status) fb_printf(&j, "(%d)", status);
        if (osh_st.last_enomem_ns)
            fb_printf(&j, ", %llu ms after the last refusal",
                      (unsigned long long)((raw_now_ns() - osh_st.last_enomem_ns) / 1000000));
        fb_printf(&j, "; %d refusal%s: %d full report%s, %d one-line, %d only counted\n", osh_st.nfailures,
                  osh_st.nfailures == 1 ? "" : "s", osh_st.nreports, osh_st.nreports == 1 ? "" : "s", osh_st.nbrief,
                  osh_st.nunreported);
        if (have_hs) hserr_text(&j, hs);
        if (tfd >= 0) fb_flush(&j);
        if (osh_st.nunreported && osh_st.opt.verbosity >= 1 && tfd != 2) {
            fb_init(&j, b, sizeof b, 2);
            report_prefix(&j);
            fb_printf(&j, "SUMMARY: overshim: %d refusals in all, %d of them only counted (max_reports=%ld, "
                          "max_brief=%ld)\n",
                      osh_st.nfailures, osh_st.nunreported, osh_st.opt.max_reports, osh_st.opt.max_brief);
            fb_flush(&j);
        }
    }
}

__attribute__((section(".text.startup"))) int report_exit_due(void)
{
    return osh_st.opt.report_at_exit || __atomic_load_n(&osh_st.wrote_events, __ATOMIC_ACQUIRE) ||
           __atomic_load_n(&osh_st.nfailures, __ATOMIC_ACQUIRE) || __atomic_load_n(&osh_rstack_owner, __ATOMIC_ACQUIRE) != 0;
}

__attribute__((section(".text.startup"))) void report_exit(const char *via, int status, int have_status)
{
    struct exit_job x = {via, status, have_status};
    if (!report_exit_due()) return; /* nothing to write: no report stack, no lock, no page touched */
    if (osh_foreign_task()) return; /* a vfork child or CLONE_VM task: takes no lock of the process's */
    rstack_run(exit_body, &x);
}

static void summary_body(void *p)
{
    (void)p;
    osh_process_check();
    report_summary("overshim_write_summary", 0, 0);
}

int report_summary_now(void) { return rstack_run(summary_body, NULL); }

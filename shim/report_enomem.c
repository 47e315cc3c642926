/* The refusal report: text (verdict first, then the arithmetic, what would pass,
 * the call, the stack, the ledger, the system) and the `enomem` JSON event of
 * docs/contracts.md schema 1. Written at the moment of the failure, before the program
 * can reach exit_group, from static buffers with write(2). */
#include <errno.h>
#include <string.h>
#include <sys/prctl.h>

#include "common.h"
#include "demangle.h"
#include "diagnose.h"
#include "failure.h"
#include "fmt_fd.h"
#include "footprint.h"
#include "smaps_read.h"
#include "journal.h"
#include "ledger.h"
#include "livestate.h"
#include "rawsys.h"
#include "tid.h"
#include "report.h"
#include "render.h"
#include "report_call.h"
#include "state.h"
#include "rstack.h"
#include "symtab.h"
#include "report_region.h"
#include "runtime.h"
#include "unwind.h"

static struct live_state ls;
static struct smaps_facts sf;
static struct diagnosis dg;
static struct footprint fp; /* the shim's own share, read with the state */

static const char *basename_of(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}











/* Who is refused. A task that shares another's thread pointer (clone(CLONE_VM)
 * without CLONE_SETTLS, a vfork child) is "foreign": its TLS, its ledger record and
 * the process's report files are another task's, so it touches none of them and
 * writes a report of its own, under its own pid. */
struct who {
    pid_t pid, tid;
    int foreign;
    struct thread_rec *self;
};

static void write_full(const struct failed_call *fc, const struct frame *fr, int nf, const struct diagnosis *d,
                       const struct who *w, int jfd, int tfd)
{
    const struct thread_rec *self = w->self;
    struct fmtbuf j, t;
    fb_init(&j, report_jbuf, sizeof report_jbuf, jfd);
    fb_init(&t, report_tbuf, sizeof report_tbuf, tfd);
    pid_t tid = w->tid;
    char tname[17] = {0};
    prctl(PR_GET_NAME, tname, 0, 0, 0);
    char comm[64] = "?";
    ssize_t n = raw_read_file("/proc/self/comm", comm, sizeof comm);
    if (n > 0 && comm[n - 1] == '\n') comm[n - 1] = 0;
    uint64_t ms = (fc->when_ns - osh_st.start_ns) / 1000000;
    const char *name = call_name(fc->id);

    /* --- text --- */
    fb_printf(&t, "==%d== overshim: %s %s with %s by %s\n", (int)w->pid, name,
              fc->simulated ? "refused (simulated)" : "refused", render_errno_name(fc->err), d->headline);
    if (tid == w->pid)
        fb_printf(&t, "==%d==   %s (pid %d, parent %d), thread %d \"%s\" (the main thread), %llu ms after start\n",
                  (int)w->pid, comm, (int)w->pid, (int)raw_getppid(), (int)tid, tname, (unsigned long long)ms);
    else
        fb_printf(&t, "==%d==   %s (pid %d, parent %d), thread %d \"%s\" (created by %d), %llu ms after start\n",
                  (int)w->pid, comm, (int)w->pid, (int)raw_getppid(), (int)tid, tname,
                  self ? (int)self->parent_tid : 0, (unsigned long long)ms);
    if (w->foreign)
        fb_printf(&t, "==%d==   a task that shares the memory and thread pointer of pid %d (clone(CLONE_VM) without "
                      "CLONE_SETTLS, or a vfork child): the ledger below is that process's\n",
                  (int)w->pid, (int)osh_st.pid);
    fb_printf(&t, "\nVERDICT  %s: %s%s.\n", cause_name(d->cause), d->explanation,
              d->estimated ? " (estimated: the request glibc would have made for this allocation)" : "");
    struct call_region creg;
    region_of_call(fc, fr, nf, &creg);
    fb_puts(&t, "         What for: ");
    region_sentence(&t, &creg, call_request_bytes(fc), ls.prog.runtime == RT_JVM, fc->when_ns);
    fb_puts(&t, ".\n");
    if (fc->simulated && d->cause != CAUSE_INJECTED)
        fb_printf(&t, "SIMULATED: the kernel and memory of %s%s, with this program's own pages added; the real kernel "
                      "was not asked.\n",
                  osh_st.opt.simulate[0] ? "the snapshot " : "this machine with the overrides in OVERSHIM_OPTIONS",
                  osh_st.opt.simulate);
    fb_printf(&t, "         Linux %s (model %s), vm.overcommit_memory=%d (%s), caller %sCAP_SYS_ADMIN.\n", ls.release,
              ls.k.label, ls.in.overcommit_memory, render_mode_name(ls.in.overcommit_memory),
              ls.in.cap_sys_admin ? "" : "not ");
    if (d->kv.nterms) render_arithmetic_text(&t, d, &ls);
    if (d->nremedies) {
        fb_puts(&t, "\nWHAT WOULD PASS\n");
        for (int i = 0; i < d->nremedies; i++) fb_printf(&t, "     - %s\n", d->remedies[i]);
    }
    fb_printf(&t, "\nCALL     %s(", name);
    call_args(&t, fc, 0);
    char result_buf[64];
    fb_printf(&t, ")\n         = %s\n", render_call_result(fc, result_buf, sizeof result_buf));
    fb_puts(&t, osh_st.opt.symbols ? "\nSTACK    (module+offset [build-id]; names from each module's .symtab or .dynsym;"
                                    " `overshim symbolize` adds inlined frames and lines)\n"
                                  : "\nSTACK    (module+offset [build-id]; a name only where an exported symbol covers"
                                    " the address; `overshim symbolize` adds the rest)\n");
    for (int i = 0; i < nf; i++) {
        const struct frame *f = &fr[i];
        fb_printf(&t, "  #%-2d %s+0x%llx", i, f->module ? basename_of(f->module) : "[anonymous code]",
                  (unsigned long long)f->offset);
        if (f->build_id_len) {
            fb_puts(&t, " [");
            for (int k = 0; k < f->build_id_len && k < 8; k++) fb_printf(&t, "%02x", f->build_id[k]);
            fb_puts(&t, "..]");
        }
        if (f->symbol) {
            static char dm[1024];
            fb_printf(&t, "  %s+0x%llx", osh_demangle(f->symbol, dm, sizeof dm) ? dm : f->symbol,
                      (unsigned long long)f->symbol_offset);
        }
        fb_putc(&t, '\n');
    }
    fb_putc(&t, '\n');

    /* --- json --- */
    fb_printf(&j, "{\"schema\":1,\"event\":\"enomem\",\"pid\":%d,\"ppid\":%d,\"tid\":%d,\"ms_since_start\":%llu,",
              (int)w->pid, (int)raw_getppid(), (int)tid, (unsigned long long)ms);
    if (w->foreign) fb_printf(&j, "\"shares_memory_of\":%d,", (int)osh_st.pid);
    fb_printf(&j, "\"thread\":{\"tid\":%d,\"name\":%pJ,\"parent_tid\":%d,\"main\":%s},", (int)tid, tname,
              self ? (int)self->parent_tid : 0, tid == w->pid ? "true" : "false");
    fb_printf(&j, "\"call\":{\"name\":%pJ,\"args\":{", name);
    call_args(&j, fc, 1);
    fb_printf(&j, "},\"errno\":%pJ},\"simulated\":%s,", render_errno_name(fc->err), fc->simulated ? "true" : "false");
    fb_puts(&j, "\"verdict\":");
    render_verdict_json(&j, d, &ls);
    region_json(&j, &creg);
    fb_putc(&j, ',');
    render_stack_json(&j, fr, nf);
    fb_putc(&j, ',');

    report_ledger(jfd >= 0 ? &j : NULL, tfd >= 0 ? &t : NULL);
    fb_printf(&j, ",\"overshim_footprint\":{\"vm_bytes\":%llu,\"mappings\":%lld,\"committed_bytes\":%llu}",
              (unsigned long long)fp.vm_bytes, (long long)fp.mappings, (unsigned long long)fp.committed_bytes);
    fb_puts(&t, "         overshim's own share (its image, libunwind, report stack, heap): VmSize ");
    fb_size(&t, fp.vm_bytes);
    fb_printf(&t, ", %lld mappings, committed ", (long long)fp.mappings);
    fb_size(&t, fp.committed_bytes);
    fb_putc(&t, '\n');

    fb_putc(&j, ',');
    render_system_json(&j, &ls, osh_st.opt.simulate);
    fb_puts(&j, "}\n");

    const struct kmodel_meminfo *m = &ls.mi;
    /* simulated: the modelled box's CommitLimit (its overrides of ratio or kbytes applied), not
     * the snapshot's meminfo line */
    int64_t commit_limit_kb = fc->simulated ? kmodel_commit_limit(&ls.k, &ls.in) * ls.in.page_kb : m->CommitLimit;
    fb_printf(&t, "SYSTEM   MemTotal %lld MiB, MemFree %lld MiB, Cached+Buffers %lld MiB, Shmem %lld MiB, "
                  "SReclaimable %lld MiB, Swap %lld/%lld MiB free,\n         CommitLimit %lld MiB, Committed_AS %lld MiB; "
                  "max_map_count %lld; RLIMIT_AS ",
              (long long)m->MemTotal / 1024, (long long)m->MemFree / 1024, (long long)(m->Cached + m->Buffers) / 1024,
              (long long)m->Shmem / 1024, (long long)m->SReclaimable / 1024, (long long)m->SwapFree / 1024,
              (long long)m->SwapTotal / 1024, (long long)commit_limit_kb / 1024, (long long)m->Committed_AS / 1024,
              (long long)ls.max_map_count);
    if (ls.rlim_as == LS_UNLIMITED) fb_puts(&t, "unlimited");
    else fb_size(&t, (uint64_t)ls.rlim_as);
    fb_puts(&t, ", RLIMIT_DATA ");
    if (ls.rlim_data == LS_UNLIMITED) fb_puts(&t, "unlimited");
    else fb_size(&t, (uint64_t)ls.rlim_data);
    fb_puts(&t, "\n\n");
    if (jfd >= 0) fb_flush(&j);
    if (tfd >= 0) fb_flush(&t);
}

/* One line for stderr and syslog. */
static void one_line(struct fmtbuf *fb, const struct failed_call *fc, const struct diagnosis *d)
{
    if (!strcmp(d->units, "tasks") && d->cause == CAUSE_THREAD_LIMIT) {
        fb_printf(fb, "SUMMARY: overshim: thread_limit %s: %lld tasks, the limit %s is %lld", call_name(fc->id),
                  (long long)d->committed_pages, d->headline, (long long)d->limit_pages);
        if (fc->simulated) fb_puts(fb, " (simulated)");
        return;
    }
    uint64_t bytes = call_request_bytes(fc);
    if (!bytes && d->charge_pages > 0) bytes = (uint64_t)d->charge_pages * (uint64_t)ls.in.page_kb * 1024;
    fb_printf(fb, "SUMMARY: overshim: %s %s %llu bytes", cause_name(d->cause), call_name(fc->id), (unsigned long long)bytes);
    if (d->shortfall_pages > 0 && !strcmp(d->units, "pages")) {
        fb_puts(fb, ", short by ");
        fb_ssize(fb, ls.in.page_kb * 1024 * d->shortfall_pages);
    }
    if (fc->simulated) fb_puts(fb, " (simulated)");
}

static void who_am_i(struct who *w, pid_t tid)
{
    w->tid = tid;
    w->pid = raw_getpid();
    w->foreign = osh_foreign_task();
    w->self = w->foreign ? NULL : ledger_self();
}

static void say_stderr(const char *msg)
{
    if (osh_st.opt.verbosity < 1 || out_fd(&osh_st.log) == 2) return;
    char b[300];
    struct fmtbuf e;
    fb_init(&e, b, sizeof b, 2);
    fb_printf(&e, "==%d== SUMMARY: overshim: %s\n", (int)osh_st.pid, msg);
    fb_flush(&e);
}

static struct frame fr[UNWIND_MAX];
static int nf;

/* The refused call's stack, from the registers rstack_run saved (on the report stack). */
static void capture(void)
{
    int depth = (int)osh_st.opt.stack_depth;
    if (depth < 1) depth = 1;
    if (depth > UNWIND_MAX) depth = UNWIND_MAX;
    nf = unwind_capture_from(rstack_context(), fr, depth);
    static char names[12 * 1024]; /* a report's names: 64 frames of 190 bytes; past it module + offset */
    if (osh_st.opt.symbols) symtab_name_frames(fr, nf, names, sizeof names);
}

/* What the program is (runtime.h) and what its mallocs hold, for remedies in its terms. */
static void program_facts(struct live_state *st)
{
    runtime_facts(&st->prog, fr, nf);
    struct ledger_totals tot;
    ledger_lock();
    ledger_totals(&tot);
    ledger_unlock();
    st->prog.malloc_live_bytes = tot.malloc_live;
}

/* syslog=1: the journal's native protocol with fields when its socket is there, else
 * plain syslog through /dev/log; syslog=PATH: plain syslog to that socket. */
static void to_syslog(const struct failed_call *fc, const struct who *w, const char *report, const char *json)
{
    char b[1024];
    struct fmtbuf e;
    fb_init_str(&e, b, sizeof b);
    one_line(&e, fc, &dg);
    fb_printf(&e, " (pid %d, parent %d; report: %s)", (int)w->pid, (int)raw_getppid(), report);
    const char *msg = fb_cstr(&e);
    if (strcmp(osh_st.opt.syslog, "1") != 0) {
        raw_syslog(osh_st.opt.syslog, msg, w->pid);
        return;
    }
    char req[24], shortp[24], pid[16];
    osh_snprintf(req, sizeof req, "%lld", (long long)dg.request_pages);
    osh_snprintf(shortp, sizeof shortp, "%lld", (long long)dg.shortfall_pages);
    osh_snprintf(pid, sizeof pid, "%d", (int)w->pid);
    const struct journal_field f[] = {
        {"MESSAGE", msg},
        {"MESSAGE_ID", OVERSHIM_JOURNAL_MESSAGE_ID},
        {"PRIORITY", "4"},
        {"SYSLOG_FACILITY", "1"},
        {"SYSLOG_IDENTIFIER", "overshim"},
        {"SYSLOG_PID", pid},
        {"OVERSHIM_CAUSE", cause_name(dg.cause)},
        {"OVERSHIM_CALL", call_name(fc->id)},
        {"OVERSHIM_ERRNO", render_errno_name(fc->err)},
        {"OVERSHIM_REQUEST_PAGES", req},
        {"OVERSHIM_SHORTFALL_PAGES", shortp},
        {"OVERSHIM_UNITS", dg.units},
        {"OVERSHIM_SIMULATED", fc->simulated ? "1" : "0"},
        {"OVERSHIM_REPORT", report},
        {"OVERSHIM_JSON", json},
    };
    if (journal_send(osh_st.opt.journal, f, (int)OSH_ARRAY_LEN(f)) != 0) raw_syslog("/dev/log", msg, w->pid);
}

/* A refusal the program goes on from (diagnosis.note): one line in each file and on
 * stderr instead of a full report, counted apart. */
static void emit_note(struct failed_call *fc, const struct who *w, int jfd, int tfd)
{
    char b[2048];
    struct fmtbuf f;
    if (!w->foreign) osh_st.nnotes++;
    if (jfd >= 0) {
        fb_init(&f, b, sizeof b, jfd);
        fb_printf(&f, "{\"schema\":1,\"event\":\"note\",\"pid\":%d,\"tid\":%d,\"kind\":%pJ,"
                      "\"call\":{\"name\":%pJ,\"args\":{",
                  (int)w->pid, (int)w->tid, dg.note_kind ? dg.note_kind : "note", call_name(fc->id));
        call_args(&f, fc, 1);
        fb_printf(&f, "},\"errno\":%pJ},\"simulated\":%s,\"verdict\":{\"cause\":%pJ,\"units\":%pJ,\"request_pages\":%lld,"
                      "\"limit_pages\":%lld,\"shortfall_pages\":%lld},\"text\":%pJ}\n",
                  render_errno_name(fc->err), fc->simulated ? "true" : "false", cause_name(dg.cause), dg.units, (long long)dg.request_pages,
                  (long long)dg.limit_pages, (long long)dg.shortfall_pages, dg.explanation);
        fb_flush(&f);
    }
    for (int k = 0; k < 2; k++) {
        int fd = k == 0 ? tfd : (osh_st.opt.verbosity >= 1 && tfd != 2 ? 2 : -1);
        if (fd < 0) continue;
        fb_init(&f, b, sizeof b, fd);
        fb_printf(&f, "==%d== overshim: note: %s of ", (int)w->pid, call_name(fc->id));
        fb_size(&f, call_request_bytes(fc));
        fb_printf(&f, " refused with %s, thread %d: %s\n", render_errno_name(fc->err), (int)w->tid, dg.explanation);
        fb_flush(&f);
    }
    if (!w->foreign && (jfd >= 0 || tfd >= 0)) osh_st.wrote_events = 1;
}

/* A full report, on the report stack with the report lock held; ls, dg and the frames
 * are set. */
static void emit_full(struct failed_call *fc, const struct who *w)
{
    if (!dg.note && !w->foreign) { /* a foreign task's report is not this process's */
        osh_st.nreports++;
        osh_st.last_enomem_ns = fc->when_ns;
    }
    struct out_stream fj, fl; /* a foreign task's own files, opened for this report only */
    struct out_stream *js = &osh_st.json, *lg = &osh_st.log;
    if (w->foreign) {
        out_setup(&fj, osh_st.opt.json);
        out_setup(&fl, osh_st.opt.log);
        js = &fj;
        lg = &fl;
    }
    int jfd = out_fd(js), tfd = out_fd(lg);
    if (dg.note) {
        emit_note(fc, w, jfd, tfd);
        if (w->foreign) {
            out_release(&fj);
            out_release(&fl);
        }
        return;
    }
    write_full(fc, fr, nf, &dg, w, jfd, tfd);
    if (!w->foreign && !osh_st.first_report_us) osh_st.first_report_us = (raw_now_ns() - fc->when_ns) / 1000 + 1;
    if (!w->foreign && (jfd >= 0 || tfd >= 0)) osh_st.wrote_events = 1;
    if (strcmp(osh_st.opt.syslog, "0") != 0)
        to_syslog(fc, w, tfd >= 0 ? lg->path : jfd >= 0 ? js->path : "none", jfd >= 0 ? js->path : "none");
    if (osh_st.opt.verbosity >= 1 && tfd != 2) {
        char b[1024];
        struct fmtbuf e;
        fb_init(&e, b, sizeof b, 2);
        fb_printf(&e, "==%d== ", (int)w->pid);
        one_line(&e, fc, &dg);
        if (jfd >= 0 || tfd >= 0)
            fb_printf(&e, " (report: %s%s%s)", tfd >= 0 ? lg->path : "", jfd >= 0 && tfd >= 0 ? ", " : "",
                      jfd >= 0 ? js->path : "");
        fb_putc(&e, '\n');
        fb_flush(&e);
    }
    if (w->foreign) {
        out_release(&fj);
        out_release(&fl);
    }
}

/* What a brief event says of the verdict: nothing when it was not diagnosed (a
 * refusal the kernel made, past max_reports: nothing is read from /proc for it). */
struct brief_verdict {
    const char *cause; /* NULL: not diagnosed */
    int64_t request_pages, shortfall_pages;
};

/* One line in each file, formatted on the caller's stack: no lock when the files
 * are open (each line is one write to an O_APPEND file), nothing read from /proc,
 * no stack trace. */
static void brief_write(const struct failed_call *fc, const struct brief_verdict *v, pid_t tid, int jfd, int tfd)
{
    char b[768];
    struct fmtbuf f;
    int n = __atomic_add_fetch(&osh_st.nbrief, 1, __ATOMIC_RELAXED);
    int nfail = __atomic_load_n(&osh_st.nfailures, __ATOMIC_RELAXED);
    if (jfd >= 0) {
        fb_init(&f, b, sizeof b, jfd);
        fb_printf(&f, "{\"schema\":1,\"event\":\"enomem_brief\",\"pid\":%d,\"tid\":%d,\"call\":{\"name\":%pJ,\"args\":{",
                  (int)osh_st.pid, (int)tid, call_name(fc->id));
        call_args(&f, fc, 1);
        fb_printf(&f, "},\"errno\":%pJ},\"simulated\":%s,", render_errno_name(fc->err), fc->simulated ? "true" : "false");
        if (v->cause)
            fb_printf(&f, "\"diagnosed\":true,\"verdict\":{\"cause\":%pJ,\"request_pages\":%lld,\"shortfall_pages\":%lld}",
                      v->cause, (long long)v->request_pages, (long long)v->shortfall_pages);
        else
            fb_printf(&f, "\"diagnosed\":false,\"verdict\":null,\"request_pages\":%lld", (long long)v->request_pages);
        fb_printf(&f, ",\"failure_number\":%d,\"brief_number\":%d}\n", nfail, n);
        fb_flush(&f);
    }
    if (tfd >= 0) {
        fb_init(&f, b, sizeof b, tfd);
        fb_printf(&f, "==%d== overshim: %s %s %llu bytes%s, tid %d (failure %d, brief %d of max_brief=%ld; "
                      "max_reports=%ld reached)\n",
                  (int)osh_st.pid, v->cause ? v->cause : "refused", call_name(fc->id),
                  (unsigned long long)call_request_bytes(fc), fc->simulated ? " (simulated)" : "", (int)tid, nfail, n,
                  osh_st.opt.max_brief, osh_st.opt.max_reports);
        fb_flush(&f);
    }
    if (jfd >= 0 || tfd >= 0) osh_st.wrote_events = 1;
    if (n == 1) say_stderr("max_reports reached: further refusals are one-line events in the files");
    if (n == osh_st.opt.max_brief) say_stderr("max_brief reached: further refusals are only counted (see the exit event)");
}

struct brief_job {
    const struct failed_call *fc;
    const struct brief_verdict *v;
    pid_t tid;
};

static void brief_body(void *p)
{
    struct brief_job *b = p;
    osh_process_check();
    struct who w;
    who_am_i(&w, b->tid ? b->tid : rstack_tid());
    if (w.foreign) { /* its own files, for one line */
        struct out_stream fj, fl;
        out_setup(&fj, osh_st.opt.json);
        out_setup(&fl, osh_st.opt.log);
        brief_write(b->fc, b->v, w.tid, out_fd(&fj), out_fd(&fl));
        out_release(&fj);
        out_release(&fl);
        return;
    }
    brief_write(b->fc, b->v, w.tid, out_fd(&osh_st.json), out_fd(&osh_st.log));
}


/* Past max_reports. locked: already on the report stack (policy's decisions). */
/* A budget claimed with an atomic add that never wraps: past max it stays put. */
static int claim(int *counter, long max)
{
    if (__atomic_load_n(counter, __ATOMIC_RELAXED) >= max) return 0;
    return __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED) < max;
}

/* Past max_reports. The line is written on the report stack under the report lock
 * (the caller's stack may be a few hundred bytes from its end, and a full report being
 * written in pieces must not have lines cut into it); with both files off there is
 * nothing to write. locked: already on the report stack (policy's decisions). */
static void brief(const struct failed_call *fc, const struct brief_verdict *v, int locked)
{
    if (!claim(&osh_st.nbrief_claimed, osh_st.opt.max_brief) || (osh_st.log.fd == -2 && osh_st.json.fd == -2)) {
        __atomic_add_fetch(&osh_st.nunreported, 1, __ATOMIC_RELAXED);
        return;
    }
    struct brief_job b = {fc, v, locked ? rstack_tid() : 0};
    if (locked) return brief_body(&b);
    if (rstack_run(brief_body, &b) != 0) __atomic_add_fetch(&osh_st.nunreported, 1, __ATOMIC_RELAXED);
}

/* The budgets are per process: a foreign task (who_am_i) has its own, apart from the
 * counts of the process whose memory it shares. */
static int foreign_failures, foreign_claimed;

static int claim_full_as(int foreign)
{
    if (foreign) {
        __atomic_add_fetch(&foreign_failures, 1, __ATOMIC_RELAXED);
        return claim(&foreign_claimed, osh_st.opt.max_reports);
    }
    __atomic_add_fetch(&osh_st.nfailures, 1, __ATOMIC_RELAXED);
    return claim(&osh_st.nclaimed, osh_st.opt.max_reports);
}

static int claim_full(void) { return claim_full_as(0); }

static void own_footprint(struct live_state *st)
{
    int64_t pb = (st->in.page_kb ? st->in.page_kb : 4) * 1024;
    if (footprint_read(&fp, st->in.overcommit_memory) != 0) memset(&fp, 0, sizeof fp);
    st->own_vm_pages = (int64_t)(fp.vm_bytes / (uint64_t)pb);
    st->own_maps = fp.mappings;
    st->own_commit_pages = (int64_t)(fp.committed_bytes / (uint64_t)pb);
}

static void kernel_body(void *p)
{
    struct failed_call *fc = p;
    osh_process_check();
    struct who w;
    who_am_i(&w, rstack_tid());
    uintptr_t lo, hi;
    diagnose_call_range(fc, &lo, &hi);
    int tasks = fc->id == CALL_PTHREAD_CREATE || fc->id == CALL_FORK || fc->id == CALL_CLONE ||
                fc->id == CALL_POSIX_SPAWN || fc->id == CALL_POSIX_SPAWNP;
    capture();
    livestate_read(&ls, tasks);
    own_footprint(&ls);
    smaps_facts(lo, hi, &sf);
    ls.proc_ac_pages = sf.ok ? (int64_t)sf.ac_total_pages : -1;
    program_facts(&ls);
    diagnose(fc, &ls, &sf, &dg);
    if (dg.note) { /* not a full report: give the claim back */
        if (w.foreign) __atomic_sub_fetch(&foreign_claimed, 1, __ATOMIC_RELAXED);
        else __atomic_sub_fetch(&osh_st.nclaimed, 1, __ATOMIC_RELAXED);
    }
    emit_full(fc, &w);
}

void failure_report(struct failed_call *fc)
{
    int saved = errno;
    fc->when_ns = raw_now_ns();
    int foreign = osh_foreign_task();
    if (claim_full_as(foreign)) {
        if (rstack_run(kernel_body, fc) != 0) __atomic_add_fetch(&osh_st.nunreported, 1, __ATOMIC_RELAXED);
    } else if (!foreign) {
        struct brief_verdict v = {NULL, (int64_t)((call_request_bytes(fc) + 4095) / 4096), 0};
        brief(fc, &v, 0);
    }
    errno = saved;
}

void failure_report_decided(struct failed_call *fc, const struct live_state *st, const struct smaps_facts *f,
                            const struct diagnosis *d)
{
    int saved = errno;
    fc->when_ns = raw_now_ns();
    if (claim_full()) {
        struct who w;
        who_am_i(&w, rstack_tid());
        ls = *st;
        capture();
        program_facts(&ls);
        diagnose(fc, &ls, f, &dg); /* the same state: the same verdict, remedies in the program's terms */
        if (dg.cause != d->cause) dg = *d;
        own_footprint(&ls);
        emit_full(fc, &w);
    } else {
        struct brief_verdict v = {cause_name(d->cause), d->request_pages, d->shortfall_pages};
        brief(fc, &v, 1);
    }
    errno = saved;
}

int failure_claim_full(void) { return claim_full(); }

void failure_report_claimed(struct failed_call *fc, const struct live_state *st, const struct diagnosis *d)
{
    int saved = errno;
    fc->when_ns = raw_now_ns();
    struct who w;
    who_am_i(&w, rstack_tid());
    ls = *st;
    dg = *d;
    capture();
    own_footprint(&ls);
    emit_full(fc, &w);
    errno = saved;
}

void failure_brief_injected(struct failed_call *fc)
{
    int saved = errno;
    fc->when_ns = raw_now_ns();
    struct brief_verdict v = {"injected", (int64_t)((call_request_bytes(fc) + 4095) / 4096), 0};
    brief(fc, &v, 0);
    errno = saved;
}

/* The timeline's entry points (timeline.h): options to files at start, the ledger's and the
 * wrappers' hooks to the two writers (flight.c, trace.c), and the samples.
 *
 * Samples are piggy-backed on the calls the shim wraps (the memory calls, thread creation,
 * fork, thread exit): the first such call a second or more after the last sample takes one,
 * on the calling thread (two /proc reads, and the touched pages of the ledger's ranges).
 * No timer thread: a thread of the shim's own would count against RLIMIT_NPROC and
 * threads-max (which the simulator and the programs it serves measure), would be visible
 * in the program's /proc/self/task, and would need a stack, TLS and signal mask that no
 * program expects. The price: a process that makes none of those calls for a while (a
 * compute loop touching memory it already holds) has no sample for that while; its
 * committed numbers are current regardless (they change only through those calls). */
#include <errno.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "overshim_flight.h"

#include "common.h"
#include "diagnose.h"
#include "fmt.h"
#include "ledger.h"
#include "output.h"
#include "rawsys.h"
#include "reconcile.h"
#include "resolve.h"
#include "report_call.h"
#include "state.h"
#include "sysstate.h"
#include "tid.h"
#include "latefn.h"
#include "timeline.h"

int osh_timeline;
static uint64_t start_mono;
static uint64_t next_sample_ns;
static uint64_t next_touched_ns; /* the ledger's touched pages are walked no more often than this */
static int sampling;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    raw_clock_gettime(CLOCK_MONOTONIC, &ts); /* the vDSO: no system call */
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t timeline_now(void) { return mono_ns() - start_mono; }

static void say(const char *key, const char *err)
{
    char m[800];
    int n = osh_snprintf(m, sizeof m, "overshim: %s: %s; the program runs without it\n", key, err);
    if (n > 0) raw_write_all(2, m, (size_t)n < sizeof m ? (size_t)n : sizeof m - 1);
}

/* A file of another live process of this name (a path without %p, given to two processes,
 * or to a program and what it runs): not taken over. */
int timeline_in_use(const char *path, int pid_off);
int timeline_in_use(const char *path, int pid_off)
{
    char head[256];
    int fd = raw_open(path, O_RDONLY | O_NOFOLLOW, 0);
    if (fd < 0) return 0;
    ssize_t n = raw_read(fd, head, sizeof head);
    raw_close(fd);
    if (pid_off < 0 || n < pid_off + 4 || memcmp(head, "OVS", 3) != 0) return 0;
    int32_t pid;
    memcpy(&pid, head + pid_off, sizeof pid);
    if (pid <= 0 || pid == raw_getpid()) return 0; /* this process again, after an exec */
    return syscall(SYS_kill, pid, 0) == 0 || errno == EPERM;
}

/* flight_sampler=1: a thread that samples once a second, for programs that go a long while
 * without a call the shim wraps (an idle or computing JVM). Every call it makes goes straight
 * to the real functions (its guard stays up), every signal is blocked in it, its stack is
 * 64 KiB (commit, in mode 2), and it exists only in the process that started it (not in a
 * fork child). It is one more task for RLIMIT_NPROC, threads-max and /proc/self/task, and a
 * multi-threaded process cannot unshare(CLONE_NEWUSER): hence off by default. */
static void *sampler(void *arg)
{
    (void)arg;
    osh_enter(); /* for good */
    prctl(PR_SET_NAME, "overshim-flight", 0, 0, 0);
    pid_t me = raw_getpid();
    for (;;) {
        struct timespec ts = {1, 0};
        syscall(SYS_nanosleep, &ts, NULL);
        if (!osh_timeline || raw_getpid() != me) return NULL;
        timeline_tick();
    }
}

/* pthread's functions looked up when first used (latefn.h: libpthread before 2.34), and
 * the real pthread_create resolved here (the wrappers resolve on first use) */
LATE_SLOT(pthread_attr_init);
LATE_SLOT(pthread_attr_setstacksize);
LATE_SLOT(pthread_attr_setdetachstate);
LATE_SLOT(pthread_attr_destroy);

static void start_sampler(void)
{
    pthread_attr_t a;
    pthread_t t;
    uint64_t all = ~0ull, old = 0;
    if (!REAL(pthread_create)) resolve_all();
    if (!REAL(pthread_create) && !resolve_late((void **)&REAL(pthread_create), "pthread_create")) return;
    __typeof__(&pthread_attr_init) init = LATE(pthread_attr_init);
    __typeof__(&pthread_attr_setstacksize) setstack = LATE(pthread_attr_setstacksize);
    __typeof__(&pthread_attr_setdetachstate) setdetach = LATE(pthread_attr_setdetachstate);
    __typeof__(&pthread_attr_destroy) destroy = LATE(pthread_attr_destroy);
    if (!init || !setstack || !setdetach || !destroy || init(&a) != 0) return;
    setstack(&a, 64 * 1024);
    setdetach(&a, PTHREAD_CREATE_DETACHED);
    /* the new thread starts with every signal blocked (the system call: no libc version to bind) */
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, sizeof all);
    if (REAL(pthread_create)(&t, &a, sampler, NULL) != 0) say("flight_sampler=1", "no thread could be started");
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof old);
    destroy(&a);
}

void timeline_init(void)
{
    start_mono = osh_st.start_ns; /* CLOCK_MONOTONIC, read by start() just before: no clock_gettime binding at start */
    const struct osh_options *o = &osh_st.opt;
    char path[600], err[700], key[700];
    if (o->flight[0]) {
        out_expand(o->flight, raw_getpid(), path, sizeof path);
        osh_snprintf(key, sizeof key, "flight=%s", o->flight);
        if (timeline_in_use(path, (int)offsetof(struct overshim_flight_header, pid)))
            say(key, "the file belongs to another live process (put %p in the path)");
        else if (flight_open(path, err, sizeof err) != 0) say(key, err);
        else osh_timeline |= 1;
    }
    if (o->trace[0]) {
        out_expand(o->trace, raw_getpid(), path, sizeof path);
        osh_snprintf(key, sizeof key, "trace=%s", o->trace);
        static struct smaps_facts f;
        smaps_facts(0, 0, &f); /* what the simulator counts the program with at start */
        int64_t rss = status_get_kb("RssAnon");
        if (timeline_in_use(path, (int)offsetof(struct overshim_trace_header, pid)))
            say(key, "the file belongs to another live process (put %p in the path)");
        else if (trace_open(path, o->trace_max, (int64_t)f.ac_total_pages, rss, err, sizeof err) != 0) say(key, err);
        else osh_timeline |= 2;
    }
    if (osh_timeline & 1) flight_event(OVERSHIM_FEV_START, 0xffff, raw_getpid(), 0, 0, 0, 0);
    if (osh_timeline && o->flight_sampler) start_sampler();
}

void timeline_fork_child(void)
{
    if (!osh_timeline) return;
    osh_timeline = 0; /* a fork child records nothing: the files are its parent's */
    flight_close();
    trace_close();
}

void timeline_charge(struct thread_rec *t, int64_t bytes, int op, uintptr_t lo, size_t len, int64_t proc,
                     int64_t peak)
{
    uint64_t now = timeline_now();
    if (osh_timeline & 1) flight_charge(t, bytes, op, lo, len, proc, peak, now);
    if (osh_timeline & 2) {
        struct overshim_trace_rec *r = trace_claim();
        if (r) {
            r->call = (uint8_t)op;
            r->a[2] = (uint64_t)r->tid; /* the calling thread; tid is the thread charged */
            r->tid = t ? t->tid : 0;
            r->a[0] = lo;
            r->a[1] = len;
            r->v[0] = bytes;
            r->v[1] = t ? t->committed : 0;
            r->v[2] = proc;
            trace_commit(r, OVERSHIM_TR_COMMIT);
        }
    }
}

void timeline_thread(struct thread_rec *t, int started)
{
    if (!t) return;
    if (osh_timeline & 1) flight_thread(t, started, timeline_now());
    if (osh_timeline & 2) {
        struct overshim_trace_rec *r = trace_claim();
        if (r) {
            r->tid = t->tid;
            r->a[0] = started ? 1 : 2;
            r->a[1] = (uint64_t)t->parent_tid;
            memcpy(&r->a[2], t->name, 16);
            r->v[1] = t->committed;
            trace_commit(r, OVERSHIM_TR_THREAD);
        }
    }
}

/* What the simulator would ask smaps about the call's range, from the ledger. */
void timeline_request(const struct failed_call *fc, int model)
{
    if (!(osh_timeline & 2) || !model || (fc->id >= CALL_MALLOC && fc->id <= CALL_PVALLOC)) return;
    osh_process_check();
    if (!(osh_timeline & 2)) return;
    struct overshim_trace_rec *r = trace_claim();
    if (!r) return;
    r->call = (uint8_t)fc->id;
    for (int i = 0; i < 6; i++) r->a[i] = fc->a[i];
    uintptr_t lo = 0, hi = 0;
    diagnose_call_range(fc, &lo, &hi);
    if (hi > lo) { /* a range the call names (MAP_FIXED, mprotect, mremap, munmap) */
        ledger_lock();
        r->v[1] = (int64_t)(ledger_charged_in(lo, hi) / 4096);
        r->v[2] = (int64_t)(ledger_mapped_in(lo, hi) / 4096);
        ledger_unlock();
    }
    r->v[0] = ledger_committed_bytes() / 4096; /* the start's pages are added by the reader (start_ac_pages) */
    r->v[3] = ledger_mapped_bytes() / 4096;
    trace_commit(r, OVERSHIM_TR_REQUEST);
}

void timeline_refusal(const struct failed_call *fc)
{
    if (!osh_timeline) return;
    if (osh_foreign_task()) return;
    uint64_t req = call_request_bytes(fc);
    if (osh_timeline & 1) {
        flight_event(OVERSHIM_FEV_REFUSAL, fc->id, fc->id, (int64_t)req, fc->err, fc->simulated, timeline_now());
    }
    if (osh_timeline & 2) {
        struct overshim_trace_rec *r = trace_claim();
        if (r) {
            r->call = (uint8_t)fc->id;
            r->a[0] = (uint64_t)fc->err;
            r->a[1] = (uint64_t)fc->simulated;
            r->a[2] = req;
            trace_commit(r, OVERSHIM_TR_REFUSAL);
        }
    }
}

void timeline_exit(const char *via, int status, int have_status)
{
    if (!osh_timeline || osh_foreign_task()) return;
    if (!have_status) status = -1;
    if (osh_timeline & 1) flight_exit(via, status, timeline_now());
    if (osh_timeline & 2) {
        struct overshim_trace_rec *r = trace_claim();
        if (r) {
            r->a[0] = (uint64_t)(int64_t)status;
            trace_commit(r, OVERSHIM_TR_EXIT);
        }
        trace_exit(status);
    }
}

/* One sample: /proc/self/status, /proc/meminfo and the ledger's touched pages. */
static void take_sample(uint64_t now)
{
    static char st[8192]; /* status, then meminfo: one buffer (the shim's footprint) */
    char *mi = st;
    static struct overshim_flight_sample s;
    memset(&s, 0, sizeof s);
    s.rss_kb = s.vm_size_kb = s.rss_anon_kb = -1;
    s.box_committed_as_kb = s.box_commit_limit_kb = s.box_mem_available_kb = -1;
    if (raw_read_file("/proc/self/status", st, sizeof st) > 0) {
        s.rss_kb = meminfo_get(st, "VmRSS");
        s.vm_size_kb = meminfo_get(st, "VmSize");
        s.rss_anon_kb = meminfo_get(st, "RssAnon");
    }
    if (raw_read_file("/proc/meminfo", mi, sizeof st) > 0) {
        s.box_committed_as_kb = meminfo_get(mi, "Committed_AS");
        s.box_commit_limit_kb = meminfo_get(mi, "CommitLimit");
        s.box_mem_available_kb = meminfo_get(mi, "MemAvailable");
    }
    ledger_lock();
    /* The touched pages of the ledger's ranges: one pagemap read per 2 MiB of them, under the
     * ledger's lock (measured: 25-38 ms for a JVM's 460 MiB on this loaded machine). Walked
     * when it costs at most 0.1% of the time: after a walk of T, not again for 1000 T. */
    s.touched = -1;
    if (now >= next_touched_ns) {
        s.touched = (int64_t)ledger_compute_touched();
        uint64_t cost = timeline_now() - now;
        next_touched_ns = now + (cost * 1000 > 1000000000ull ? cost * 1000 : 0);
    }
    struct ledger_totals tot;
    ledger_totals(&tot);
    s.committed = tot.committed;
    s.malloc_live = tot.malloc_live;
    int64_t mapped = tot.mapped;
    if (osh_timeline & 1) flight_sample(&s, now);
    ledger_unlock();
    if (osh_timeline & 2) {
        struct overshim_trace_rec *r = trace_claim();
        if (r) {
            r->v[0] = s.rss_anon_kb;
            r->v[1] = s.vm_size_kb;
            r->v[2] = s.rss_kb;
            r->v[3] = s.committed;
            r->a[0] = (uint64_t)s.box_committed_as_kb;
            r->a[1] = (uint64_t)s.box_commit_limit_kb;
            r->a[2] = (uint64_t)s.box_mem_available_kb;
            r->a[3] = (uint64_t)s.touched;
            r->a[4] = (uint64_t)(mapped / 4096);
            trace_commit(r, OVERSHIM_TR_SAMPLE);
        }
    }
}

void timeline_tick(void)
{
    if (OSH_LIKELY(!osh_timeline)) return;
    uint64_t now = timeline_now();
    if (now < __atomic_load_n(&next_sample_ns, __ATOMIC_RELAXED)) return;
    osh_process_check();
    if (!osh_timeline || __atomic_exchange_n(&sampling, 1, __ATOMIC_ACQUIRE)) return;
    if (osh_foreign_task()) {
        __atomic_store_n(&sampling, 0, __ATOMIC_RELEASE);
        return;
    }
    __atomic_store_n(&next_sample_ns, now + 1000000000ull, __ATOMIC_RELAXED);
    take_sample(now);
    if (osh_timeline & 1) flight_sample_cost(timeline_now() - now);
    __atomic_store_n(&sampling, 0, __ATOMIC_RELEASE);
}

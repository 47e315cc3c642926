/* The flight recorder file (flight=PATH): a header, per-thread slots, a ring of events and
 * a ring of samples (include/overshim_flight.h), in one file of OVERSHIM_FLIGHT_SIZE bytes that is
 * preallocated on disk (so that a store can never meet a full disk: a shared mapping of a
 * hole that cannot be filled is SIGBUS) and mapped MAP_SHARED. Stores land in the page cache
 * at once: a SIGKILL loses nothing, and no update makes a system call.
 *
 * Slots are written under the ledger's mutex, which orders every writer (a munmap on one
 * thread uncharges another's range, so "only by their own thread" would leave a killed
 * process's file behind the ledger); each slot's seq counter lets a reader of a live or dead
 * process's file tell a torn slot. Events and samples claim their place with an atomic add
 * and carry a seq each. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "overshim_flight.h"

#include "fmt.h"
#include "ledger.h"
#include "rawsys.h"
#include "state.h"
#include "sysstate.h"
#include "tid.h"
#include "timeline.h"

static struct overshim_flight_header *fh; /* NULL: no flight file in this process */
static struct overshim_flight_slot *slots;
static struct overshim_flight_event *events;
static struct overshim_flight_sample *samples;

#define SEQ_BEGIN(p) do { __atomic_store_n(&(p)->seq, (p)->seq + 1, __ATOMIC_RELAXED); __atomic_thread_fence(__ATOMIC_RELEASE); } while (0)
#define SEQ_END(p) __atomic_store_n(&(p)->seq, (p)->seq + 1, __ATOMIC_RELEASE)

static int64_t lim(int res)
{
    struct rlimit r;
    if (syscall(SYS_prlimit64, 0, res, NULL, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return -1;
    return (int64_t)r.rlim_cur;
}

/* A file may reach end bytes without SIGXFSZ (RLIMIT_FSIZE: the signal would kill the
 * program; fallocate and pwrite raise it past the limit). */
int timeline_fsize_ok(off_t end);
int timeline_fsize_ok(off_t end)
{
    struct rlimit r;
    return syscall(SYS_prlimit64, 0, RLIMIT_FSIZE, NULL, &r) == 0 && (r.rlim_cur == RLIM_INFINITY || (uint64_t)end <= r.rlim_cur);
}

/* Preallocate [0, size): fallocate where the file system has it, else zeros written. */
static int prealloc(int fd, off_t size)
{
    if (!timeline_fsize_ok(size)) {
        errno = EFBIG;
        return -1;
    }
    if (syscall(SYS_fallocate, fd, 0, (off_t)0, size) == 0) return 0;
    if (errno != EOPNOTSUPP && errno != ENOSYS) return -1;
    static const char zero[4096];
    for (off_t o = 0; o < size; o += (off_t)sizeof zero)
        if (syscall(SYS_pwrite64, fd, zero, sizeof zero, o) != (long)sizeof zero) return -1;
    return 0;
}

/* Open (or, after an exec in the same process, reuse) a regular file for a shared mapping:
 * O_NOFOLLOW (a planted symlink is not followed), mode 0600, not another user's file. */
int timeline_open_file(const char *path, off_t size, char *err, size_t errcap);
int timeline_open_file(const char *path, off_t size, char *err, size_t errcap)
{
    int fd = raw_open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        osh_snprintf(err, errcap, "cannot create %s (errno %d)", path, errno);
        return -1;
    }
    struct stat st;
    if (syscall(SYS_fstat, fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != (uid_t)syscall(SYS_geteuid)) {
        osh_snprintf(err, errcap, "%s is not a regular file of this user", path);
        raw_close(fd);
        return -1;
    }
    if (syscall(SYS_ftruncate, fd, (off_t)0) != 0 || (size && prealloc(fd, size) != 0)) {
        osh_snprintf(err, errcap, "cannot allocate %ld bytes for %s (errno %d)", (long)size, path, errno);
        raw_close(fd);
        return -1;
    }
    return fd;
}

static void read_line(const char *path, char *dst, size_t cap)
{
    char buf[512];
    dst[0] = 0;
    if (raw_read_file(path, buf, sizeof buf) <= 0) return;
    size_t n = strcspn(buf, "\n");
    if (n >= cap) n = cap - 1;
    memcpy(dst, buf, n);
    dst[n] = 0;
}

/* The cgroup v2 path ("0::/system.slice/x.service"), for postmortem's memory.events. */
static void read_cgroup(char *dst, size_t cap)
{
    static char buf[4096];
    dst[0] = 0;
    if (raw_read_file("/proc/self/cgroup", buf, sizeof buf) <= 0) return;
    for (char *l = buf; *l;) {
        char *e = l + strcspn(l, "\n");
        if (!strncmp(l, "0::", 3)) {
            size_t n = (size_t)(e - l - 3);
            if (n >= cap) n = cap - 1;
            memcpy(dst, l + 3, n);
            dst[n] = 0;
            return;
        }
        l = *e ? e + 1 : e;
    }
}

int flight_open(const char *path, char *err, size_t errcap)
{
    int fd = timeline_open_file(path, OVERSHIM_FLIGHT_SIZE, err, errcap);
    if (fd < 0) return -1;
    void *m = raw_mmap(NULL, OVERSHIM_FLIGHT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    raw_close(fd);
    if (m == MAP_FAILED) {
        osh_snprintf(err, errcap, "cannot map %s", path);
        return -1;
    }
    struct overshim_flight_header *h = m;
    h->version = OVERSHIM_FLIGHT_VERSION;
    h->header_size = sizeof *h;
    h->slot_size = sizeof(struct overshim_flight_slot);
    h->nslots = OVERSHIM_FLIGHT_NSLOTS;
    h->event_size = sizeof(struct overshim_flight_event);
    h->nevents = OVERSHIM_FLIGHT_NEVENTS;
    h->sample_size = sizeof(struct overshim_flight_sample);
    h->nsamples = OVERSHIM_FLIGHT_NSAMPLES;
    h->slots_off = sizeof *h;
    h->events_off = h->slots_off + (uint64_t)OVERSHIM_FLIGHT_NSLOTS * sizeof(struct overshim_flight_slot);
    h->samples_off = h->events_off + (uint64_t)OVERSHIM_FLIGHT_NEVENTS * sizeof(struct overshim_flight_event);
    _Static_assert(sizeof(struct overshim_flight_header) + OVERSHIM_FLIGHT_NSLOTS * sizeof(struct overshim_flight_slot) +
                           OVERSHIM_FLIGHT_NEVENTS * sizeof(struct overshim_flight_event) +
                           OVERSHIM_FLIGHT_NSAMPLES * sizeof(struct overshim_flight_sample) <=
                       OVERSHIM_FLIGHT_SIZE,
                   "the flight file holds its areas");
    h->pid = raw_getpid();
    h->ppid = raw_getppid();
    h->uid = (uint32_t)syscall(SYS_getuid);
    h->page_size = 4096;
    read_line("/proc/sys/kernel/random/boot_id", h->boot_id, sizeof h->boot_id);
    struct timespec ts;
    raw_clock_gettime(CLOCK_REALTIME, &ts);
    h->start_realtime_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    raw_clock_gettime(CLOCK_MONOTONIC, &ts);
    h->start_mono_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    read_line("/proc/self/comm", h->comm, sizeof h->comm);
    ssize_t n = syscall(SYS_readlink, "/proc/self/exe", h->exe, sizeof h->exe - 1);
    if (n > 0) h->exe[n] = 0;
    read_cgroup(h->cgroup, sizeof h->cgroup);
    sys_kernel_release(h->kernel_release, sizeof h->kernel_release);
    h->rlimit_as = lim(RLIMIT_AS);
    h->rlimit_data = lim(RLIMIT_DATA);
    h->rlimit_nproc = lim(RLIMIT_NPROC);
    h->overcommit_memory = (int32_t)sys_read_long("/proc/sys/vm/overcommit_memory");
    h->overcommit_ratio = (int32_t)sys_read_long("/proc/sys/vm/overcommit_ratio");
    size_t cap;
    char *mi = raw_scratch(&cap); /* the constructor, before any report can run */
    if (raw_read_file("/proc/meminfo", mi, cap < 65536 ? cap : 65536) > 0) {
        h->mem_total_kb = meminfo_get(mi, "MemTotal");
        h->swap_total_kb = meminfo_get(mi, "SwapTotal");
        h->commit_limit_kb = meminfo_get(mi, "CommitLimit");
        h->committed_as_kb = meminfo_get(mi, "Committed_AS");
    }
    h->state = OVERSHIM_FLIGHT_RUNNING;
    h->exit_status = -1;
    slots = (struct overshim_flight_slot *)((char *)m + h->slots_off);
    events = (struct overshim_flight_event *)((char *)m + h->events_off);
    samples = (struct overshim_flight_sample *)((char *)m + h->samples_off);
    memcpy(h->magic, OVERSHIM_FLIGHT_MAGIC, 8); /* last: a reader sees a whole header or none */
    __atomic_store_n(&fh, h, __ATOMIC_RELEASE);
    return 0;
}

void flight_close(void)
{
    struct overshim_flight_header *h = fh;
    if (!h) return;
    fh = NULL;
    raw_munmap(h, OVERSHIM_FLIGHT_SIZE);
}

/* The slot of t, given on first use (ledger lock held); NULL when all are taken. */
static struct overshim_flight_slot *slot_of(struct thread_rec *t, uint64_t now)
{
    if (!t) return NULL;
    if (t->fslot) return &slots[t->fslot - 1];
    if (fh->slots_used >= OVERSHIM_FLIGHT_NSLOTS) {
        fh->slots_full++;
        return NULL;
    }
    struct overshim_flight_slot *s = &slots[fh->slots_used];
    SEQ_BEGIN(s);
    s->tid = t->tid;
    s->parent_tid = t->parent_tid;
    s->alive = 1;
    memcpy(s->name, t->name, sizeof s->name);
    s->touched = -1;
    s->start_ns = now;
    s->update_ns = now;
    SEQ_END(s);
    t->fslot = ++fh->slots_used;
    return s;
}

void flight_charge(struct thread_rec *t, int64_t bytes, int op, uintptr_t lo, size_t len, int64_t proc,
                   int64_t peak, uint64_t now)
{
    struct overshim_flight_header *h = fh;
    if (!h) return;
    h->committed = proc;
    h->peak_committed = peak;
    h->last_update_ns = now;
    struct overshim_flight_slot *s = slot_of(t, now);
    if (s) {
        SEQ_BEGIN(s);
        if (!s->tid && t->tid) s->tid = t->tid; /* prepared by its creator, started since */
        s->committed = t->committed;
        s->peak_committed = t->peak_committed;
        s->update_ns = now;
        SEQ_END(s);
    }
    /* large changes are events: the last ones before a kill say what the process was doing */
    if (bytes >= (1 << 20) || bytes <= -(1 << 20))
        flight_event(bytes > 0 ? OVERSHIM_FEV_MAP : OVERSHIM_FEV_UNMAP, op, (int64_t)lo, bytes, (int64_t)len, t ? t->tid : 0, now);
}

void flight_thread(struct thread_rec *t, int started, uint64_t now)
{
    if (!fh || !t) return;
    struct overshim_flight_slot *s = slot_of(t, now);
    if (s) {
        SEQ_BEGIN(s);
        s->tid = t->tid;
        s->parent_tid = t->parent_tid;
        memcpy(s->name, t->name, sizeof s->name);
        s->alive = started ? 1 : 0;
        if (!started) {
            s->exit_ns = now;
            s->malloc_live = t->malloc_in - t->malloc_out;
        }
        s->committed = t->committed;
        s->update_ns = now;
        SEQ_END(s);
    }
    flight_event(started ? OVERSHIM_FEV_THREAD_START : OVERSHIM_FEV_THREAD_EXIT, 0xffff, t->parent_tid, t->committed, 0, t->tid,
                 now);
}

void flight_event(int kind, int call, int64_t a, int64_t b, int64_t c, int64_t d, uint64_t now)
{
    struct overshim_flight_header *h = fh;
    if (!h) return;
    uint64_t n = __atomic_fetch_add(&h->event_count, 1, __ATOMIC_RELAXED);
    struct overshim_flight_event *e = &events[n % OVERSHIM_FLIGHT_NEVENTS];
    /* seq: 2n+1 while written, 2n+2 done, so a reader also tells a lap of the ring */
    __atomic_store_n(&e->seq, (uint32_t)(2 * n + 1), __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    e->kind = (uint16_t)kind;
    e->call = (uint16_t)call;
    e->tid = (int32_t)(kind == OVERSHIM_FEV_MAP || kind == OVERSHIM_FEV_UNMAP || kind == OVERSHIM_FEV_THREAD_START ||
                               kind == OVERSHIM_FEV_THREAD_EXIT
                           ? d
                           : osh_gettid());
    e->t_ns = now;
    e->a = a;
    e->b = b;
    e->c = c;
    e->d = kind == OVERSHIM_FEV_REFUSAL ? d : 0;
    if (kind == OVERSHIM_FEV_REFUSAL) __atomic_add_fetch(&h->refusals, 1, __ATOMIC_RELAXED);
    e->committed = h->committed;
    __atomic_store_n(&e->seq, (uint32_t)(2 * n + 2), __ATOMIC_RELEASE);
}

void flight_sample(const struct overshim_flight_sample *in, uint64_t now)
{
    struct overshim_flight_header *h = fh;
    if (!h) return;
    uint64_t n = __atomic_fetch_add(&h->sample_count, 1, __ATOMIC_RELAXED);
    struct overshim_flight_sample *s = &samples[n % OVERSHIM_FLIGHT_NSAMPLES];
    __atomic_store_n(&s->seq, (uint32_t)(2 * n + 1), __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    uint32_t seq = s->seq;
    *s = *in;
    s->seq = seq;
    s->t_ns = now;
    __atomic_store_n(&s->seq, (uint32_t)(2 * n + 2), __ATOMIC_RELEASE);
    /* the slots' touched and malloc numbers of this sample (ledger lock held) */
    for (struct thread_rec *t = ledger_threads(); t; t = t->next) {
        if (!t->fslot) continue;
        struct overshim_flight_slot *sl = &slots[t->fslot - 1];
        SEQ_BEGIN(sl);
        if (in->touched >= 0) sl->touched = (int64_t)t->touched;
        sl->malloc_live = ledger_malloc_live(t);
        memcpy(sl->name, t->name, sizeof sl->name); /* named since it started (pthread_setname_np) */
        SEQ_END(sl);
    }
}

void flight_sample_cost(uint64_t ns)
{
    struct overshim_flight_header *h = fh;
    if (!h) return;
    h->sample_cost_ns += ns;
    if (ns > h->sample_cost_max_ns) h->sample_cost_max_ns = ns;
}

void flight_exit(const char *via, int status, uint64_t now)
{
    struct overshim_flight_header *h = fh;
    if (!h || h->state == OVERSHIM_FLIGHT_EXITED) return;
    flight_event(OVERSHIM_FEV_EXIT, 0xffff, status, 0, 0, 0, now);
    h->exit_status = status;
    osh_snprintf(h->exit_via, sizeof h->exit_via, "%s", via);
    h->exit_ns = now;
    __atomic_store_n(&h->state, OVERSHIM_FLIGHT_EXITED, __ATOMIC_RELEASE);
}

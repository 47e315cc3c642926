/* The commit trace (trace=PATH): a 4096-byte header and 96-byte records
 * (include/overshim_flight.h) in a file mapped MAP_SHARED at its largest size (trace_max=).
 * Disk is allocated ahead of the writers, a megabyte at a time (one fallocate per ~10900
 * records, made by the writer that claims the middle record of the last chunk): a store
 * never lands on a hole, which a full disk would turn into SIGBUS. A record is claimed with
 * one atomic add and finished by storing its type last; past the allocated part (the disk
 * was full, or trace_max reached) records are only counted as dropped. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "overshim_flight.h"

#include "common.h"
#include "fmt.h"
#include "rawsys.h"
#include "state.h"
#include "tid.h"
#include "sysstate.h"
#include "timeline.h"

#define CHUNK (1u << 20)

static struct overshim_trace_header *th;
static struct overshim_trace_rec *recs;
static size_t map_len;
static int trace_fd = -1;
static uint64_t alloc_recs;   /* records the allocated part of the file holds */
static uint64_t alloc_bytes;  /* allocated file size */
static int growing;
static dev_t trace_dev;   /* the file trace_fd was opened on: a program that closes every fd and */
static ino_t trace_ino;   /* opens its own may have that number now, and its file must not grow */

static int fd_is_ours(void)
{
    struct stat st;
    return syscall(SYS_fstat, trace_fd, &st) == 0 && st.st_dev == trace_dev && st.st_ino == trace_ino;
}

int timeline_open_file(const char *path, off_t size, char *err, size_t errcap);
int timeline_fsize_ok(off_t end);

static int grow_failed; /* once the file cannot grow, the trace stays as it is: no system call per record */

static int grow(void)
{
    if (__atomic_load_n(&grow_failed, __ATOMIC_RELAXED) || __atomic_exchange_n(&growing, 1, __ATOMIC_ACQUIRE)) return 0;
    uint64_t want = alloc_bytes + CHUNK;
    int ok = 0;
    if (want <= map_len && timeline_fsize_ok((off_t)want) && fd_is_ours() &&
        syscall(SYS_fallocate, trace_fd, 0, (off_t)alloc_bytes, (off_t)CHUNK) == 0) {
        alloc_bytes = want;
        __atomic_store_n(&alloc_recs, (want - sizeof *th) / sizeof *recs, __ATOMIC_RELEASE);
        ok = 1;
    } else {
        __atomic_store_n(&grow_failed, 1, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&growing, 0, __ATOMIC_RELEASE);
    return ok;
}

int trace_open(const char *path, int64_t max_bytes, int64_t start_ac_pages, int64_t start_rss_kb, char *err,
               size_t errcap)
{
    if (max_bytes < (int64_t)(2 * CHUNK)) max_bytes = 2 * CHUNK;
    map_len = (size_t)max_bytes & ~(size_t)(CHUNK - 1);
    int fd = timeline_open_file(path, CHUNK, err, errcap);
    if (fd < 0) return -1;
    void *m = raw_mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    if (m == MAP_FAILED) {
        osh_snprintf(err, errcap, "cannot map %s", path);
        raw_close(fd);
        return -1;
    }
    trace_fd = fd;
    struct stat st;
    if (syscall(SYS_fstat, fd, &st) == 0) trace_dev = st.st_dev, trace_ino = st.st_ino;
    alloc_bytes = CHUNK;
    struct overshim_trace_header *h = m;
    h->version = OVERSHIM_TRACE_VERSION;
    h->header_size = sizeof *h;
    h->rec_size = sizeof(struct overshim_trace_rec);
    h->pid = raw_getpid();
    h->ppid = raw_getppid();
    struct timespec ts;
    raw_clock_gettime(CLOCK_REALTIME, &ts);
    h->start_realtime_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    raw_clock_gettime(CLOCK_MONOTONIC, &ts);
    h->start_mono_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    h->page_size = 4096;
    h->overcommit_memory = (uint32_t)sys_read_long("/proc/sys/vm/overcommit_memory");
    h->start_ac_pages = start_ac_pages;
    h->start_rss_anon_kb = start_rss_kb;
    h->max_recs = (map_len - sizeof *h) / sizeof(struct overshim_trace_rec);
    h->own_vm_bytes = map_len + (osh_timeline & 1 ? OVERSHIM_FLIGHT_SIZE : 0);
    h->state = OVERSHIM_FLIGHT_RUNNING;
    h->exit_status = -1;
    sys_kernel_release(h->kernel_release, sizeof h->kernel_release);
    char comm[32];
    if (raw_read_file("/proc/self/comm", comm, sizeof comm) > 0) {
        comm[strcspn(comm, "\n")] = 0;
        osh_snprintf(h->comm, sizeof h->comm, "%s", comm);
    }
    recs = (struct overshim_trace_rec *)((char *)m + sizeof *h);
    alloc_recs = (CHUNK - sizeof *h) / sizeof *recs;
    memcpy(h->magic, OVERSHIM_TRACE_MAGIC, 8);
    __atomic_store_n(&th, h, __ATOMIC_RELEASE);
    return 0;
}

struct overshim_trace_rec *trace_claim(void)
{
    struct overshim_trace_header *h = __atomic_load_n(&th, __ATOMIC_ACQUIRE);
    if (!h) return NULL;
    uint64_t n = __atomic_fetch_add(&h->rec_count, 1, __ATOMIC_RELAXED);
    uint64_t have = __atomic_load_n(&alloc_recs, __ATOMIC_ACQUIRE);
    /* the middle of the last allocated chunk: allocate the next one */
    if (OSH_UNLIKELY(n + (CHUNK / 2) / sizeof *recs == have)) grow();
    if (OSH_UNLIKELY(n >= have)) {
        if (n >= h->max_recs || !grow() || n >= __atomic_load_n(&alloc_recs, __ATOMIC_ACQUIRE)) {
            __atomic_add_fetch(&h->dropped, 1, __ATOMIC_RELAXED);
            return NULL;
        }
    }
    struct overshim_trace_rec *r = &recs[n];
    r->tid = osh_gettid();
    r->t_ns = timeline_now();
    return r;
}

void trace_commit(struct overshim_trace_rec *r, int type) { __atomic_store_n(&r->type, (uint8_t)type, __ATOMIC_RELEASE); }

void trace_exit(int status)
{
    struct overshim_trace_header *h = th;
    if (!h) return;
    h->exit_status = status;
    __atomic_store_n(&h->state, OVERSHIM_FLIGHT_EXITED, __ATOMIC_RELEASE);
}

void trace_close(void)
{
    struct overshim_trace_header *h = th;
    if (!h) return;
    th = NULL;
    raw_munmap(h, map_len);
    if (trace_fd >= 0) raw_close(trace_fd);
    trace_fd = -1;
}

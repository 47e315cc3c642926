/* The files the shim keeps current while a program runs, so that what it held is on disk
 * (in the page cache) when the kernel kills it: the flight recorder (flight=PATH) and the
 * commit trace (trace=PATH). This header is the contract: `overshim postmortem`, `replay`
 * and `plot` read these layouts, and any other reader may. Little-endian x86-64, naturally
 * aligned, no padding a compiler would add (checked by _Static_assert below).
 *
 * FLIGHT FILE, version 1 (OVERSHIM_FLIGHT_MAGIC, OVERSHIM_FLIGHT_VERSION), a fixed OVERSHIM_FLIGHT_SIZE bytes:
 *   [0, 4096)            struct overshim_flight_header
 *   [slots_off, ...)     nslots x struct overshim_flight_slot (one per thread the shim saw; a slot
 *                        is never reused, so a thread that exited keeps its numbers)
 *   [events_off, ...)    nevents x struct overshim_flight_event, a ring: event number n is at
 *                        n % nevents; event_count is how many were ever written
 *   [samples_off, ...)   nsamples x struct overshim_flight_sample, a ring the same way
 * Consistency: every slot, event and sample carries `seq`, odd while it is written and even
 * when done (a seqlock); a reader copies the record, then checks seq is even and unchanged.
 * A record whose seq stayed odd was being written when the process died: readers skip it.
 *
 * TRACE FILE, version 1 (OVERSHIM_TRACE_MAGIC): a 4096-byte struct overshim_trace_header, then records of
 * 96 bytes (struct overshim_trace_rec) in the order they were claimed; rec_count is how many were
 * claimed. A record whose `type` is 0 was claimed but not finished (the process died):
 * readers skip it. The file is created sparse at its maximum size (trace_max=) and mapped
 * shared; once full, records are dropped and counted in `dropped`. */
#ifndef OVERSHIM_FLIGHT_H
#define OVERSHIM_FLIGHT_H

#include <stdint.h>

#define OVERSHIM_FLIGHT_MAGIC "OVSFLIT1"
#define OVERSHIM_FLIGHT_VERSION 1u
#define OVERSHIM_FLIGHT_SIZE (256u * 1024u)
#define OVERSHIM_FLIGHT_NSLOTS 512u
#define OVERSHIM_FLIGHT_NEVENTS 512u
#define OVERSHIM_FLIGHT_NSAMPLES 600u /* ten minutes at one a second */
#define OVERSHIM_FLIGHT_NREGIONS 13u  /* per-region committed bytes, indexed by the ledger's region kind (0: none) */

/* overshim_flight_header.state */
enum overshim_flight_state { OVERSHIM_FLIGHT_RUNNING = 1, OVERSHIM_FLIGHT_EXITED = 2 };

struct overshim_flight_header {
    char magic[8];            /* OVERSHIM_FLIGHT_MAGIC */
    uint32_t version;         /* OVERSHIM_FLIGHT_VERSION */
    uint32_t header_size;     /* 4096 */
    uint32_t slot_size, nslots, event_size, nevents, sample_size, nsamples;
    uint64_t slots_off, events_off, samples_off;
    int32_t pid, ppid;
    uint32_t uid, page_size;
    char boot_id[40];         /* /proc/sys/kernel/random/boot_id: a pid means this boot only */
    uint64_t start_realtime_ns; /* CLOCK_REALTIME at start */
    uint64_t start_mono_ns;   /* CLOCK_MONOTONIC at start; every other time is monotonic minus this */
    char comm[16];
    char exe[256];            /* /proc/self/exe at start */
    char cgroup[256];         /* the unified (v2) cgroup path from /proc/self/cgroup ("/x.slice/y.service"), or "" */
    char kernel_release[64];
    /* limits and the box at start (-1: unknown; rlimits: -1 also for unlimited) */
    int64_t rlimit_as, rlimit_data, rlimit_nproc;
    int32_t overcommit_memory, overcommit_ratio;
    int64_t mem_total_kb, swap_total_kb, commit_limit_kb, committed_as_kb;
    /* live (written with plain stores as they change) */
    uint32_t state;           /* enum overshim_flight_state */
    int32_t exit_status;
    char exit_via[16];        /* exit, _exit, _Exit, destructor */
    uint64_t exit_ns;
    uint64_t event_count, sample_count; /* ever written */
    uint32_t slots_used, slots_full; /* slots_full: threads that found no free slot */
    int64_t committed, peak_committed; /* the process as the ledger charged it, bytes */
    uint64_t last_update_ns;  /* the last commit change */
    uint32_t refusals, pad0;
    uint64_t sample_cost_ns, sample_cost_max_ns; /* what taking the samples cost the program: in all, the most */
    char reserved[4096 - 896];
};

struct overshim_flight_slot {
    uint32_t seq;             /* odd while written */
    int32_t tid, parent_tid;
    uint32_t alive;           /* 1 live, 0 exited */
    char name[16];
    int64_t committed, peak_committed; /* bytes charged to this thread */
    int64_t touched;          /* resident or swapped bytes of its ranges, at the last sample (-1: never sampled) */
    int64_t malloc_live;      /* malloc bytes it holds, at the last update */
    uint64_t start_ns, exit_ns, update_ns;
    int64_t region[OVERSHIM_FLIGHT_NREGIONS]; /* committed bytes per region kind, where the ledger has kinds */
};

/* overshim_flight_event.kind */
enum overshim_flight_event_kind {
    OVERSHIM_FEV_START = 1,         /* the process (a = pid) */
    OVERSHIM_FEV_MAP = 2,           /* a large charge: a = address, b = bytes, c = prot<<32|flags */
    OVERSHIM_FEV_UNMAP = 3,         /* a large uncharge: a = address, b = bytes */
    OVERSHIM_FEV_REFUSAL = 4,       /* a = call id, b = request bytes, c = errno, d = 1 if simulated */
    OVERSHIM_FEV_THREAD_START = 5,  /* a = parent tid */
    OVERSHIM_FEV_THREAD_EXIT = 6,   /* b = committed bytes left charged to it */
    OVERSHIM_FEV_EXIT = 7,          /* a = status */
};

struct overshim_flight_event {
    uint32_t seq;
    uint16_t kind, call;      /* call: enum call_id of the shim, or 0xffff */
    int32_t tid, pad;
    uint64_t t_ns;            /* since start */
    int64_t a, b, c, d;
    int64_t committed;        /* the process after it */
};

struct overshim_flight_sample {
    uint32_t seq, pad;
    uint64_t t_ns;
    int64_t rss_kb, vm_size_kb, rss_anon_kb; /* /proc/self/status */
    int64_t committed;        /* the ledger's, bytes */
    int64_t touched;          /* the ledger's ranges, resident or swapped, bytes (-1: not measured) */
    int64_t box_committed_as_kb, box_commit_limit_kb, box_mem_available_kb; /* /proc/meminfo */
    int64_t malloc_live;      /* every thread's, bytes */
};

#define OVERSHIM_TRACE_MAGIC "OVSTRAC1"
#define OVERSHIM_TRACE_VERSION 1u

struct overshim_trace_header {
    char magic[8];
    uint32_t version, header_size, rec_size, pad0;
    int32_t pid, ppid;
    uint64_t start_realtime_ns, start_mono_ns;
    uint32_t page_size, overcommit_memory;
    int64_t start_ac_pages;   /* the program's accountable pages at start (smaps `ac`), as the simulator counts them */
    int64_t start_rss_anon_kb;
    uint64_t max_recs;        /* records that fit */
    uint64_t rec_count;       /* claimed */
    uint64_t dropped;         /* past max_recs */
    uint32_t state;           /* enum overshim_flight_state */
    int32_t exit_status;
    char kernel_release[64];
    char comm[16];
    uint64_t own_vm_bytes;    /* the shim's own shared mappings of these files, in every sample's VmSize */
    char reserved[4096 - 192];
};

/* overshim_trace_rec.type */
enum overshim_trace_type {
    OVERSHIM_TR_REQUEST = 1, /* a call that can commit, before it is made: call (enum call_id), a[0..5] its
                          arguments as the shim's wrappers pass them to the simulator (report_call.c);
                          v[0] the program's accountable pages then (start_ac_pages + the ledger),
                          v[1] pages the ledger charges inside the call's range, v[2] pages of the
                          ledger's ranges inside it, v[3] pages of all the ledger's ranges (VmSize
                          between samples: a sample's VmSize plus the change of this since it) */
    OVERSHIM_TR_COMMIT = 2,  /* the ledger's charge changed: tid the thread charged (0: none), call = enum
                          overshim_trace_op; a[0] address, a[1] length of the range, a[2] the calling thread;
                          v[0] the change in bytes, v[1] the charged thread's committed after, v[2] the
                          process's after (bytes) */
    OVERSHIM_TR_SAMPLE = 3,  /* v[0] RssAnon kB, v[1] VmSize kB, v[2] VmRSS kB, v[3] the ledger's committed bytes;
                          a[0] the box's Committed_AS kB, a[1] CommitLimit kB, a[2] MemAvailable kB,
                          a[3] the ledger's touched bytes, a[4] pages of the ledger's ranges */
    OVERSHIM_TR_REFUSAL = 4, /* the call was refused: call (enum call_id), a[0] errno, a[1] 1 if simulated,
                          a[2] request bytes */
    OVERSHIM_TR_EXIT = 5,    /* a[0] status */
    OVERSHIM_TR_THREAD = 6,  /* a thread started (a[0] = 1, a[1] parent tid) or exited (a[0] = 2); name in a[2..3] */
};

/* What changed the ledger (overshim_trace_rec.a[0] of a COMMIT) */
enum overshim_trace_op { OVERSHIM_OP_MAP = 1, OVERSHIM_OP_UNMAP, OVERSHIM_OP_PROTECT, OVERSHIM_OP_REMAP, OVERSHIM_OP_BRK, OVERSHIM_OP_STACK, OVERSHIM_OP_SETTLE,
                   OVERSHIM_OP_THREAD_EXIT };

struct overshim_trace_rec {
    uint8_t type;      /* enum overshim_trace_type; 0: not finished */
    uint8_t call;      /* enum call_id (REQUEST, REFUSAL), enum overshim_trace_op (COMMIT), else 0 */
    uint16_t region;   /* region kind where the ledger has one, else 0 */
    int32_t tid;
    uint64_t t_ns;     /* since start_mono_ns */
    uint64_t a[6];
    int64_t v[4];
};

_Static_assert(sizeof(struct overshim_flight_header) == 4096, "flight header is one page");
_Static_assert(sizeof(struct overshim_flight_slot) == 192, "flight slot layout");
_Static_assert(sizeof(struct overshim_flight_event) == 64, "flight event layout");
_Static_assert(sizeof(struct overshim_flight_sample) == 88, "flight sample layout");
_Static_assert(sizeof(struct overshim_trace_header) == 4096, "trace header is one page");
_Static_assert(sizeof(struct overshim_trace_rec) == 96, "trace record layout");

#endif

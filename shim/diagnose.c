/* Diagnosis of a refused call (see diagnose.h). The cause comes from the checks in the
 * kernel's order; the remedies are computed from the same numbers and said in the terms
 * of the program that was refused (live_state.prog): a JVM flag only for a JVM, Python's
 * and node's own knobs for them, generic words (and systemd's Limit*= for a service)
 * for everything else. */
#include "diagnose.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "fmt.h"

#define TASK_SIZE_BYTES 0x7ffffffff000ull /* x86-64, 4-level paging */
#define MiB(pages, s) ((pages) * (s)->in.page_kb / 1024)
#define KIB (1024ll)
#define MIB_B (1024ll * 1024)

static int64_t pk_of(const struct live_state *s) { return s->in.page_kb ? s->in.page_kb : 4; }

static int64_t pages_of(const struct live_state *s, uint64_t bytes)
{
    uint64_t ps = (uint64_t)pk_of(s) * 1024;
    return (int64_t)((bytes + ps - 1) / ps);
}

/* Sizes in remedies are rounded so that following them is enough: an "at most" down, an
 * amount to free or add up. */
static int64_t mib_down(const struct live_state *s, int64_t pages) { return pages > 0 ? pages * pk_of(s) / 1024 : 0; }
static int64_t mib_up(const struct live_state *s, int64_t pages)
{
    return pages > 0 ? (pages * pk_of(s) + 1023) / 1024 : 0;
}

static void remedy(struct diagnosis *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void remedy(struct diagnosis *d, const char *fmt, ...)
{
    if (d->nremedies >= DIAG_MAX_REMEDIES) return;
    struct fmtbuf fb;
    fb_init(&fb, d->remedies[d->nremedies++], sizeof d->remedies[0], -1);
    va_list ap;
    va_start(ap, fmt);
    fb_vprintf(&fb, fmt, ap);
    va_end(ap);
    fb_cstr(&fb);
}

static void explain(struct diagnosis *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void explain(struct diagnosis *d, const char *fmt, ...)
{
    struct fmtbuf fb;
    fb_init(&fb, d->explanation, sizeof d->explanation, -1);
    va_list ap;
    va_start(ap, fmt);
    fb_vprintf(&fb, fmt, ap);
    va_end(ap);
    fb_cstr(&fb);
}

static void explain_more(struct diagnosis *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void explain_more(struct diagnosis *d, const char *fmt, ...)
{
    size_t n = strlen(d->explanation);
    struct fmtbuf fb;
    fb_init(&fb, d->explanation + n, sizeof d->explanation - n, -1);
    va_list ap;
    va_start(ap, fmt);
    fb_vprintf(&fb, fmt, ap);
    va_end(ap);
    fb_cstr(&fb);
}

static void term(struct diagnosis *d, const char *key, const char *name, char op, int64_t v)
{
    if (d->kv.nterms < KM_MAX_TERMS) d->kv.terms[d->kv.nterms++] = (struct kterm){key, name, op, v};
}

static void set(struct diagnosis *d, const char *cause, const char *headline, int64_t req, int64_t limit,
                int64_t committed, int64_t shortfall)
{
    d->cause = cause;
    d->headline = headline;
    d->request_pages = req;
    d->limit_pages = limit;
    d->committed_pages = committed;
    d->shortfall_pages = shortfall > 0 ? shortfall : 0;
}

static int jvm(const struct live_state *s) { return s->prog.runtime == RT_JVM; }
static int python(const struct live_state *s) { return s->prog.runtime == RT_PYTHON; }
static int node(const struct live_state *s) { return s->prog.runtime == RT_NODE; }
static int is_malloc(enum call_id c) { return c >= CALL_MALLOC && c <= CALL_PVALLOC; }
static int is_mmap(enum call_id c) { return c == CALL_MMAP || c == CALL_MMAP64; }

/* A process limit, as the shell sets it and as systemd does for a service. kib: the
 * value in KiB (RLIMIT_AS, RLIMIT_DATA), or a count (kib_unit 0). */
static void limit_remedy(struct diagnosis *d, const struct live_state *s, const char *ulimit_opt, const char *rlim,
                         const char *unit_key, int64_t value, int kib_unit, const char *tail)
{
    if (s->prog.service[0])
        remedy(d, "%s=%lld%s in the [Service] section of %s (systemctl edit %s), or ulimit %s %lld in the shell "
                  "that starts it%s",
               unit_key, (long long)value, kib_unit ? "K" : "", s->prog.service, s->prog.service, ulimit_opt,
               (long long)value, tail);
    else
        remedy(d, "ulimit %s %lld or more (%s%s), or unlimited%s", ulimit_opt, (long long)value, rlim,
               kib_unit ? ", in KiB" : "", tail);
}

/* --- HotSpot's address space at start -------------------------------------- */

static int64_t jvm_heap(const struct live_state *s)
{
    if (s->prog.xmx > 0) return s->prog.xmx;
    return s->mi.MemTotal > 0 ? s->mi.MemTotal * KIB / 4 : 0; /* MaxRAMPercentage=25 */
}
static int64_t jvm_code_cache(const struct live_state *s)
{
    if (s->prog.code_cache > 0) return s->prog.code_cache;
    return s->prog.tiered_off ? 48 * MIB_B : 240 * MIB_B;
}
/* The compressed class space, reserved together with the CDS archive (16 MiB in 17). */
static int64_t jvm_class_space(const struct live_state *s)
{
    return (s->prog.class_space > 0 ? s->prog.class_space : 1024 * MIB_B) + (s->prog.share_off ? 0 : 16 * MIB_B);
}
static int64_t jvm_xss(const struct live_state *s) { return s->prog.xss > 0 ? s->prog.xss : 1024 * KIB; }

/* The RLIMIT_AS under which a JVM refused in JNI_CreateJavaVM would start: what is mapped
 * now and what it still maps. HotSpot 17 reserves the code cache, then the heap, then the
 * class space (with the CDS archive); the failing reservation is one of them (by its
 * size) and the ones after it are still to come. Then G1's side structures (about a
 * sixteenth of the heap and a 32 MiB mark stack), its threads' stacks and glibc's malloc
 * arenas (64 MiB of address space each, up to MALLOC_ARENA_MAX, by default 8 a CPU; one
 * more transiently while an arena is made). Without -Xmx the heap is not fixed: HotSpot
 * takes a quarter of RAM, but at most half of RLIMIT_AS (MaxVirtMemFraction), so the
 * limit must cover the rest twice over. arenas: the count to assume. Bytes; *what
 * receives the parts, for people. */
static int64_t jvm_start_limit(const struct live_state *s, uint64_t request, int64_t arenas, char *what, size_t cap)
{
    const int64_t part[3] = {jvm_code_cache(s), jvm_heap(s), jvm_class_space(s)};
    int at = 3;
    for (int i = 0; i < 3; i++) {
        int64_t diff = (int64_t)request - part[i];
        if (diff > -(int64_t)(2 * MIB_B) && diff < (int64_t)(2 * MIB_B)) at = i; /* reservations are 2 MiB aligned */
    }
    int64_t now = s->vm_size_pages * pk_of(s) * KIB;
    int64_t fixed = now + (int64_t)request;
    int scales = s->prog.xmx <= 0;
    int64_t old_heap = 0;
    if (scales) { /* the heap HotSpot chose under the present limit leaves the sum */
        int64_t half = s->rlim_as != LS_UNLIMITED ? s->rlim_as / 2 : part[1];
        old_heap = at == 1 ? (int64_t)request : at > 1 ? (part[1] < half ? part[1] : half) : 0;
        fixed -= old_heap;
    }
    struct fmtbuf fb;
    fb_init(&fb, what, cap, -1);
    fb_printf(&fb, "%lld MiB mapped so far + this %lld MiB", (long long)(now / MIB_B), (long long)(request / MIB_B));
    if (scales && old_heap) fb_printf(&fb, " (less the %lld MiB heap, counted apart)", (long long)(old_heap / MIB_B));
    if (at < 1 && !scales) {
        fixed += part[1];
        fb_printf(&fb, " + heap %lld MiB (-Xmx)", (long long)(part[1] / MIB_B));
    }
    if (at < 2) {
        fixed += part[2];
        fb_printf(&fb, " + class space %lld MiB (-XX:CompressedClassSpaceSize, with the CDS archive)",
                  (long long)(part[2] / MIB_B));
    }
    int ncpu = s->in.ncpus > 0 ? s->in.ncpus : 1;
    int64_t threads = 16 + 2 * ncpu, stack = jvm_xss(s) + 4 * KIB;
    int64_t arena_bytes = (arenas > 1 ? arenas : 1) * 64 * MIB_B;
    fixed += 32 * MIB_B + threads * stack + arena_bytes;
    fb_printf(&fb, " + G1's mark stack 32 MiB + ~%lld threads of %lld KiB (-Xss) + glibc's malloc arenas %lld x 64 MiB",
              (long long)threads, (long long)(stack / KIB), (long long)arenas);
    int64_t limit;
    if (!scales) {
        limit = fixed + part[1] / 16;
        fb_printf(&fb, " + G1's side structures ~%lld MiB", (long long)(part[1] / 16 / MIB_B));
    } else {
        int64_t with_default = fixed + part[1] + part[1] / 16;
        if (part[1] <= with_default / 2) {
            limit = with_default;
            fb_printf(&fb, " + heap %lld MiB (a quarter of RAM: no -Xmx) and its side structures ~%lld MiB",
                      (long long)(part[1] / MIB_B), (long long)(part[1] / 16 / MIB_B));
        } else {
            limit = fixed * 32 / 15; /* heap = limit / 2, its side structures a sixteenth of that */
            fb_printf(&fb, " + a heap of half the limit (no -Xmx: HotSpot takes half of RLIMIT_AS) and its side "
                           "structures");
        }
    }
    fb_cstr(&fb);
    return limit;
}

static int64_t round_up_mib(int64_t bytes, int64_t mib) { return (bytes + mib * MIB_B - 1) / (mib * MIB_B) * (mib * MIB_B); }

/* -XX:MaxDirectMemorySize for a malloc libjvm made for Java code: direct buffers past the
 * cap throw OutOfMemoryError ("Direct buffer memory"), which the program can catch. room:
 * pages still free under the limit that refused. */
static void direct_memory_remedy(struct diagnosis *d, const struct live_state *s, int64_t room_pages)
{
    if (!jvm(s) || !is_malloc(d->call) || !s->prog.java_malloc) return;
    int64_t live = s->prog.malloc_live_bytes > 0 ? s->prog.malloc_live_bytes / MIB_B : 0;
    int64_t room = mib_down(s, room_pages);
    remedy(d, "java: -XX:MaxDirectMemorySize=%lldm or less: this malloc was made by libjvm for Java code "
              "(Unsafe.allocateMemory, which ByteBuffer.allocateDirect uses); the cap is the %lld MiB the process's "
              "mallocs hold now, direct buffers included, plus the %lld MiB still free under the limit; past it "
              "allocateDirect throws OutOfMemoryError: Direct buffer memory, which the program can handle",
           (long long)(live + room), (long long)live, (long long)room);
}

/* --- the individual checks; each returns 1 when it explains the refusal ------ */

/* vm.max_map_count: do_mmap and do_brk_flags refuse once map_count > max (a process can
 * reach max + 1), split_vma once map_count >= max, a mremap move once map_count >= max - 3:
 * margin is what the call needs beyond the count (0, 1, 4; 2 for a thread: mmap, then the
 * split of its guard page). adds: mappings the call would add. */
static int check_map_count(struct diagnosis *d, const struct live_state *s, int64_t adds, int64_t margin)
{
    if (s->max_map_count <= 0 || s->map_count < 0 || s->map_count + margin <= s->max_map_count) return 0;
    d->units = "mappings";
    d->unit_kb = 0;
    d->check = margin ? "refused when map_count plus what the call must split first exceeds vm.max_map_count"
                      : "mm/mmap.c: refused when map_count > vm.max_map_count";
    memset(&d->kv, 0, sizeof d->kv);
    term(d, "map_count", "mappings (VMAs) of the process", '+', s->map_count);
    if (margin) term(d, "split_margin", "more the call needs first (a split, a move)", '+', margin);
    int64_t over = s->map_count + margin - s->max_map_count;
    set(d, "max_map_count", "vm.max_map_count", adds, s->max_map_count, s->map_count, over);
    explain(d, "the process has %lld mappings%s and vm.max_map_count is %lld: %lld more than the kernel allows "
               "for this call",
            (long long)s->map_count, margin ? " (plus the split or move this call needs first)" : "",
            (long long)s->max_map_count, (long long)over);
    int64_t want = s->map_count * 2 > 262144 ? s->map_count * 2 : 262144;
    remedy(d, "raise vm.max_map_count to at least %lld (sysctl -w vm.max_map_count=%lld; persist it in "
              "/etc/sysctl.d)",
           (long long)want, (long long)want);
    if (jvm(s))
        remedy(d, "or make fewer mappings: each Java thread costs 2 (stack and guard), each MappedByteBuffer one "
                  "(fewer threads, larger mapped files)");
    else
        remedy(d, "or make fewer, larger mappings (each thread costs 2: its stack and its guard page)");
    return 1;
}

static void thread_more_remedy(struct diagnosis *d, const struct live_state *s, int64_t limit_kib, int64_t each_kib,
                               const char *ulimit_opt)
{
    if (d->call != CALL_PTHREAD_CREATE || each_kib <= 0) return;
    remedy(d, "each further thread of this size needs %lld KiB more: ulimit %s %lld for 64 more threads",
           (long long)each_kib, ulimit_opt, (long long)(limit_kib + 64 * each_kib));
}

/* -Xss for a Java thread refused by an address-space or commit check; room: pages left. */
static void xss_remedy(struct diagnosis *d, const struct live_state *s, int64_t stack_pages, int64_t room_pages)
{
    if (!jvm(s) || d->call != CALL_PTHREAD_CREATE) return;
    int64_t now = stack_pages * pk_of(s), room = room_pages > 0 ? room_pages * pk_of(s) : 0;
    const char *asked = s->prog.xss > 0 ? ", as -Xss asks" : "";
    if (now > 2 * 1024)
        remedy(d, "java: a smaller -Xss (each Java thread's stack is %lld KiB now%s): at -Xss1m %lld threads fit where "
                  "one does now, and the %lld KiB still free hold %lld (the JVM's own threads: "
                  "-XX:VMThreadStackSize, -XX:CompilerThreadStackSize)",
               (long long)now, asked, (long long)((now + 4) / (1024 + 4)), (long long)room,
               (long long)(room / (1024 + 4)));
    else
        remedy(d, "java: a smaller -Xss, e.g. -Xss512k (each Java thread's stack is %lld KiB now%s)", (long long)now,
               asked);
}

static void stack_size_remedy(struct diagnosis *d, const struct live_state *s, int64_t largest_kib)
{
    if (jvm(s)) return; /* -Xss, from xss_remedy */
    if (python(s))
        remedy(d, "smaller thread stacks: threading.stack_size(%lld * 1024) or less before the threads start "
                  "(the default is ulimit -s)",
               (long long)(largest_kib > 0 ? largest_kib : 0));
    else
        remedy(d, "smaller thread stacks: at most %lld KiB would pass (pthread_attr_setstacksize; the default "
                  "stack is ulimit -s)",
               (long long)(largest_kib > 0 ? largest_kib : 0));
}

static int check_rlimit_as(struct diagnosis *d, const struct live_state *s, int64_t net, int64_t req)
{
    if (s->rlim_as == LS_UNLIMITED) return 0;
    int64_t limit = s->rlim_as / 1024 / pk_of(s);
    if (s->vm_size_pages + net <= limit) return 0;
    memset(&d->kv, 0, sizeof d->kv);
    term(d, "total_vm", "VmSize (total_vm, every mapping counts)", '+', s->vm_size_pages);
    term(d, "request", "this request (net of what it replaces)", '+', net);
    set(d, "rlimit_as", "RLIMIT_AS (ulimit -v)", req, limit, s->vm_size_pages, s->vm_size_pages + net - limit);
    explain(d, "VmSize %lld MiB + this request %lld MiB exceeds RLIMIT_AS %lld MiB (ulimit -v %lld); RLIMIT_AS "
               "counts every mapping, PROT_NONE reservations included",
            (long long)MiB(s->vm_size_pages, s), (long long)MiB(net, s), (long long)MiB(limit, s),
            (long long)(s->rlim_as / 1024));
    int64_t need_kib = (s->vm_size_pages + net) * pk_of(s);
    int64_t room = limit - s->vm_size_pages;
    if (jvm(s) && s->prog.jvm_starting) {
        /* the whole start, not the failing reservation alone: the next one would fail too */
        char parts[480];
        uint64_t req_b = (uint64_t)net * (uint64_t)pk_of(s) * 1024;
        int64_t arenas = s->prog.arena_max > 0 ? s->prog.arena_max : 8 * (s->in.ncpus > 0 ? s->in.ncpus : 1);
        int64_t whole = round_up_mib(jvm_start_limit(s, req_b, arenas, parts, sizeof parts), 64);
        char tail[600];
        os_snprintf(tail, sizeof tail, ": that covers the JVM's whole start, not this reservation alone: %s", parts);
        limit_remedy(d, s, "-v", "RLIMIT_AS", "LimitAS", whole / KIB, 1, tail);
        if (!(s->prog.arena_max > 0 && s->prog.arena_max <= 2)) {
            char p2[480];
            int64_t whole2 = round_up_mib(jvm_start_limit(s, req_b, 2, p2, sizeof p2), 64);
            remedy(d, "or MALLOC_ARENA_MAX=2 in the JVM's environment (glibc's arenas reserve 64 MiB of address "
                      "space each): then ulimit -v %lld covers the start",
                   (long long)(whole2 / KIB));
        }
        remedy(d, "or reserve less: java -Xmx, -XX:ReservedCodeCacheSize, -XX:CompressedClassSpaceSize");
        return 1;
    }
    limit_remedy(d, s, "-v", "RLIMIT_AS", "LimitAS", need_kib, 1, "");
    thread_more_remedy(d, s, need_kib, net * pk_of(s), "-v");
    if (jvm(s)) {
        xss_remedy(d, s, net - 1, room);
        direct_memory_remedy(d, s, room);
        if (d->call != CALL_PTHREAD_CREATE && !(is_malloc(d->call) && s->prog.java_malloc))
            remedy(d, "or reserve less address space: java -Xmx, -XX:ReservedCodeCacheSize, "
                      "-XX:CompressedClassSpaceSize");
    } else if (d->call == CALL_PTHREAD_CREATE) {
        stack_size_remedy(d, s, room > 1 ? (room - 1) * pk_of(s) : 0);
    } else if (is_malloc(d->call)) {
        remedy(d, "or this allocation at most %lld MiB (what is left under the limit)", (long long)mib_down(s, room));
    } else {
        remedy(d, "RLIMIT_AS counts reservations (PROT_NONE, MAP_NORESERVE) in full: for a program that reserves "
                  "address space up front (a runtime's heap, WebAssembly memories), limit written memory instead: "
                  "RLIMIT_DATA (ulimit -d) or a memory cgroup (systemd: MemoryMax=)");
    }
    return 1;
}

/* may_expand_vm's data check: data_vm + npages > RLIMIT_DATA, where npages is the
 * call's net growth in pages (a MAP_FIXED over mapped pages adds 0). So data_vm can
 * overshoot the limit through such a commit, and then the next data mapping fails
 * even with a net of 0 (FACTS.md §2: "a later commit fails"). */
static int check_rlimit_data(struct diagnosis *d, const struct live_state *s, int64_t net, int64_t req)
{
    if (s->rlim_data == LS_UNLIMITED || net < 0) return 0;
    if (s->rlim_data == 0 && s->rlim_data_max != 0) return 0; /* the valgrind exception (4.7+) */
    int64_t limit = s->rlim_data / 1024 / pk_of(s);
    if (s->vm_data_pages + net <= limit) return 0;
    memset(&d->kv, 0, sizeof d->kv);
    term(d, "data_vm", "VmData (data_vm: private writable mappings, brk heap)", '+', s->vm_data_pages);
    term(d, "request", "this request's net growth (pages it does not replace)", '+', net);
    set(d, "rlimit_data", "RLIMIT_DATA (ulimit -d)", req, limit, s->vm_data_pages, s->vm_data_pages + net - limit);
    if (net == 0)
        explain(d, "VmData is already %lld MiB, above RLIMIT_DATA %lld MiB (ulimit -d %lld): an earlier MAP_FIXED "
                   "commit over reserved pages grew it without a check, since only the net growth is checked; "
                   "now every new private writable mapping is refused",
                (long long)MiB(s->vm_data_pages, s), (long long)MiB(limit, s), (long long)(s->rlim_data / 1024));
    else
        explain(d, "VmData %lld MiB + %lld MiB of new private writable memory exceeds RLIMIT_DATA %lld MiB "
                   "(ulimit -d %lld); since 4.7 it covers private writable mmaps, not only brk",
                (long long)MiB(s->vm_data_pages, s), (long long)MiB(net, s), (long long)MiB(limit, s),
                (long long)(s->rlim_data / 1024));
    int64_t need_kib = (s->vm_data_pages + (net > 0 ? net : req)) * pk_of(s);
    limit_remedy(d, s, "-d", "RLIMIT_DATA", "LimitDATA", need_kib, 1, "");
    thread_more_remedy(d, s, need_kib, net * pk_of(s), "-d");
    int64_t room = limit - s->vm_data_pages;
    xss_remedy(d, s, net, room);
    direct_memory_remedy(d, s, room);
    if (!jvm(s) && d->call == CALL_PTHREAD_CREATE) stack_size_remedy(d, s, room > 0 ? room * pk_of(s) : 0);
    return 1;
}

/* brk's own check, before any other (mm/mmap.c brk(), every version): the heap's size
 * plus the data segment's against RLIMIT_DATA, in bytes. */
static int check_brk_data(struct diagnosis *d, const struct live_state *s, uint64_t new_brk)
{
    if (s->rlim_data == LS_UNLIMITED || !s->start_brk || new_brk < (uint64_t)s->start_brk) return 0;
    int64_t heap = (int64_t)new_brk - s->start_brk, data = s->end_data - s->start_data;
    if (data < 0) data = 0;
    if (heap + data <= s->rlim_data) return 0;
    memset(&d->kv, 0, sizeof d->kv);
    term(d, "brk-start_brk", "the heap after this call (brk - start_brk)", '+', pages_of(s, (uint64_t)heap));
    term(d, "end_data-start_data", "the program's data segment (end_data - start_data)", '+',
         pages_of(s, (uint64_t)data));
    int64_t limit = s->rlim_data / 1024 / pk_of(s);
    int64_t old = s->cur_brk > s->start_brk ? s->cur_brk : s->start_brk;
    set(d, "rlimit_data", "RLIMIT_DATA (ulimit -d), brk's heap-plus-data check", pages_of(s, new_brk - (uint64_t)old),
        limit, pages_of(s, (uint64_t)(old - s->start_brk + data)), pages_of(s, (uint64_t)(heap + data - s->rlim_data)));
    explain(d, "the heap would be %lld KiB and the data segment is %lld KiB: together more than RLIMIT_DATA %lld "
               "KiB (ulimit -d %lld); brk checks this sum first, before VmData or the commit charge",
            (long long)(heap / KIB), (long long)(data / KIB), (long long)(s->rlim_data / KIB),
            (long long)(s->rlim_data / 1024));
    limit_remedy(d, s, "-d", "RLIMIT_DATA", "LimitDATA", (heap + data + 1023) / 1024, 1, "");
    remedy(d, "or a smaller heap: for glibc's malloc, M_MMAP_THRESHOLD (mallopt) moves large blocks out of the "
              "brk heap (they then count in VmData)");
    return 1;
}

/* Mode 2's amount to release, split into this process's part and the rest of the box. */
static void release_remedy(struct diagnosis *d, const struct live_state *s, int64_t need)
{
    const struct kverdict *v = &d->kv;
    int64_t proc = s->proc_ac_pages;
    if (proc > 0 && proc <= v->committed_pages) {
        const char *own = jvm(s) ? " (for a JVM mostly its heap: -Xms, -Xmx)" : "";
        remedy(d, "or release %lld MiB of committed memory: Committed_AS is %lld MiB of an allowed %lld MiB, of "
                  "which this process holds %lld MiB%s and the rest of the box %lld MiB",
               (long long)mib_up(s, need), (long long)mib_down(s, v->committed_pages),
               (long long)mib_down(s, v->limit_pages), (long long)mib_down(s, proc), own,
               (long long)mib_down(s, v->committed_pages - proc));
    } else {
        remedy(d, "or release %lld MiB of committed memory (Committed_AS is %lld MiB of an allowed %lld MiB)",
               (long long)mib_up(s, need), (long long)mib_down(s, v->committed_pages),
               (long long)mib_down(s, v->limit_pages));
    }
}

/* The ratio that makes `need` more pages allowed: vm_commit_limit() takes
 * (totalram - hugetlb) * ratio / 100, rounded down. */
static int64_t ratio_for(const struct live_state *s, int64_t need)
{
    int64_t ram = s->in.totalram - s->in.hugetlb_total;
    int64_t target = ram * s->in.overcommit_ratio / 100 + need;
    int64_t r = (target * 100 + ram - 1) / ram;
    while (ram * r / 100 < target) r++;
    return r;
}

static void fork_remedies(struct diagnosis *d, const struct live_state *s)
{
    const struct kverdict *v = &d->kv;
    if (v->mode == 2) {
        int64_t bound = diagnose_fork_bound(s, d->charge_pages, d->band_pages);
        d->fork_bound_pages = bound;
        if (bound >= 0)
            remedy(d, "a parent with at most %lld MiB of accountable memory could fork here (now %lld MiB): fork "
                      "charges the child a copy of every private writable mapping, and a smaller parent also holds "
                      "less of Committed_AS itself",
                   (long long)mib_down(s, bound), (long long)mib_down(s, d->charge_pages));
        else
            remedy(d, "no parent could fork here: the rest of the box alone leaves no room for a child");
    } else {
        remedy(d, "a parent whose largest private writable mapping is at most %lld MiB could fork here: the %s "
                  "heuristic checks each mapping the child copies against free memory on its own",
               (long long)mib_down(s, v->largest_pages), s->k.label);
    }
    if (jvm(s))
        remedy(d, "java: -Djdk.lang.Process.launchMechanism=POSIX_SPAWN (the default since JDK 12): FORK copies "
                  "the whole JVM's charge for a child that only execs");
    else if (python(s))
        remedy(d, "children that only exec: subprocess (vfork or posix_spawn) charges nothing for a copy; for "
                  "multiprocessing, the 'forkserver' or 'spawn' start method forks a small server instead of this "
                  "process");
    else if (node(s))
        remedy(d, "start the child processes from a small helper process (each spawn forks this whole process "
                  "first)");
    else
        remedy(d, "children that only exec: posix_spawn (CLONE_VM|CLONE_VFORK) charges nothing for the copy");
}

static void overcommit_remedies(struct diagnosis *d, const struct live_state *s, int prot_write, int flags)
{
    const struct kverdict *v = &d->kv;
    int64_t pk = pk_of(s);
    /* the largest charge certain to pass: in mode 2 on a real kernel, below the band too */
    int64_t sure = v->mode == 2 ? v->limit_pages - v->committed_pages - d->band_pages - 1 : v->largest_pages;
    if (sure < 0) sure = 0;
    if (d->call == CALL_FORK) {
        fork_remedies(d, s);
    } else if (d->call == CALL_PTHREAD_CREATE) {
        if (jvm(s))
            xss_remedy(d, s, d->charge_pages, sure);
        else
            stack_size_remedy(d, s, sure * pk);
    } else if (is_mmap(d->call) && jvm(s) && (flags & MAP_FIXED) && s->prog.xms > 0 &&
               (uint64_t)d->charge_pages * (uint64_t)pk * 1024 >= (uint64_t)s->prog.xms / 2) {
        /* The refused commit is the heap (G1, Serial) or a share of it (Parallel's old
         * generation, two thirds): -Xms scales with it. HotSpot rounds the heap up to its
         * alignment (G1's region, up to 32 MiB), so the advice is a multiple of 32 MiB:
         * -Xms24105m became a 24112 MiB commit and failed again. */
        double scale = (double)s->prog.xms / ((double)d->charge_pages * (double)pk * 1024.0);
        int64_t xms_mib = (int64_t)((double)mib_down(s, sure) * (scale < 1.0 ? 1.0 : scale)) / 32 * 32;
        remedy(d, "this request at most %lld MiB: for the Java heap, -Xms%lldm or less (-Xmx may stay; a multiple "
                  "of 32 MiB, as HotSpot rounds the heap up to its alignment)",
               (long long)mib_down(s, sure), (long long)xms_mib);
    } else {
        remedy(d, "this request at most %lld MiB", (long long)mib_down(s, sure));
        direct_memory_remedy(d, s, sure);
        if (is_mmap(d->call) && prot_write && !(flags & MAP_FIXED) && (flags & MAP_TYPE) == MAP_PRIVATE) {
            if (v->mode == 2)
                remedy(d, "if it reserves more than it will write: map it PROT_NONE and make parts writable as "
                          "they are needed (mode 2 charges only writable private memory; MAP_NORESERVE is "
                          "ignored in mode 2)");
            else
                remedy(d, "if it reserves more than it will write: map it with MAP_NORESERVE (modes 0 and 1 do "
                          "not charge it), or PROT_NONE and make parts writable as they are needed");
        }
    }
    if (v->mode == 2) {
        int64_t need = d->shortfall_pages; /* band included */
        release_remedy(d, s, need);
        int64_t ram = s->in.totalram - s->in.hugetlb_total;
        if (ram > 0 && !(s->k.has_kbytes && s->in.overcommit_kbytes)) {
            remedy(d, "or raise vm.overcommit_ratio from %lld to at least %lld", (long long)s->in.overcommit_ratio,
                   (long long)ratio_for(s, need));
        } else if (s->in.overcommit_kbytes) {
            remedy(d, "or raise vm.overcommit_kbytes to at least %lld", (long long)(s->in.overcommit_kbytes + need * pk));
        }
        remedy(d, "or vm.overcommit_memory=0 (heuristic) or 1 (always): the risk moves to the OOM killer at touch time");
    } else {
        if (s->k.era != KERA_5_2) {
            remedy(d, "or %lld MiB more free memory or page cache on the box", (long long)mib_up(s, d->kv.shortfall_pages));
            int64_t ramswap = s->in.totalram + s->in.total_swap;
            if (v->request_pages <= ramswap)
                remedy(d, "on a 5.2+ kernel this request passes: the heuristic there refuses only one request larger "
                          "than RAM+swap (%lld MiB)",
                       (long long)(ramswap * pk / 1024));
        } else {
            remedy(d, "or add swap: RAM+swap is %lld MiB and one request may not exceed it",
                   (long long)(v->limit_pages * pk / 1024));
        }
        remedy(d, "or vm.overcommit_memory=1 (always accept; the risk moves to the OOM killer at touch time)");
    }
}

static int check_overcommit(struct diagnosis *d, const struct live_state *s, int64_t charge, int64_t req,
                            int prot_write, int flags);
/* total_vm: the caller's VmSize when the kernel checks (its user reserve is total_vm/32) */
static int check_overcommit_vm(struct diagnosis *d, const struct live_state *s, int64_t charge, int64_t req,
                               int prot_write, int flags, int64_t total_vm)
{
    if (charge <= 0) return 0;
    kmodel_vm_enough_memory(&s->k, &s->in, charge, total_vm, &d->kv);
    int64_t band = 0, batch = 0;
    if (d->kv.mode == 2 && !s->model_exact) {
        band = kmodel_band_pages(&s->k, &s->in);
        int n = s->in.ncpus > 0 ? s->in.ncpus : 1;
        batch = band / n;
    }
    int within = !d->kv.refused && d->kv.mode == 2 && band > 0 &&
                 d->kv.committed_pages + charge >= d->kv.limit_pages - band;
    if (!d->kv.refused && !within) return 0;
    d->charge_pages = charge;
    d->units = "pages";
    d->unit_kb = pk_of(s);
    d->band_pages = band;
    d->batch_pages = batch;
    d->within_band = within;
    if (d->kv.mode == 2) {
        /* pages less that are certain to pass: Committed_AS + charge + band < allowed */
        int64_t over = d->kv.committed_pages + charge + band + 1 - d->kv.limit_pages;
        set(d, "overcommit_never", "strict overcommit (vm.overcommit_memory=2)", req, d->kv.limit_pages,
            d->kv.committed_pages, over);
        if (within)
            explain(d, "by the exact sum this request fits: Committed_AS %lld pages + this charge %lld pages = %lld, "
                       "%lld pages below the allowed %lld (CommitLimit after reserves); but the kernel compares the "
                       "global part of a per-cpu counter, which may be up to %lld pages (batch %lld x %d CPUs) above "
                       "the exact sum /proc/meminfo shows, and this request is within that band: the kernel refuses "
                       "it whenever its read is %lld or more pages above the exact sum. To be sure of passing it "
                       "must be %lld pages smaller (or as much released)",
                    (long long)d->kv.committed_pages, (long long)charge, (long long)(d->kv.committed_pages + charge),
                    (long long)(d->kv.limit_pages - d->kv.committed_pages - charge), (long long)d->kv.limit_pages,
                    (long long)band, (long long)batch, s->in.ncpus > 0 ? s->in.ncpus : 1,
                    (long long)(d->kv.limit_pages - d->kv.committed_pages - charge), (long long)d->shortfall_pages);
        else
            explain(d, "Committed_AS %lld pages + this charge %lld pages is not below the allowed %lld pages "
                       "(CommitLimit after reserves)%s",
                    (long long)d->kv.committed_pages, (long long)charge, (long long)d->kv.limit_pages,
                    band ? "; the sizes below also clear the per-cpu counter's error band" : "");
    } else {
        set(d, "overcommit_guess", "the kernel's overcommit heuristic (vm.overcommit_memory=0)", req,
            d->kv.limit_pages, -1, d->kv.shortfall_pages);
        if (s->k.era == KERA_5_2)
            explain(d, "one request of %lld pages is more than RAM + swap, %lld pages: on 5.2+ the heuristic only "
                       "refuses a single request that large",
                    (long long)charge, (long long)d->kv.limit_pages);
        else
            explain(d, "one request of %lld pages is not less than the %s heuristic's estimate of free memory, %lld "
                       "pages (free + page cache - shmem + free swap + reclaimable slab - reserves)",
                    (long long)charge, s->k.label, (long long)d->kv.limit_pages);
    }
    overcommit_remedies(d, s, prot_write, flags);
    return 1;
}

/* HotSpot with -XX:+UseLargePages maps one huge page to see whether the pool has any
 * (os::Linux hugetlbfs_sanity_check); when it has none it warns and goes on without large
 * pages. Nothing failed that the program suffers from: a one-line note. */
static int jvm_large_page_probe(const struct live_state *s, uint64_t len)
{
    int64_t hp = (s->hugepagesize_kb > 0 ? s->hugepagesize_kb : 2048) * KIB;
    return jvm(s) && ((int64_t)len == hp || len == (1ull << 30) || len == (2ull << 20));
}

static int check_hugetlb(struct diagnosis *d, const struct live_state *s, uint64_t len)
{
    int64_t hp = s->hugepagesize_kb > 0 ? s->hugepagesize_kb : 2048;
    int64_t need = (int64_t)((len / 1024 + (uint64_t)hp - 1) / (uint64_t)hp);
    int64_t freep = s->hugepages_free > 0 ? s->hugepages_free : 0;
    memset(&d->kv, 0, sizeof d->kv);
    term(d, "HugePages_Free", "HugePages_Free", '+', freep);
    set(d, "hugetlb", "the hugetlb pool", need, freep, -1, need - freep);
    d->units = "huge pages";
    d->unit_kb = hp;
    explain(d, "MAP_HUGETLB needs %lld huge pages of %lld kB; the pool has %lld free (HugePages_Free) and "
               "surplus pages are not allowed beyond nr_overcommit_hugepages",
            (long long)need, (long long)hp, (long long)freep);
    if (jvm_large_page_probe(s, len)) {
        d->note = 1;
        d->note_kind = "jvm_large_page_probe";
        explain(d, "HotSpot's -XX:+UseLargePages probe (one MAP_HUGETLB page of %lld KiB) found no free huge "
                   "page; the JVM goes on without large pages (-XX:-UseLargePages, or vm.nr_hugepages=N, silences "
                   "this)",
                (long long)(len / 1024));
        remedy(d, "-XX:-UseLargePages, or vm.nr_hugepages large enough for the heap");
        return 1;
    }
    if (s->prog.huge_fallback) { /* PostgreSQL: huge_pages = try goes on with normal pages */
        d->note = 1;
        d->note_kind = "hugetlb_fallback";
        size_t n = strlen(d->explanation);
        os_snprintf(d->explanation + n, sizeof d->explanation - n,
                    "; PostgreSQL's huge_pages = try (the default) then goes on with normal pages: huge_pages = off "
                    "in postgresql.conf, or vm.nr_hugepages of at least %lld more, silences this",
                    (long long)(need - freep));
        remedy(d, "huge_pages = off in postgresql.conf, or vm.nr_hugepages raised by at least %lld",
               (long long)(need - freep));
        return 1;
    }
    remedy(d, "raise vm.nr_hugepages by at least %lld, or vm.nr_overcommit_hugepages", (long long)(need - freep));
    if (jvm(s))
        remedy(d, "or java -XX:-UseLargePages");
    else
        remedy(d, "or map with MAP_NORESERVE (a fault with no free huge page then gives SIGBUS)");
    return 1;
}

static void task_pool_remedy(struct diagnosis *d, const struct live_state *s)
{
    int proc = d->call == CALL_FORK || d->call == CALL_CLONE || d->call == CALL_POSIX_SPAWN ||
               d->call == CALL_POSIX_SPAWNP;
    if (jvm(s))
        remedy(d, "or fewer tasks: every Java thread counts (java: -XX:ParallelGCThreads, -XX:ConcGCThreads, "
                  "-XX:CICompilerCount, smaller thread pools)%s",
               proc ? ", and every child process" : "");
    else if (python(s))
        remedy(d, proc ? "or fewer processes: a smaller multiprocessing or concurrent.futures pool (processes=, "
                         "max_workers=)"
                       : "or fewer threads: a smaller thread pool (ThreadPoolExecutor max_workers=)");
    else if (node(s))
        remedy(d, proc ? "or fewer child processes (child_process, cluster workers)"
                       : "or fewer threads (worker_threads; UV_THREADPOOL_SIZE for libuv's pool)");
    else
        remedy(d, proc ? "or fewer processes or a smaller pool of workers (threads count too)"
                       : "or fewer threads, or a smaller thread pool");
}

static int check_tasks(struct diagnosis *d, const struct live_state *s)
{
    memset(&d->kv, 0, sizeof d->kv);
    d->units = "tasks";
    d->unit_kb = 0;
    int exempt = s->ruid == 0 || s->cap_sys_resource || s->in.cap_sys_admin;
    if (!exempt && s->rlim_nproc != LS_UNLIMITED && s->user_tasks >= 0 && s->user_tasks >= s->rlim_nproc) {
        d->check = "kernel/fork.c: refused when the tasks of the real uid reach RLIMIT_NPROC";
        term(d, "UCOUNT_RLIMIT_NPROC", "tasks (processes and threads) of this real uid", '+', s->user_tasks);
        set(d, "thread_limit", "RLIMIT_NPROC (ulimit -u)", 1, s->rlim_nproc, s->user_tasks,
            s->user_tasks + 1 - s->rlim_nproc);
        explain(d, "uid %lld already runs %lld tasks (threads count) and RLIMIT_NPROC is %lld; neither root nor "
                   "CAP_SYS_RESOURCE/CAP_SYS_ADMIN, so no exemption",
                (long long)s->ruid, (long long)s->user_tasks, (long long)s->rlim_nproc);
        int64_t want = s->user_tasks * 2 > 64 ? s->user_tasks * 2 : 64;
        limit_remedy(d, s, "-u", "RLIMIT_NPROC counts every process and thread of the uid", "LimitNPROC", want, 0,
                     "");
        task_pool_remedy(d, s);
        return 1;
    }
    if (s->pids_max >= 0 && s->pids_max != LS_UNLIMITED && s->pids_current >= s->pids_max) {
        d->check = "kernel/cgroup/pids.c: refused when pids.current reaches pids.max";
        term(d, "pids.current", "pids.current of the cgroup", '+', s->pids_current);
        set(d, "thread_limit", "the pids cgroup (pids.max)", 1, s->pids_max, s->pids_current,
            s->pids_current + 1 - s->pids_max);
        explain(d, "the cgroup has %lld tasks and pids.max is %lld", (long long)s->pids_current,
                (long long)s->pids_max);
        if (s->prog.service[0])
            remedy(d, "TasksMax=%lld or more in the [Service] section of %s (systemctl edit %s)",
                   (long long)(s->pids_current * 2), s->prog.service, s->prog.service);
        else
            remedy(d, "raise pids.max of the cgroup (systemd: TasksMax=) to at least %lld",
                   (long long)(s->pids_current * 2));
        task_pool_remedy(d, s);
        return 1;
    }
    if (s->threads_max > 0 && s->nr_tasks >= s->threads_max) {
        d->check = "kernel/fork.c: refused when nr_threads reaches kernel.threads-max";
        term(d, "nr_threads", "tasks on the system", '+', s->nr_tasks);
        set(d, "thread_limit", "kernel.threads-max", 1, s->threads_max, s->nr_tasks, s->nr_tasks + 1 - s->threads_max);
        explain(d, "the system has %lld tasks and kernel.threads-max is %lld", (long long)s->nr_tasks,
                (long long)s->threads_max);
        remedy(d, "raise kernel.threads-max to at least %lld", (long long)(s->nr_tasks * 2));
        task_pool_remedy(d, s);
        return 1;
    }
    if (s->pid_max > 0 && s->nr_tasks >= s->pid_max - 300) {
        d->check = "kernel/pid.c: refused when no pid below kernel.pid_max is free";
        term(d, "nr_threads", "tasks on the system", '+', s->nr_tasks);
        set(d, "thread_limit", "kernel.pid_max", 1, s->pid_max, s->nr_tasks, s->nr_tasks + 1 - s->pid_max);
        explain(d, "the system has %lld tasks, close to kernel.pid_max %lld: no free pid", (long long)s->nr_tasks,
                (long long)s->pid_max);
        remedy(d, "raise kernel.pid_max (up to 4194304)");
        return 1;
    }
    return 0;
}

/* --- per call -------------------------------------------------------------- */

static uint64_t page_up(uint64_t x) { return (x + 4095) & ~4095ull; }

void diagnose_call_range(const struct failed_call *fc, uintptr_t *lo, uintptr_t *hi)
{
    *lo = *hi = 0;
    switch (fc->id) {
    case CALL_MMAP:
    case CALL_MMAP64:
        if (fc->a[3] & (MAP_FIXED | MAP_FIXED_NOREPLACE)) *lo = fc->a[0], *hi = fc->a[0] + page_up(fc->a[1]);
        break;
    case CALL_MPROTECT:
    case CALL_MUNMAP:
    case CALL_MREMAP:
        *lo = fc->a[0];
        *hi = fc->a[0] + page_up(fc->a[1]);
        break;
    default:
        break;
    }
}

static void address_space(struct diagnosis *d, const struct live_state *s, const char *headline, int64_t pages,
                          int64_t limit, int64_t in_use)
{
    memset(&d->kv, 0, sizeof d->kv);
    if (in_use >= 0) term(d, "total_vm", "VmSize (total_vm)", '+', in_use);
    term(d, "request", "this request", '+', pages);
    set(d, "address_space", headline, pages, limit, in_use, in_use >= 0 ? in_use + pages - limit : pages - limit);
    d->unit_kb = pk_of(s);
}

static int check_overcommit(struct diagnosis *d, const struct live_state *s, int64_t charge, int64_t req,
                            int prot_write, int flags)
{
    return check_overcommit_vm(d, s, charge, req, prot_write, flags, s->vm_size_pages);
}

/* A mapping request: the shared path of mmap, the malloc estimate and thread stacks. */
static void diagnose_map(struct diagnosis *d, const struct live_state *s, const struct smaps_facts *f, uint64_t addr,
                         uint64_t len, int prot, int flags)
{
    int fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) != 0;
    int64_t pages = pages_of(s, len);
    const int64_t task_pages = (int64_t)(TASK_SIZE_BYTES / 4096);
    if (len > TASK_SIZE_BYTES || (fixed && addr + len > TASK_SIZE_BYTES)) {
        address_space(d, s, "the size of the address space", pages, task_pages, -1);
        explain(d, "%lld pages do not fit below TASK_SIZE (128 TiB on x86-64 with 4-level paging)", (long long)pages);
        remedy(d, "request less: this size can never be mapped");
        return;
    }
    if (check_map_count(d, s, 1, 0)) return;
    if (!fixed && s->vm_size_pages + pages > task_pages) {
        address_space(d, s, "free address space", pages, task_pages, s->vm_size_pages);
        explain(d, "no free gap of %lld pages is left in the address space", (long long)pages);
        return;
    }
    int64_t mapped = fixed && f ? (int64_t)f->mapped_pages : 0;
    int64_t net = pages - mapped; /* may_expand_vm is given the growth net of the replaced pages */
    if (check_rlimit_as(d, s, net, pages)) return;
    int data = (flags & MAP_TYPE) == MAP_PRIVATE && (prot & PROT_WRITE) && !(flags & MAP_GROWSDOWN);
    if (data && s->k.rlimit_data_mmap && check_rlimit_data(d, s, net, pages)) return;
    if (flags & MAP_HUGETLB) {
        check_hugetlb(d, s, len);
        return;
    }
    int mode = s->in.overcommit_memory;
    int64_t charge = 0;
    if (kmodel_mmap_accountable(prot, flags, mode))
        charge = s->k.fixed_net && fixed && f ? pages - (int64_t)f->accounted_pages : pages;
    else if ((flags & MAP_TYPE) != MAP_PRIVATE && (flags & MAP_ANONYMOUS) && !((flags & MAP_NORESERVE) && mode != 2))
        charge = pages; /* shared anonymous: shmem_acct_size charges the whole object */
    if (check_overcommit(d, s, charge, pages, prot & PROT_WRITE, flags)) {
        if ((flags & MAP_TYPE) != MAP_PRIVATE)
            explain_more(d, "; a shared anonymous mapping is charged as one shmem object of its full size "
                            "(shmem_acct_size, at mmap time), not as a VMA: it never shows `ac` in smaps");
        return;
    }
}

static void diagnose_protect(struct diagnosis *d, const struct live_state *s, const struct smaps_facts *f,
                             uint64_t len, int prot)
{
    int64_t pages = pages_of(s, len);
    if (f && (int64_t)f->mapped_pages < pages) {
        address_space(d, s, "an unmapped range", pages, (int64_t)f->mapped_pages, -1);
        d->shortfall_pages = 0;
        explain(d, "%lld of the %lld pages named are not mapped: mprotect returns ENOMEM for a hole",
                (long long)(pages - (int64_t)f->mapped_pages), (long long)pages);
        remedy(d, "a bug in the caller: the range was never mapped or was unmapped before");
        return;
    }
    if (check_map_count(d, s, 1, 1)) return;
    if (prot & PROT_WRITE) {
        /* mprotect_fixup checks the whole range when it becomes data */
        int64_t becoming = f ? pages - (int64_t)f->data_pages : pages;
        if (becoming > 0 && s->k.rlimit_data_mmap && check_rlimit_data(d, s, pages, pages)) return;
        int64_t charge = f ? pages - (int64_t)f->accounted_pages : pages;
        if (check_overcommit(d, s, charge, pages, 1, MAP_FIXED)) return;
    }
}

static void diagnose_remap(struct diagnosis *d, const struct live_state *s, const struct smaps_facts *f,
                           uint64_t old_len, uint64_t new_len, int flags)
{
    int64_t grow = pages_of(s, new_len) - pages_of(s, old_len);
    if (check_map_count(d, s, 1, 4)) return;
    if (grow > 0 && check_rlimit_as(d, s, grow, grow)) return;
    if (grow > 0 && f && f->data_pages && s->k.rlimit_data_mmap && check_rlimit_data(d, s, grow, grow)) return;
    int64_t charge = (flags & MREMAP_DONTUNMAP) ? pages_of(s, new_len) : grow;
    if (f && f->accounted_pages && check_overcommit(d, s, charge, charge, 1, MAP_FIXED)) return;
    if (grow > 0 && !(flags & MREMAP_MAYMOVE)) {
        set(d, "address_space", "no room to grow in place", grow, 0, -1, 0);
        explain(d, "the mapping cannot grow in place and MREMAP_MAYMOVE was not given");
        remedy(d, "pass MREMAP_MAYMOVE");
    }
}

static void diagnose_fork(struct diagnosis *d, const struct live_state *s, const struct smaps_facts *f)
{
    if (f) {
        /* dup_mmap charges each `ac` VMA of the parent, against the parent's mm */
        int64_t charge = s->in.overcommit_memory == 2 ? (int64_t)f->ac_total_pages : (int64_t)f->ac_largest_pages;
        if (check_overcommit(d, s, charge, charge, 1, 0)) {
            explain_more(d, "; fork copies the parent's %llu accountable mappings (%llu pages), each charged again "
                            "for the child",
                         (unsigned long long)f->ac_vmas, (unsigned long long)f->ac_total_pages);
            return;
        }
    }
}

static int fork_passes(const struct live_state *s, int64_t rest, int64_t parent, int64_t x, int64_t band)
{
    struct kmodel_input in = s->in;
    in.committed = rest + x + band; /* the parent's own share is part of Committed_AS */
    int64_t vm = s->vm_size_pages - (parent - x);
    struct kverdict v;
    kmodel_vm_enough_memory(&s->k, &in, x, vm > 0 ? vm : 0, &v);
    return !v.refused;
}

int64_t diagnose_fork_bound(const struct live_state *s, int64_t parent, int64_t band)
{
    int64_t rest = s->in.committed - parent;
    if (rest < 0) rest = 0;
    if (!fork_passes(s, rest, parent, 0, band)) return -1;
    int64_t lo = 0, hi = parent; /* passes at lo; the largest x that passes */
    if (fork_passes(s, rest, parent, hi, band)) return hi;
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (fork_passes(s, rest, parent, mid, band)) lo = mid;
        else hi = mid;
    }
    return lo;
}

/* The shim's own share of what the check counted (live_state.own_*, filled by the
 * shim at a real refusal): said in the explanation, and when the call would have
 * passed without it, said first among the remedies, so the program is not blamed for
 * the shim's mappings, address space or commit. */
static void remedy_first(struct diagnosis *d, const char *text)
{
    int n = d->nremedies < DIAG_MAX_REMEDIES ? d->nremedies : DIAG_MAX_REMEDIES - 1;
    memmove(d->remedies[1], d->remedies[0], (size_t)n * sizeof d->remedies[0]);
    os_snprintf(d->remedies[0], sizeof d->remedies[0], "%s", text);
    d->nremedies = n + 1;
}

static void own_share(struct diagnosis *d, const struct live_state *s)
{
    int64_t own = 0, over = d->shortfall_pages;
    const char *what = NULL, *unit = "pages";
    if (!strcmp(d->cause, "max_map_count")) own = s->own_maps, what = "mappings", unit = "mappings";
    else if (!strcmp(d->cause, "rlimit_as")) own = s->own_vm_pages, what = "pages of VmSize";
    else if (!strcmp(d->cause, "overcommit_never")) own = s->own_commit_pages, what = "pages of Committed_AS";
    if (!what || own <= 0) return;
    explain_more(d, "; overshim itself accounts for %lld of those %s", (long long)own, what);
    if (over > 0 && own >= over) {
        char t[DIAG_REMEDY_LEN];
        os_snprintf(t, sizeof t,
                    "without overshim this call would have passed: the shim's own %lld %s are more than the %lld "
                    "%s it was short by (run without LD_PRELOAD, or raise the limit by that much)",
                    (long long)own, unit, (long long)over, unit);
        remedy_first(d, t);
    }
}

void diagnose(const struct failed_call *fc, const struct live_state *s, const struct smaps_facts *f,
              struct diagnosis *d)
{
    memset(d, 0, sizeof *d);
    d->call = fc->id;
    d->units = "pages";
    d->unit_kb = pk_of(s);
    d->committed_pages = -1;
    d->cause = "unknown";
    d->headline = "a cause overshim cannot identify";
    const uint64_t *a = fc->a;
    switch (fc->id) {
    case CALL_MMAP:
    case CALL_MMAP64:
        diagnose_map(d, s, f, a[0], a[1], (int)a[2], (int)a[3]);
        break;
    case CALL_MPROTECT:
        diagnose_protect(d, s, f, a[1], (int)a[2]);
        break;
    case CALL_MREMAP:
        diagnose_remap(d, s, f, a[1], a[2], (int)a[3]);
        break;
    case CALL_MUNMAP:
        check_map_count(d, s, 1, 1);
        break;
    case CALL_BRK:
    case CALL_SBRK: {
        /* brk(): check_data_rlimit first, then do_brk_flags: may_expand_vm (RLIMIT_AS, then
         * VmData), the map count, the commit charge (6.18 mm/mmap.c, mm/vma.c) */
        if (fc->id == CALL_SBRK && (int64_t)a[0] < 0) break;
        uint64_t new_brk = fc->id == CALL_SBRK ? a[1] + a[0] : a[0];
        int64_t grow = new_brk > a[1] ? pages_of(s, new_brk - a[1]) : 0;
        if (check_brk_data(d, s, new_brk)) break;
        if (check_rlimit_as(d, s, grow, grow)) break;
        if (check_rlimit_data(d, s, grow, grow)) break;
        if (check_map_count(d, s, 1, 0)) break;
        check_overcommit(d, s, grow, grow, 1, 0);
        break;
    }
    case CALL_MALLOC:
    case CALL_CALLOC:
    case CALL_REALLOC:
    case CALL_REALLOCARRAY:
    case CALL_POSIX_MEMALIGN:
    case CALL_ALIGNED_ALLOC:
    case CALL_MEMALIGN:
    case CALL_VALLOC:
    case CALL_PVALLOC: {
        uint64_t size = a[0];
        if (fc->id == CALL_CALLOC) size = a[0] * a[1];
        else if (fc->id == CALL_REALLOC) size = a[1];
        else if (fc->id == CALL_POSIX_MEMALIGN || fc->id == CALL_ALIGNED_ALLOC || fc->id == CALL_MEMALIGN)
            size = a[1] + a[0];
        d->estimated = 1;
        if (size > (uint64_t)PTRDIFF_MAX) {
            address_space(d, s, "malloc's size limit", pages_of(s, size), pages_of(s, (uint64_t)PTRDIFF_MAX), -1);
            explain(d, "malloc refuses sizes above PTRDIFF_MAX without asking the kernel");
            break;
        }
        /* glibc serves a large request with its own private writable mmap of the size plus a header */
        diagnose_map(d, s, NULL, 0, page_up(size + 16), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        break;
    }
    case CALL_PTHREAD_CREATE: {
        uint64_t stack = a[1];
        if (stack) {
            /* glibc: mmap(stack + guard, PROT_NONE) then mprotect(stack, RW), the charge at the mprotect;
             * the PROT_NONE mapping is in total_vm by then, so the user reserve counts it (measured on
             * 5.10-7.2 with glibc 2.36: the largest stack is about size/32 below the largest mmap).
             * Without a guard (a[2] == 0: HotSpot's Java threads) glibc maps it writable at once. */
            int64_t sp = pages_of(s, stack), gp = pages_of(s, a[2]);
            if (check_map_count(d, s, 2, 2)) break;
            if (check_rlimit_as(d, s, sp + 1, sp + 1)) break;
            if (s->k.rlimit_data_mmap && check_rlimit_data(d, s, sp, sp)) break;
            if (check_overcommit_vm(d, s, sp, sp, 1, 0, s->vm_size_pages + (gp ? sp + gp : 0))) {
                explain_more(d, "; the new thread's %lld KiB stack is charged when glibc makes it writable",
                             (long long)(stack / 1024));
                break;
            }
        }
        check_tasks(d, s);
        break;
    }
    case CALL_FORK:
        if (fc->err == EAGAIN) check_tasks(d, s);
        else diagnose_fork(d, s, f);
        break;
    case CALL_CLONE:
    case CALL_POSIX_SPAWN:
    case CALL_POSIX_SPAWNP:
        check_tasks(d, s);
        break;
    default:
        break;
    }
    if (!strcmp(d->cause, "unknown")) {
        explain(d, "none of the checks overshim models explains this refusal from the state read after it "
                   "(kernel memory, a memcg charge, a transient condition, or a limit overshim does not model)");
        memset(&d->kv, 0, sizeof d->kv);
    }
    own_share(d, s);
}

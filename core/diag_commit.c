/* The commit charge (overcommit, fork) and HotSpot's address space at start (diagnose_int.h). */
#include "diagnose_int.h"

#include <errno.h>

/* --- HotSpot's address space at start -------------------------------------- */

int64_t dg_jvm_heap(const struct live_state *s)
{
    if (s->prog.xmx > 0) return s->prog.xmx;
    return s->mi.MemTotal > 0 ? s->mi.MemTotal * KIB / 4 : 0; /* MaxRAMPercentage=25 */
}
int64_t dg_jvm_code_cache(const struct live_state *s)
{
    if (s->prog.code_cache > 0) return s->prog.code_cache;
    return s->prog.tiered_off ? 48 * MIB_B : 240 * MIB_B;
}
/* The compressed class space, reserved together with the CDS archive (16 MiB in 17). */
int64_t dg_jvm_class_space(const struct live_state *s)
{
    return (s->prog.class_space > 0 ? s->prog.class_space : 1024 * MIB_B) + (s->prog.share_off ? 0 : 16 * MIB_B);
}

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
int64_t dg_jvm_start_limit(const struct live_state *s, uint64_t request, int64_t arenas, char *what, size_t cap)
{
    const int64_t part[3] = {dg_jvm_code_cache(s), dg_jvm_heap(s), dg_jvm_class_space(s)};
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
    fb_init_str(&fb, what, cap);
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

/* -XX:MaxDirectMemorySize for a malloc libjvm made for Java code: direct buffers past the
 * cap throw OutOfMemoryError ("Direct buffer memory"), which the program can catch. room:
 * pages still free under the limit that refused. */
void dg_direct_memory_remedy(struct diagnosis *d, const struct live_state *s, int64_t room_pages)
{
    if (!jvm(s) || !is_malloc(d->call) || !s->prog.java_malloc) return;
    int64_t live = s->prog.malloc_live_bytes > 0 ? s->prog.malloc_live_bytes / MIB_B : 0;
    int64_t room = mib_down(s, room_pages);
    dg_remedy(d, "java: -XX:MaxDirectMemorySize=%lldm or less: this malloc was made by libjvm for Java code "
              "(Unsafe.allocateMemory, which ByteBuffer.allocateDirect uses); the cap is the %lld MiB the process's "
              "mallocs hold now, direct buffers included, plus the %lld MiB still free under the limit; past it "
              "allocateDirect throws OutOfMemoryError: Direct buffer memory, which the program can handle",
           (long long)(live + room), (long long)live, (long long)room);
}

/* Mode 2's amount to release, split into this process's part and the rest of the box. */
void dg_release_remedy(struct diagnosis *d, const struct live_state *s, int64_t need)
{
    const struct kverdict *v = &d->kv;
    int64_t proc = s->proc_ac_pages;
    if (proc > 0 && proc <= v->committed_pages) {
        const char *own = jvm(s) ? " (for a JVM mostly its heap: -Xms, -Xmx)" : "";
        dg_remedy(d, "or release %lld MiB of committed memory: Committed_AS is %lld MiB of an allowed %lld MiB, of "
                  "which this process holds %lld MiB%s and the rest of the box %lld MiB",
               (long long)mib_up(s, need), (long long)mib_down(s, v->committed_pages),
               (long long)mib_down(s, v->limit_pages), (long long)mib_down(s, proc), own,
               (long long)mib_down(s, v->committed_pages - proc));
    } else {
        dg_remedy(d, "or release %lld MiB of committed memory (Committed_AS is %lld MiB of an allowed %lld MiB)",
               (long long)mib_up(s, need), (long long)mib_down(s, v->committed_pages),
               (long long)mib_down(s, v->limit_pages));
    }
}

/* The ratio that makes `need` more pages allowed: vm_commit_limit() takes
 * (totalram - hugetlb) * ratio / 100, rounded down. */
int64_t dg_ratio_for(const struct live_state *s, int64_t need)
{
    int64_t ram = s->in.totalram - s->in.hugetlb_total;
    int64_t target = ram * s->in.overcommit_ratio / 100 + need;
    int64_t r = (target * 100 + ram - 1) / ram;
    while (ram * r / 100 < target) r++;
    return r;
}

void dg_fork_remedies(struct diagnosis *d, const struct live_state *s)
{
    const struct kverdict *v = &d->kv;
    if (v->mode == 2) {
        int64_t bound = diagnose_fork_bound(s, d->charge_pages, d->band_pages);
        d->fork_bound_pages = bound;
        if (bound >= 0)
            dg_remedy(d, "a parent with at most %lld MiB of accountable memory could fork here (now %lld MiB): fork "
                      "charges the child a copy of every private writable mapping, and a smaller parent also holds "
                      "less of Committed_AS itself",
                   (long long)mib_down(s, bound), (long long)mib_down(s, d->charge_pages));
        else
            dg_remedy(d, "no parent could fork here: the rest of the box alone leaves no room for a child");
    } else {
        dg_remedy(d, "a parent whose largest private writable mapping is at most %lld MiB could fork here: the %s "
                  "heuristic checks each mapping the child copies against free memory on its own",
               (long long)mib_down(s, v->largest_pages), s->k.label);
    }
    if (jvm(s))
        dg_remedy(d, "java: -Djdk.lang.Process.launchMechanism=POSIX_SPAWN (the default since JDK 12): FORK copies "
                  "the whole JVM's charge for a child that only execs");
    else if (python(s))
        dg_remedy(d, "children that only exec: subprocess (vfork or posix_spawn) charges nothing for a copy; for "
                  "multiprocessing, the 'forkserver' or 'spawn' start method forks a small server instead of this "
                  "process");
    else if (node(s))
        dg_remedy(d, "start the child processes from a small helper process (each spawn forks this whole process "
                  "first)");
    else
        dg_remedy(d, "children that only exec: posix_spawn (CLONE_VM|CLONE_VFORK) charges nothing for the copy");
}

void dg_overcommit_remedies(struct diagnosis *d, const struct live_state *s, int prot_write, int flags)
{
    const struct kverdict *v = &d->kv;
    int64_t pk = pk_of(s);
    /* the largest charge certain to pass: in mode 2 on a real kernel, below the band too */
    int64_t sure = v->mode == 2 ? v->limit_pages - v->committed_pages - d->band_pages - 1 : v->largest_pages;
    if (sure < 0) sure = 0;
    if (d->call == CALL_FORK) {
        dg_fork_remedies(d, s);
    } else if (d->call == CALL_PTHREAD_CREATE) {
        if (jvm(s))
            dg_xss_remedy(d, s, d->charge_pages, sure);
        else
            dg_stack_size_remedy(d, s, sure * pk);
    } else if (is_mmap(d->call) && jvm(s) && (flags & MAP_FIXED) && s->prog.xms > 0 &&
               (uint64_t)d->charge_pages * (uint64_t)pk * 1024 >= (uint64_t)s->prog.xms / 2) {
        /* The refused commit is the heap (G1, Serial) or a share of it (Parallel's old
         * generation, two thirds): -Xms scales with it. HotSpot rounds the heap up to its
         * alignment (G1's region, up to 32 MiB), so the advice is a multiple of 32 MiB:
         * -Xms24105m became a 24112 MiB commit and failed again. */
        double scale = (double)s->prog.xms / ((double)d->charge_pages * (double)pk * 1024.0);
        int64_t xms_mib = (int64_t)((double)mib_down(s, sure) * (scale < 1.0 ? 1.0 : scale)) / 32 * 32;
        dg_remedy(d, "this request at most %lld MiB: for the Java heap, -Xms%lldm or less (-Xmx may stay; a multiple "
                  "of 32 MiB, as HotSpot rounds the heap up to its alignment)",
               (long long)mib_down(s, sure), (long long)xms_mib);
    } else {
        dg_remedy(d, "this request at most %lld MiB", (long long)mib_down(s, sure));
        dg_direct_memory_remedy(d, s, sure);
        if (is_mmap(d->call) && prot_write && !(flags & MAP_FIXED) && (flags & MAP_TYPE) == MAP_PRIVATE) {
            if (v->mode == 2)
                dg_remedy(d, "if it reserves more than it will write: map it PROT_NONE and make parts writable as "
                          "they are needed (mode 2 charges only writable private memory; MAP_NORESERVE is "
                          "ignored in mode 2)");
            else
                dg_remedy(d, "if it reserves more than it will write: map it with MAP_NORESERVE (modes 0 and 1 do "
                          "not charge it), or PROT_NONE and make parts writable as they are needed");
        }
    }
    if (v->mode == 2) {
        int64_t need = d->shortfall_pages; /* band included */
        dg_release_remedy(d, s, need);
        int64_t ram = s->in.totalram - s->in.hugetlb_total;
        if (ram > 0 && !(s->k.has_kbytes && s->in.overcommit_kbytes)) {
            dg_remedy(d, "or raise vm.overcommit_ratio from %lld to at least %lld", (long long)s->in.overcommit_ratio,
                   (long long)dg_ratio_for(s, need));
        } else if (s->in.overcommit_kbytes) {
            dg_remedy(d, "or raise vm.overcommit_kbytes to at least %lld", (long long)(s->in.overcommit_kbytes + need * pk));
        }
        dg_remedy(d, "or vm.overcommit_memory=0 (heuristic) or 1 (always): the risk moves to the OOM killer at touch time");
    } else {
        if (s->k.era != KERA_5_2) {
            dg_remedy(d, "or %lld MiB more free memory or page cache on the box", (long long)mib_up(s, d->kv.shortfall_pages));
            int64_t ramswap = s->in.totalram + s->in.total_swap;
            if (v->request_pages <= ramswap)
                dg_remedy(d, "on a 5.2+ kernel this request passes: the heuristic there refuses only one request larger "
                          "than RAM+swap (%lld MiB)",
                       (long long)(ramswap * pk / 1024));
        } else {
            dg_remedy(d, "or add swap: RAM+swap is %lld MiB and one request may not exceed it",
                   (long long)(v->limit_pages * pk / 1024));
        }
        dg_remedy(d, "or vm.overcommit_memory=1 (always accept; the risk moves to the OOM killer at touch time)");
    }
}

int dg_check_overcommit(struct diagnosis *d, const struct live_state *s, int64_t charge, int64_t req,
                            int prot_write, int flags)
{
    return dg_check_overcommit_vm(d, s, charge, req, prot_write, flags, s->vm_size_pages);
}

/* total_vm: the caller's VmSize when the kernel checks (its user reserve is total_vm/32) */
int dg_check_overcommit_vm(struct diagnosis *d, const struct live_state *s, int64_t charge, int64_t req,
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
        dg_set(d, CAUSE_OVERCOMMIT_NEVER, "strict overcommit (vm.overcommit_memory=2)", req, d->kv.limit_pages,
            d->kv.committed_pages, over);
        if (within)
            dg_explain(d, "by the exact sum this request fits: Committed_AS %lld pages + this charge %lld pages = %lld, "
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
            dg_explain(d, "Committed_AS %lld pages + this charge %lld pages is not below the allowed %lld pages "
                       "(CommitLimit after reserves)%s",
                    (long long)d->kv.committed_pages, (long long)charge, (long long)d->kv.limit_pages,
                    band ? "; the sizes below also clear the per-cpu counter's error band" : "");
    } else {
        dg_set(d, CAUSE_OVERCOMMIT_GUESS, "the kernel's overcommit heuristic (vm.overcommit_memory=0)", req,
            d->kv.limit_pages, -1, d->kv.shortfall_pages);
        if (s->k.era == KERA_5_2)
            dg_explain(d, "one request of %lld pages is more than RAM + swap, %lld pages: on 5.2+ the heuristic only "
                       "refuses a single request that large",
                    (long long)charge, (long long)d->kv.limit_pages);
        else
            dg_explain(d, "one request of %lld pages is not less than the %s heuristic's estimate of free memory, %lld "
                       "pages (free + page cache - shmem + free swap + reclaimable slab - reserves)",
                    (long long)charge, s->k.label, (long long)d->kv.limit_pages);
    }
    dg_overcommit_remedies(d, s, prot_write, flags);
    return 1;
}


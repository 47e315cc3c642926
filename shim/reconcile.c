/* smaps reconciliation (see reconcile.h): the live smaps (sys/smaps_read.h) against
 * the ledger. */
#include "reconcile.h"

#include <string.h>

#include "heap.h"
#include "ledger.h"
#include "smaps_read.h"

static void finish(struct reconcile *out, const struct smaps_vma *v, int ac)
{
    if (v->vsyscall) return;
    out->map_count++;
    out->vm_size += v->hi - v->lo;
    if (!ac) return;
    uint64_t size = v->hi - v->lo, tracked = ledger_charged_in(v->lo, v->hi);
    if (tracked > size) tracked = size;
    out->kernel_accountable += size;
    out->tracked += tracked;
    uint64_t un = size - tracked;
    if (v->heap) out->untracked_heap += un;
    else if (v->stack) out->untracked_stack += un;
    else if (v->file) out->untracked_file += un;
    else out->untracked_anon += un;
}

/* glibc's per-thread arena heaps: new_heap maps 64 MiB (HEAP_MAX_SIZE) PROT_NONE|MAP_NORESERVE
 * on a 64 MiB boundary and makes its front writable with mprotect as it grows; being
 * NORESERVE they are charged only in mode 2 (mprotect_fixup skips VM_NORESERVE), so they
 * are counted here whether `ac` or not: the writable front, and what of it is resident. */
static void arena(struct reconcile *out, const struct smaps_vma *v)
{
    if (v->file || v->heap || v->stack || v->vsyscall || !v->wr || v->sh) return;
    if ((v->lo & ((64ull << 20) - 1)) || v->hi - v->lo > (64ull << 20)) return;
    if (ledger_charged_in(v->lo, v->hi)) return; /* a mapping of the program's own */
    out->arena_heaps++;
    out->arena_bytes += v->hi - v->lo;
    out->arena_rss += v->rss_kb * 1024;
}

static void reconcile_one(const struct smaps_vma *v, void *ctx)
{
    if (!v->vsyscall) ledger_settle(v->lo, v->hi, v->ac); /* guesses about 6.7+ uncharges end here */
    finish(ctx, v, v->ac);
    arena(ctx, v);
}

void reconcile_scan(struct reconcile *out)
{
    memset(out, 0, sizeof *out);
    if (smaps_each(reconcile_one, out) != 0) return;
    int64_t mine = __atomic_load_n(&osh_heap_mapped, __ATOMIC_RELAXED);
    out->shim_heap = mine > 0 ? ((uint64_t)mine < out->untracked_anon ? (uint64_t)mine : out->untracked_anon) : 0;
    out->untracked_anon -= out->shim_heap;
    out->untracked = out->kernel_accountable - out->tracked - out->shim_heap;
    out->ok = 1;
}


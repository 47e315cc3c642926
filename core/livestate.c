/* The pure half of live_state (livestate.h): meminfo text into its fields. The
 * live readers are in sys/livestate_read.c. */
#include "livestate.h"

#include "procparse.h"

void livestate_meminfo(struct live_state *s, const char *t)
{
    struct kmodel_meminfo *m = &s->mi;
#define MI(k) m->k = meminfo_get(t, #k);
    MI(MemTotal) MI(MemFree) MI(Buffers) MI(Cached) MI(SwapCached) MI(Shmem) MI(SwapTotal) MI(SwapFree)
    MI(SReclaimable) MI(KReclaimable) MI(Hugetlb) MI(HugePages_Total) MI(Hugepagesize) MI(Committed_AS)
    MI(CommitLimit) MI(MemAvailable)
#undef MI
    s->hugepages_free = meminfo_get(t, "HugePages_Free");
    s->hugepagesize_kb = m->Hugepagesize;
    kmodel_input_from_meminfo(&s->in, m);
}

/* ThreadSanitizer over the ledger: 8 threads map, protect, detach/reattach, unmap and
 * start/stop thread records while 2 readers take totals, walk the ranges and settle
 * from smaps, the way the wrappers and the reporters use it. The shim's own heap
 * (sys/heap.c) is the real one, instrumented like the rest. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "heap.h"
#include "ledger.h"
#include "reconcile.h"
#include "state.h"

OSH_TLS struct osh_tls osh_t;
int osh_active = 1;
struct osh_state osh_st;
static struct osh_forkstate fs = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, 1};
struct osh_forkstate *osh_fs = &fs;

void osh_fork_fixup(void) {}
/* lazyfacts.h: mode 0, a 6.7+ kernel */
int facts_ledger_mode(void) { return 0; }
int facts_mprotect_uncharges(void) { return 1; }

static int stop; /* atomic */
static int misordered; /* set by a reader, under the ledger lock */

static void *writer(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    char *mine[16] = {0};
    size_t len[16];
    struct thread_rec *self = ledger_self();
    for (int it = 0; it < 3000; it++) {
        unsigned r = rand_r(&seed);
        int k = (int)(r % 16);
        if (!mine[k]) {
            len[k] = 4096u * (1 + (r >> 8) % 8);
            mine[k] = mmap(NULL, len[k], PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (mine[k] == MAP_FAILED) mine[k] = NULL;
            else ledger_record_map((uintptr_t)mine[k], len[k], PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, 1);
        } else if ((r >> 12) % 3 == 0) {
            ledger_record_protect((uintptr_t)mine[k], 4096, (r >> 14) & 1 ? PROT_READ : PROT_READ | PROT_WRITE);
        } else if ((r >> 12) % 3 == 1) {
            struct range saved[16];
            size_t n = ledger_detach((uintptr_t)mine[k], len[k], saved, 16);
            if ((r >> 16) & 1) {
                ledger_reattach(saved, n <= 16 ? n : 0);
            } else {
                munmap(mine[k], len[k]);
                mine[k] = NULL;
            }
        } else {
            struct thread_rec *t = ledger_thread_prepare(self, 8 << 20);
            if (t) ledger_thread_discard(t);
        }
    }
    for (int k = 0; k < 16; k++)
        if (mine[k]) {
            struct range saved[16];
            ledger_detach((uintptr_t)mine[k], len[k], saved, 16);
            munmap(mine[k], len[k]);
        }
    return NULL;
}

static void *reader(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
        struct ledger_totals t;
        struct reconcile rc;
        pthread_mutex_lock(&osh_fs->report_mu);
        ledger_lock();
        ledger_totals(&t);
        reconcile_scan(&rc);
        size_t seen = 0;
        uintptr_t end = 0;
        for (const struct range *r = ledger_first(); r; r = ledger_next(r), seen++) {
            if (r->lo < end || r->hi <= r->lo) misordered = 1;
            end = r->hi;
        }
        if (seen != t.nranges) misordered = 1;
        ledger_unlock();
        pthread_mutex_unlock(&osh_fs->report_mu);
        usleep(20000); /* a report now and then, as in a real program */
    }
    return NULL;
}

int main(void)
{
    ledger_init();
    pthread_t w[8], rd[2];
    for (int i = 0; i < 2; i++) pthread_create(&rd[i], NULL, reader, NULL);
    for (int i = 0; i < 8; i++) pthread_create(&w[i], NULL, writer, (void *)(uintptr_t)(i + 1));
    for (int i = 0; i < 8; i++) pthread_join(w[i], NULL);
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 2; i++) pthread_join(rd[i], NULL);
    struct ledger_totals t;
    ledger_lock();
    ledger_totals(&t);
    ledger_unlock();
    printf("ranges left %zu, committed %lld%s\n", t.nranges, (long long)t.committed,
           misordered ? ", ranges out of order" : "");
    return t.nranges == 0 && t.committed == 0 && !misordered ? 0 : 1;
}

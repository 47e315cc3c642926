/* The shim's own heap (see heap.h): size classes of 32 bytes to 4 KiB carved from
 * 64 KiB chunks mapped with the shim's raw mmap, a free list per class, and one
 * mapping of its own for anything larger. What it serves is the ledger's: tree
 * nodes and thread records, all small and of a few fixed sizes, so a general
 * allocator buys nothing here, and Debian's jemalloc, the previous private heap,
 * brought 2 MiB of static data (its emap root, je_arena_emap_global) and 8 MiB of
 * address space once started into every process: address space and mappings that
 * move the program's own failure points under RLIMIT_AS and vm.max_map_count.
 * Nothing is given back to the kernel except the large blocks: the ledger's
 * population is bounded by the program's mappings and its recycled thread records. */
#include "heap.h"
#include "compiler.h"

#include <string.h>
#include <sys/mman.h>

#include "rawsys.h"

/* The lock: the runtime's (heap_use_lock), which its fork handling keeps usable in a
 * child; this one until then. */
static pthread_mutex_t own_mu = PTHREAD_MUTEX_INITIALIZER;
/* written by heap_use_lock in the constructor: with the rest start writes (sections.h) */
OSH_HOT static pthread_mutex_t *heap_mu = &own_mu;
static inline pthread_mutex_t *lock(void) { return __atomic_load_n(&heap_mu, __ATOMIC_ACQUIRE); }
void heap_use_lock(pthread_mutex_t *mu) { __atomic_store_n(&heap_mu, mu, __ATOMIC_RELEASE); }

#define HEAP_CHUNK (64 * 1024)
#define HEAP_MIN_SHIFT 5  /* 32 bytes */
#define HEAP_NCLASS 8     /* 32 .. 4096 */
#define HEAP_HDR 16       /* keeps every block 16-byte aligned */
_Static_assert(OSH_HEAP_SMALL_MAX + HEAP_HDR == (1 << (HEAP_MIN_SHIFT + HEAP_NCLASS - 1)), "the largest class");

struct block_hdr {
    uint64_t size; /* the class's size, or the whole mapping's for a large block */
    uint64_t large;
};

struct free_block {
    struct free_block *next;
};

static struct free_block *free_list[HEAP_NCLASS];
/* Where the heap's memory lies, for the footprint (footprint.c): chunks merge with
 * a neighbour (the kernel places a new mapping just below the last one). */
#define HEAP_EXTENTS 32
static struct {
    uintptr_t lo, hi;
} extents[HEAP_EXTENTS];
static int nextents;

static void extent_add(uintptr_t lo, uintptr_t hi)
{
    for (int i = 0; i < nextents; i++) {
        if (extents[i].lo == hi) return (void)(extents[i].lo = lo);
        if (extents[i].hi == lo) return (void)(extents[i].hi = hi);
    }
    if (nextents < HEAP_EXTENTS) extents[nextents].lo = lo, extents[nextents++].hi = hi;
}

static void extent_remove(uintptr_t lo, uintptr_t hi)
{
    for (int i = 0; i < nextents; i++) {
        if (extents[i].lo == lo && extents[i].hi == hi) {
            extents[i] = extents[--nextents];
            return;
        }
        if (extents[i].lo == lo && extents[i].hi > hi) return (void)(extents[i].lo = hi);
        if (extents[i].hi == hi && extents[i].lo < lo) return (void)(extents[i].hi = lo);
    }
}

int heap_extents(uintptr_t *out, int max)
{
    pthread_mutex_lock(lock());
    int n = 0;
    for (int i = 0; i < nextents && n < max; i++, n++) out[2 * n] = extents[i].lo, out[2 * n + 1] = extents[i].hi;
    pthread_mutex_unlock(lock());
    return n;
}
static char *bump, *bump_end;
int64_t osh_heap_mapped;

static int class_of(size_t total)
{
    int c = 0;
    while (c < HEAP_NCLASS && ((size_t)1 << (c + HEAP_MIN_SHIFT)) < total) c++;
    return c; /* HEAP_NCLASS: large */
}

static void *map(size_t len)
{
    void *p = raw_mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    __atomic_add_fetch(&osh_heap_mapped, (int64_t)len, __ATOMIC_RELAXED);
    extent_add((uintptr_t)p, (uintptr_t)p + len);
    return p;
}

/* A block of class c, zeroed. Lock held. */
static void *take(int c)
{
    size_t sz = (size_t)1 << (c + HEAP_MIN_SHIFT);
    struct free_block *f = free_list[c];
    if (f) {
        free_list[c] = f->next;
        memset(f, 0, sz);
        return f;
    }
    if ((size_t)(bump_end - bump) < sz) {
        /* the chunk's tail goes to the smaller classes' free lists, not to waste */
        for (int k = c - 1; k >= 0 && bump; k--) {
            size_t ks = (size_t)1 << (k + HEAP_MIN_SHIFT);
            while ((size_t)(bump_end - bump) >= ks) {
                struct free_block *t = (struct free_block *)bump;
                t->next = free_list[k];
                free_list[k] = t;
                bump += ks;
            }
        }
        char *chunk = map(HEAP_CHUNK);
        if (!chunk) return NULL;
        bump = chunk;
        bump_end = chunk + HEAP_CHUNK;
    }
    void *p = bump; /* fresh anonymous memory: already zero */
    bump += sz;
    return p;
}

static void *alloc_locked(size_t size)
{
    if (size > (size_t)1 << 40) return NULL;
    size_t total = size + HEAP_HDR;
    int c = class_of(total);
    struct block_hdr *h;
    if (c < HEAP_NCLASS) {
        h = take(c);
        if (!h) return NULL;
        h->size = (uint64_t)1 << (c + HEAP_MIN_SHIFT);
        h->large = 0;
    } else {
        size_t len = (total + 4095) & ~(size_t)4095;
        h = map(len);
        if (!h) return NULL;
        h->size = len;
        h->large = 1;
    }
    return (char *)h + HEAP_HDR;
}

static void free_locked(void *p)
{
    if (!p) return;
    struct block_hdr *h = (struct block_hdr *)((char *)p - HEAP_HDR);
    if (h->large) {
        size_t len = (size_t)h->size;
        if (raw_munmap(h, len) == 0) {
            __atomic_sub_fetch(&osh_heap_mapped, (int64_t)len, __ATOMIC_RELAXED);
            extent_remove((uintptr_t)h, (uintptr_t)h + len);
        }
        return;
    }
    int c = class_of((size_t)h->size);
    struct free_block *f = (struct free_block *)h;
    f->next = free_list[c];
    free_list[c] = f;
}

void *osh_heap_alloc(size_t size)
{
    pthread_mutex_lock(lock());
    void *p = alloc_locked(size);
    pthread_mutex_unlock(lock());
    return p;
}

void *osh_heap_realloc(void *p, size_t size)
{
    if (!p) return osh_heap_alloc(size);
    pthread_mutex_lock(lock());
    struct block_hdr *h = (struct block_hdr *)((char *)p - HEAP_HDR);
    size_t have = (size_t)h->size - HEAP_HDR;
    void *n = p;
    if (size > have) {
        n = alloc_locked(size);
        if (n) {
            memcpy(n, p, have);
            free_locked(p);
        }
    }
    pthread_mutex_unlock(lock());
    return n;
}

void osh_heap_free(void *p)
{
    pthread_mutex_lock(lock());
    free_locked(p);
    pthread_mutex_unlock(lock());
}

void heap_prefork(void) { pthread_mutex_lock(lock()); }
void heap_postfork_parent(void) { pthread_mutex_unlock(lock()); }

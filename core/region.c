/* Region kinds from frame names (see region.h). */
#include "region.h"

#include <string.h>
#include <sys/mman.h>

static const char json_names[][24] = { /* arrays, not pointers: no relocation at load */
#define REGION(id, json, nmt, words) json,
#include "region.def"
#undef REGION
};
static const char nmt_names[][24] = {
#define REGION(id, json, nmt, words) nmt,
#include "region.def"
#undef REGION
};
static const char word_names[][48] = {
#define REGION(id, json, nmt, words) words,
#include "region.def"
#undef REGION
};

const char *region_json_name(int k) { return k >= 0 && k < REGION_NKINDS ? json_names[k] : "other"; }
const char *region_nmt(int k) { return k >= 0 && k < REGION_NKINDS ? nmt_names[k] : ""; }
const char *region_words(int k) { return k >= 0 && k < REGION_NKINDS ? word_names[k] : "memory"; }

int region_from_json(const char *name)
{
    for (int k = 0; k < REGION_NKINDS; k++)
        if (!strcmp(name, json_names[k])) return k;
    return -1;
}

/* Substrings of function names (identifiers appear as they are in mangled names too),
 * tried on each frame from the innermost out; the first frame with a match decides.
 * Inner rules first: G1's card table and bitmaps are reserved under
 * G1CollectedHeap::initialize, whose own heap reservation is Universe::reserve_heap. */
static const struct rule {
    char s[28]; /* in the entry, not a pointer: no relocation at load */
    int kind;
} rules[] = {
    {"Unsafe_AllocateMemory", REGION_DIRECT_BUFFER},
    {"Unsafe_ReallocateMemory", REGION_DIRECT_BUFFER},
    {"FileChannelImpl_map0", REGION_MAPPED_FILE},
    {"MappedByteBuffer", REGION_MAPPED_FILE},
    {"FileMapInfo", REGION_CDS_ARCHIVE},
    {"MetaspaceShared", REGION_CDS_ARCHIVE},
    {"CodeCache", REGION_CODE_CACHE},
    {"CodeHeap", REGION_CODE_CACHE},
    {"CompressedClassSpace", REGION_CLASS_SPACE},
    {"compressed_class", REGION_CLASS_SPACE},
    {"initialize_class_space", REGION_CLASS_SPACE},
    {"etaspace", REGION_METASPACE}, /* Metaspace::, metaspace:: */
    {"VirtualSpaceNode", REGION_METASPACE},
    {"CardTable", REGION_GC_DATA},
    {"CMBitMap", REGION_GC_DATA},
    {"MarkBitMap", REGION_GC_DATA},
    {"aux_memory_mapper", REGION_GC_DATA},
    {"MarkStack", REGION_GC_DATA},
    {"FromCardCache", REGION_GC_DATA},
    {"BlockOffset", REGION_GC_DATA},
    {"ParallelCompactData", REGION_GC_DATA},
    {"RegionMarkStat", REGION_GC_DATA},
    {"CardSet", REGION_GC_DATA},
    {"ShenandoahCollectionSet", REGION_GC_DATA},
    {"reserve_heap", REGION_JAVA_HEAP},
    {"CollectedHeap", REGION_JAVA_HEAP},
    {"G1PageBasedVirtualSpace", REGION_JAVA_HEAP},
    {"HeapRegionManager", REGION_JAVA_HEAP},
    {"PSVirtualSpace", REGION_JAVA_HEAP},
    {"ParallelScavengeHeap", REGION_JAVA_HEAP},
    {"SerialHeap", REGION_JAVA_HEAP},
    {"CardGeneration", REGION_JAVA_HEAP},
    {"ShenandoahHeap", REGION_JAVA_HEAP},
    {"ZPhysicalMemory", REGION_JAVA_HEAP},
    {"XPhysicalMemory", REGION_JAVA_HEAP},
    {"ZPageAllocator", REGION_JAVA_HEAP},
    {"XPageAllocator", REGION_JAVA_HEAP},
    {"universe_init", REGION_JAVA_HEAP},
    {"create_thread", REGION_THREAD_STACK},
    {"pthread_create", REGION_THREAD_STACK},
    {"create_stack_guard_pages", REGION_THREAD_STACK},
    {"StackOverflow", REGION_THREAD_STACK},
};

static const struct gc_mark {
    char s[20], gc[12];
} gcs[] = {
    {"G1", "G1"},
    {"ParallelScavenge", "Parallel"},
    {"PSVirtualSpace", "Parallel"},
    {"PSOldGen", "Parallel"},
    {"PSYoungGen", "Parallel"},
    {"SerialHeap", "Serial"},
    {"DefNewGeneration", "Serial"},
    {"TenuredGeneration", "Serial"},
    {"Shenandoah", "Shenandoah"},
    {"ZPhysical", "Z"},
    {"ZPage", "Z"},
    {"ZCollectedHeap", "Z"},
    {"XPhysical", "Z"},
    {"XPage", "Z"},
    {"XCollectedHeap", "Z"},
};

void region_classify(const char *const *names, int n, int flags, int fd, int is_malloc, struct region_class *out)
{
    out->kind = -1;
    out->gc = NULL;
    out->frame = -1;
    for (int i = 0; i < n && out->kind < 0; i++) {
        if (!names[i]) continue;
        for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++)
            if (strstr(names[i], rules[r].s)) {
                out->kind = rules[r].kind;
                out->frame = i;
                break;
            }
    }
    for (int i = 0; i < n && !out->gc; i++) {
        if (!names[i]) continue;
        for (size_t g = 0; g < sizeof gcs / sizeof gcs[0]; g++)
            if (strstr(names[i], gcs[g].s)) {
                out->gc = gcs[g].gc;
                break;
            }
    }
    if (out->kind >= 0 && out->kind != REGION_JAVA_HEAP && out->kind != REGION_GC_DATA) out->gc = NULL;
    if (out->kind >= 0) return;
    out->gc = NULL;
    if (is_malloc) out->kind = REGION_MALLOC_ARENA;
    else if ((flags & MAP_SHARED) && ((flags & MAP_ANONYMOUS) || fd < 0)) out->kind = REGION_SHARED_MEMORY;
    else if (!(flags & MAP_ANONYMOUS) && fd >= 0) out->kind = REGION_MAPPED_FILE;
    else if (flags & MAP_STACK) out->kind = REGION_THREAD_STACK;
    else out->kind = REGION_OTHER;
}

int region_is_reservation(size_t len, int prot, int flags, int inside_known)
{
    if ((flags & MAP_FIXED) && inside_known) return 0;
    return prot == PROT_NONE || (flags & MAP_NORESERVE) || len >= (1u << 20);
}

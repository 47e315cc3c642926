/* Region kinds from frame names (core/region.c), HotSpot's hs_err text (sys/hserr.c),
 * and frame names read from a module's own file (sys/symtab.c). */
#include <criterion/criterion.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hserr.h"
#include "region.h"
#include "symtab.h"

static int kind_of(const char *const *names, int n, int flags, int fd, int is_malloc, const char **gc)
{
    struct region_class c;
    region_classify(names, n, flags, fd, is_malloc, &c);
    if (gc) *gc = c.gc;
    return c.kind;
}

Test(region, names_table_round_trips)
{
    for (int k = 0; k < REGION_NKINDS; k++) cr_expect_eq(region_from_json(region_json_name(k)), k);
    cr_expect_eq(region_from_json("nonsense"), -1);
    cr_expect_str_eq(region_json_name(REGION_JAVA_HEAP), "java_heap");
    cr_expect_str_eq(region_nmt(REGION_JAVA_HEAP), "Java Heap");
    cr_expect_str_eq(region_nmt(REGION_CODE_CACHE), "Code");
    cr_expect_str_eq(region_nmt(REGION_MALLOC_ARENA), "", "NMT does not see glibc's arenas");
}

Test(region, hotspot_reservations)
{
    /* G1's heap: Universe::reserve_heap under G1CollectedHeap::initialize */
    const char *heap[] = {"_ZN2os15reserve_memoryEmbh", "_ZN13ReservedSpace10initializeEmmmPcb",
                          "_ZN8Universe12reserve_heapEmm", "_ZN15G1CollectedHeap10initializeEv", "JNI_CreateJavaVM"};
    const char *gc = NULL;
    cr_expect_eq(kind_of(heap, 5, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0, &gc), REGION_JAVA_HEAP);
    cr_expect_str_eq(gc, "G1");
    /* its bitmaps, under the same G1CollectedHeap::initialize: the inner frame decides */
    const char *aux[] = {"_ZN13ReservedSpaceC1Emm", "_ZN15G1CollectedHeap25create_aux_memory_mapperEPKcmm",
                         "_ZN15G1CollectedHeap10initializeEv"};
    cr_expect_eq(kind_of(aux, 3, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, NULL), REGION_GC_DATA);
    const char *code[] = {NULL, "_ZN9CodeCache16initialize_heapsEv"};
    cr_expect_eq(kind_of(code, 2, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, &gc), REGION_CODE_CACHE);
    cr_expect_null(gc, "a collector only for heap kinds");
    const char *ccs[] = {"_ZN9Metaspace48reserve_address_space_for_compressed_classesEmb"};
    cr_expect_eq(kind_of(ccs, 1, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, NULL), REGION_CLASS_SPACE);
    const char *meta[] = {"_ZN9metaspace16VirtualSpaceNode11create_nodeEmPNS_16CommitLimiterEPmS3_"};
    cr_expect_eq(kind_of(meta, 1, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, NULL), REGION_METASPACE);
    const char *par[] = {"_ZN20ParallelScavengeHeap10initializeEv"};
    cr_expect_eq(kind_of(par, 1, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, &gc), REGION_JAVA_HEAP);
    cr_expect_str_eq(gc, "Parallel");
    const char *z[] = {"_ZN23ZPhysicalMemoryBacking6commitEmm", "_ZN15ZPageAllocator5allocEv"};
    cr_expect_eq(kind_of(z, 2, MAP_SHARED | MAP_FIXED, 5, 0, &gc), REGION_JAVA_HEAP);
    cr_expect_str_eq(gc, "Z");
}

Test(region, refused_calls_from_their_frames_or_arguments)
{
    const char *direct[] = {"_ZN2os6mallocEm8MEMFLAGS", "Unsafe_AllocateMemory0"};
    cr_expect_eq(kind_of(direct, 2, 0, -1, 1, NULL), REGION_DIRECT_BUFFER);
    const char *plain[] = {"some_function", NULL};
    cr_expect_eq(kind_of(plain, 2, 0, -1, 1, NULL), REGION_MALLOC_ARENA);
    cr_expect_eq(kind_of(plain, 2, MAP_SHARED | MAP_ANONYMOUS, -1, 0, NULL), REGION_SHARED_MEMORY);
    cr_expect_eq(kind_of(plain, 2, MAP_SHARED, 7, 0, NULL), REGION_MAPPED_FILE);
    cr_expect_eq(kind_of(plain, 2, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0, NULL), REGION_THREAD_STACK);
    cr_expect_eq(kind_of(plain, 2, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, NULL), REGION_OTHER);
    cr_expect_eq(kind_of(NULL, 0, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, NULL), REGION_OTHER);
    const char *thr[] = {"_ZN2os13create_threadEP6ThreadNS_10ThreadTypeEm", "JVM_StartThread"};
    cr_expect_eq(kind_of(thr, 2, 0, -1, 0, NULL), REGION_THREAD_STACK);
}

Test(region, what_is_a_reservation)
{
    cr_expect(region_is_reservation(4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, 0));
    cr_expect(region_is_reservation(4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, 0));
    cr_expect(region_is_reservation(1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, 0));
    cr_expect(!region_is_reservation(64 << 10, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, 0));
    /* HotSpot's commit and uncommit inside a recorded reservation */
    cr_expect(!region_is_reservation(512 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, 1));
    cr_expect(!region_is_reservation(512 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, 1));
    cr_expect(region_is_reservation(512 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, 0));
}

static const char hs_sample[] =
    "#\n# There is insufficient memory for the Java Runtime Environment to continue.\n#\n\n"
    "---------------  T H R E A D  ---------------\n\n"
    "Current thread (0x00007f58a0012345):  JavaThread \"main\" [_thread_in_vm, id=4044, stack(0x1,0x2)]\n\n"
    "Stack: [0x1,0x2],  sp=0x3,  free space=1013k\n"
    "Native frames: (J=compiled Java code, j=interpreted, Vv=VM code, C=native code)\n"
    "V  [libjvm.so+0xf21801]  VMError::report_and_die(...)+0x171\n"
    "j  Advice.main([Ljava/lang/String;)V+318\n"
    "v  ~StubRoutines::call_stub\n"
    "\n"
    "Java frames: (J=compiled Java code, j=interpreted, Vv=VM code)\n"
    "j  Advice.main([Ljava/lang/String;)V+318\n"
    "v  ~StubRoutines::call_stub\n"
    "\n"
    "---------------  P R O C E S S  ---------------\n";

Test(hserr, thread_and_java_frames)
{
    static struct hserr h;
    cr_expect_eq(hserr_parse(hs_sample, sizeof hs_sample - 1, &h), 2);
    cr_expect_str_eq(h.thread, "JavaThread \"main\" [_thread_in_vm, id=4044, stack(0x1,0x2)]");
    cr_expect_str_eq(h.frames[0], "j  Advice.main([Ljava/lang/String;)V+318");
    cr_expect_str_eq(h.frames[1], "v  ~StubRoutines::call_stub");
    /* without a "Java frames:" section: the j/J lines of the native frames */
    const char *cut = strstr(hs_sample, "Java frames:");
    cr_expect_eq(hserr_parse(hs_sample, (size_t)(cut - hs_sample), &h), 1);
    cr_expect_str_eq(h.frames[0], "j  Advice.main([Ljava/lang/String;)V+318");
    /* a VM thread: no Java frames; nothing at all from text that is not an hs_err file */
    static const char vm[] = "\nCurrent thread (0x1):  VMThread \"VM Thread\" [id=1]\n\nNative frames: (x)\nV  [libjvm.so+0x1]\n\n";
    cr_expect_eq(hserr_parse(vm, sizeof vm - 1, &h), 0);
    cr_expect_str_eq(h.thread, "VMThread \"VM Thread\" [id=1]");
    cr_expect_eq(hserr_parse("garbage", 7, &h), 0);
    cr_expect_str_eq(h.thread, "");
}

/* --- symtab ----------------------------------------------------------------------- */

__attribute__((noinline, used)) int region_test_local_function(int x) { return x * 3 + 1; }

static int main_object(struct dl_phdr_info *info, size_t size, void *p)
{
    (void)size;
    *(uintptr_t *)p = info->dlpi_addr;
    return 1; /* the first object is the program */
}

Test(symtab, names_a_local_function_of_the_program_from_its_file)
{
    uintptr_t base = 0;
    dl_iterate_phdr(main_object, &base);
    static char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    cr_assert_gt(n, 0);
    exe[n] = 0;
    struct frame f[2];
    memset(f, 0, sizeof f);
    f[0].module = exe;
    f[0].offset = (uintptr_t)region_test_local_function - base + 5; /* a return address inside it */
    f[1].module = exe;
    f[1].offset = 1; /* no function there */
    static char pool[4096];
    cr_expect_eq(symtab_name_frames(f, 2, pool, sizeof pool), 1);
    cr_expect_str_eq(f[0].symbol, "region_test_local_function");
    cr_expect_eq(f[0].symbol_offset, 5);
    cr_expect_eq(f[0].symbol_from, FRAME_SYM_SYMTAB);
    cr_expect_null(f[1].symbol);
    /* a build-id that is not the file's: no name */
    static const uint8_t other[20] = {1, 2, 3};
    memset(f, 0, sizeof f);
    f[0].module = exe;
    f[0].offset = (uintptr_t)region_test_local_function - base + 5;
    f[0].build_id = other;
    f[0].build_id_len = 20;
    cr_expect_eq(symtab_name_frames(f, 1, pool, sizeof pool), 0);
    cr_expect_null(f[0].symbol);
    /* a file that is not there, and a pool too small for any name */
    f[0].module = "/nonexistent/lib.so";
    f[0].build_id = NULL;
    f[0].build_id_len = 0;
    cr_expect_eq(symtab_name_frames(f, 1, pool, sizeof pool), 0);
    f[0].module = exe;
    cr_expect_eq(symtab_name_frames(f, 1, pool, 8), 0);
    cr_expect_null(f[0].symbol);
}

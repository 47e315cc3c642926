/* Issue 14: the words and numbers around a verdict. Remedies in the terms of the program
 * that was refused, the per-cpu band from the field's own numbers, the fork bound from the
 * model, sums that add up, a stable key on every term of every cause, names demangled
 * without malloc, and the parsers that tell what the program is. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "demangle.h"
#include "diagnose.h"
#include "options.h"
#include "runtime.h"

static struct live_state box(const char *rel, int mode)
{
    struct live_state s;
    memset(&s, 0, sizeof s);
    cr_assert_eq(kmodel_parse_release(rel, &s.k), 0);
    s.in = (struct kmodel_input){.page_kb = 4, .overcommit_memory = mode, .overcommit_ratio = 50,
                                 .admin_reserve_kbytes = 8192, .user_reserve_kbytes = 131072,
                                 .totalram = 1000000, .total_swap = 0, .nr_free = 500000, .file_pages = 100000,
                                 .totalreserve = 20000, .committed = 400000, .ncpus = 2};
    s.mi.MemTotal = 4000000;
    s.max_map_count = 65530;
    s.map_count = 100;
    s.vm_size_pages = 10000;
    s.vm_data_pages = 2000;
    s.rlim_as = s.rlim_data = s.rlim_nproc = s.rlim_stack = s.rlim_data_max = LS_UNLIMITED;
    s.threads_max = 100000;
    s.pid_max = 4194304;
    s.nr_tasks = 200;
    s.user_tasks = 5;
    s.pids_max = s.pids_current = -1;
    s.ruid = 1000;
    s.proc_ac_pages = -1;
    return s;
}

static struct failed_call mmap_call(uint64_t len, int prot, int flags)
{
    return (struct failed_call){.id = CALL_MMAP, .a = {0, len, (uint64_t)prot, (uint64_t)flags, (uint64_t)-1, 0},
                                .err = ENOMEM};
}

static int any_remedy(const struct diagnosis *d, const char *needle)
{
    for (int i = 0; i < d->nremedies; i++)
        if (strstr(d->remedies[i], needle)) return 1;
    return 0;
}

static void all_remedies(const struct diagnosis *d, char *out, size_t cap)
{
    out[0] = 0;
    for (int i = 0; i < d->nremedies; i++) {
        strncat(out, d->remedies[i], cap - strlen(out) - 2);
        strncat(out, "\n", cap - strlen(out) - 1);
    }
}

/* docs/field-notes.md §2: a real mode-2 kernel refused a request one page above the largest it
 * accepted. 2 GiB, 2-vCPU guest (batch 982): Committed_AS 6276, request 244602, allowed
 * 251456; by the exact sum 578 pages to spare. The box below gives the same allowed:
 * 502900 * 50 / 100 = 251450, + 2304 swap - 2048 admin - min(8000/32, 32768) = 251456. */
static struct live_state field_band_box(void)
{
    struct live_state s = box("6.1.0-13-amd64", 2);
    s.in.totalram = 502900;
    s.in.total_swap = 2304;
    s.in.committed = 6276;
    s.vm_size_pages = 8000;
    return s;
}

Test(band, field_numbers_within_the_per_cpu_band)
{
    struct live_state s = field_band_box();
    cr_expect_eq(kmodel_committed_batch(&s.k, 2, 2, s.in.totalram), 982);
    cr_expect_eq(kmodel_band_pages(&s.k, &s.in), 1964);
    struct failed_call fc = mmap_call(244602ull * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    struct diagnosis d;
    diagnose(&fc, &s, NULL, &d);
    cr_assert_str_eq(cause_name(d.cause), "overcommit_never");
    cr_expect_eq(d.limit_pages, 251456);
    cr_expect_eq(d.committed_pages, 6276);
    cr_expect(d.within_band);
    cr_expect_eq(d.band_pages, 1964);
    cr_expect_eq(d.batch_pages, 982);
    /* 6276 + 244602 + 1964 + 1 - 251456: the pages less certain to pass */
    cr_expect_eq(d.shortfall_pages, 1387);
    cr_expect(strstr(d.explanation, "within that band") && strstr(d.explanation, "578 pages below"), "%s",
              d.explanation);
    char all[8192];
    all_remedies(&d, all, sizeof all);
    /* 251456 - 6276 - 1964 - 1 = 243215 pages = 950.06 MiB: rounded down */
    cr_expect(strstr(all, "this request at most 950 MiB"), "%s", all);
    cr_expect(strstr(all, "release 6 MiB"), "1387 pages = 5.4 MiB, rounded up: %s", all);
    cr_expect(strstr(all, "from 50 to at least 51"), "%s", all);
    cr_expect(!strstr(all, "-1 MiB") && !strstr(all, "from 50 to at least 50") && !strstr(all, "957 MiB"), "%s", all);
    /* each remedy, applied, clears the band: checked with the model itself */
    struct kverdict v;
    struct kmodel_input in = s.in;
    in.committed = 6276 + 1964; /* the read the kernel may have seen */
    kmodel_vm_enough_memory(&s.k, &in, 950ll * 256, s.vm_size_pages, &v);
    cr_expect(!v.refused, "950 MiB passes whatever the counter's error");
    in.committed = 6276 + 1964 - 6 * 256;
    kmodel_vm_enough_memory(&s.k, &in, 244602, s.vm_size_pages, &v);
    cr_expect(!v.refused, "6 MiB released: the request passes whatever the counter's error");
    in = s.in;
    in.committed += 1964;
    in.overcommit_ratio = 51;
    kmodel_vm_enough_memory(&s.k, &in, 244602, s.vm_size_pages, &v);
    cr_expect(!v.refused, "overcommit_ratio 51: passes");
}

Test(band, none_in_the_simulator_nor_before_5_9)
{
    struct live_state s = field_band_box();
    s.model_exact = 1; /* the simulator's count is the check's own */
    struct failed_call fc = mmap_call(244602ull * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    struct diagnosis d;
    diagnose(&fc, &s, NULL, &d);
    cr_expect_str_eq(cause_name(d.cause), "unknown", "by the exact count it fits");
    struct kmodel_kernel k;
    kmodel_parse_release("5.4.0", &k);
    cr_expect_eq(kmodel_band_pages(&k, &s.in), 0, "meminfo reads the same global part as the check");
    kmodel_parse_release("3.10.0-1160.el7.x86_64", &k);
    cr_expect_eq(kmodel_band_pages(&k, &s.in), 0);
    /* a plain refusal on 5.9+ still sizes its remedies below the band */
    s = field_band_box();
    s.in.committed = 10000;
    diagnose(&fc, &s, NULL, &d);
    cr_expect_str_eq(cause_name(d.cause), "overcommit_never");
    cr_expect(!d.within_band);
    cr_expect_eq(d.shortfall_pages, 10000 + 244602 + 1964 + 1 - 251456);
}

/* docs/field-notes.md §2: "a parent with at most 397 MiB could fork" took allowed - Committed_AS;
 * the parent's own charge falls with it, so the bound is about (allowed - the rest) / 2. */
Test(fork, bound_counts_the_parents_own_charge)
{
    struct live_state s = box("6.18.0", 2);
    /* allowed = 500000 - 2048 - min(VmSize/32, 32768); rest 200000, parent 200000 */
    s.in.committed = 400000;
    s.vm_size_pages = 210000;
    struct failed_call fc = {.id = CALL_FORK, .err = ENOMEM};
    struct smaps_facts f = {.ac_total_pages = 200000, .ac_largest_pages = 150000, .ac_vmas = 10};
    struct diagnosis d;
    diagnose(&fc, &s, &f, &d);
    cr_assert_str_eq(cause_name(d.cause), "overcommit_never");
    int64_t b = d.fork_bound_pages;
    /* 200000 + 2x + (band 2 x 1953) < 500000 - 2048 - (210000 - 200000 + x)/32 */
    cr_expect(b > 140000 && b < 150000, "about (allowed - the rest) / 2: %lld", (long long)b);
    cr_expect_eq(diagnose_fork_bound(&s, 200000, d.band_pages), b);
    struct kmodel_input in = s.in;
    struct kverdict v;
    in.committed = 200000 + b + d.band_pages;
    kmodel_vm_enough_memory(&s.k, &in, b, 10000 + b, &v);
    cr_expect(!v.refused, "a parent of the bound forks");
    in.committed = 200000 + b + 1 + d.band_pages;
    kmodel_vm_enough_memory(&s.k, &in, b + 1, 10000 + b + 1, &v);
    cr_expect(v.refused, "one page more does not");
    char want[64];
    snprintf(want, sizeof want, "a parent with at most %lld MiB", (long long)(b / 256));
    cr_expect(any_remedy(&d, want), "%s / %s", want, d.remedies[0]);
    cr_expect(!any_remedy(&d, "release -"));
}

/* --- remedies in the program's own terms ----------------------------------- */

static const char *const foreign_java[] = {"java", "-Xs", "-Xm", "-XX", "JVM", NULL};
static const char *const foreign_python[] = {"python", "multiprocessing", "threading.", "ThreadPoolExecutor",
                                              "concurrent.futures", NULL};
static const char *const foreign_node[] = {"node", "worker_threads", "UV_THREADPOOL", "child_process", NULL};

static void expect_none(const struct diagnosis *d, const char *const *words, const char *what)
{
    char all[8192];
    all_remedies(d, all, sizeof all);
    for (int i = 0; words[i]; i++) cr_expect(!strstr(all, words[i]), "%s: '%s' in:\n%s", what, words[i], all);
}

static void runtime_case(int rt, const char *name)
{
    struct live_state base = box("6.18.0", 0);
    base.prog.runtime = rt;
    struct diagnosis d;
    struct live_state s;
    /* fork and a thread under RLIMIT_NPROC */
    s = base;
    s.rlim_nproc = 5;
    struct failed_call fork = {.id = CALL_FORK, .err = EAGAIN};
    diagnose(&fork, &s, NULL, &d);
    cr_assert_str_eq(cause_name(d.cause), "thread_limit", "%s fork", name);
    cr_expect(any_remedy(&d, "ulimit -u"), "%s fork", name);
    struct failed_call thr = {.id = CALL_PTHREAD_CREATE, .a = {0, 8u << 20}, .err = EAGAIN};
    struct diagnosis d2;
    diagnose(&thr, &s, NULL, &d2);
    cr_assert_str_eq(cause_name(d2.cause), "thread_limit", "%s thread", name);
    /* a thread, an mmap and a malloc under RLIMIT_AS */
    s = base;
    s.rlim_as = (10000ll + 1000) * 4096;
    struct diagnosis d3, d4, d5;
    diagnose(&thr, &s, NULL, &d3);
    cr_assert_str_eq(cause_name(d3.cause), "rlimit_as", "%s thread", name);
    struct failed_call mm = mmap_call(64ull << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
    diagnose(&mm, &s, NULL, &d4);
    cr_assert_str_eq(cause_name(d4.cause), "rlimit_as");
    struct failed_call ma = {.id = CALL_MALLOC, .a = {64ull << 20}, .err = ENOMEM};
    diagnose(&ma, &s, NULL, &d5);
    cr_assert_str_eq(cause_name(d5.cause), "rlimit_as");
    /* a private writable mmap larger than RAM + swap */
    s = base;
    struct diagnosis d6;
    struct failed_call big = mmap_call(1000001ull * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    diagnose(&big, &s, NULL, &d6);
    cr_assert_str_eq(cause_name(d6.cause), "overcommit_guess");
    cr_expect(any_remedy(&d6, "MAP_NORESERVE"), "a reservation: MAP_NORESERVE (%s)", name);
    const struct diagnosis *all[] = {&d, &d2, &d3, &d4, &d5, &d6};
    for (size_t i = 0; i < 6; i++) {
        if (rt != RT_JVM) expect_none(all[i], foreign_java, name);
        if (rt != RT_PYTHON) expect_none(all[i], foreign_python, name);
        if (rt != RT_NODE) expect_none(all[i], foreign_node, name);
    }
    if (rt == RT_JVM) cr_expect(any_remedy(&d3, "-Xss"), "a Java thread refused by RLIMIT_AS: -Xss");
    if (rt == RT_PYTHON) {
        cr_expect(any_remedy(&d, "multiprocessing"), "%s", d.remedies[1]);
        cr_expect(any_remedy(&d3, "threading.stack_size"));
    }
    if (rt == RT_NODE) cr_expect(any_remedy(&d2, "worker_threads"));
    if (rt == RT_NATIVE) {
        cr_expect(any_remedy(&d, "fewer processes or a smaller pool"));
        cr_expect(any_remedy(&d3, "pthread_attr_setstacksize"));
    }
}

Test(runtime, a_c_program_gets_generic_words) { runtime_case(RT_NATIVE, "C"); }
Test(runtime, python_gets_its_own_words) { runtime_case(RT_PYTHON, "python"); }
Test(runtime, node_gets_its_own_words) { runtime_case(RT_NODE, "node"); }
Test(runtime, a_jvm_gets_jvm_flags) { runtime_case(RT_JVM, "java"); }

Test(runtime, systemd_service_limits)
{
    struct live_state s = box("6.18.0", 0);
    snprintf(s.prog.service, sizeof s.prog.service, "billing.service");
    s.rlim_nproc = 5;
    struct failed_call fork = {.id = CALL_FORK, .err = EAGAIN};
    struct diagnosis d;
    diagnose(&fork, &s, NULL, &d);
    cr_expect(any_remedy(&d, "LimitNPROC=64 in the [Service] section of billing.service"), "%s", d.remedies[0]);
    s.rlim_nproc = LS_UNLIMITED;
    s.rlim_as = (10000ll + 1000) * 4096;
    struct failed_call mm = mmap_call(64ull << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
    diagnose(&mm, &s, NULL, &d);
    cr_expect(any_remedy(&d, "LimitAS="), "%s", d.remedies[0]);
}

Test(jvm, heap_commit_direct_buffers_and_the_large_page_probe)
{
    struct live_state s = box("3.10.0-957.el7.x86_64", 0);
    s.prog.runtime = RT_JVM;
    s.prog.xms = 512ll << 20;
    struct failed_call heap = mmap_call(512ull << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
    heap.a[0] = 0xe0000000;
    s.in.nr_free = 50000; /* heuristic estimate below 512 MiB */
    s.in.file_pages = 0;
    struct diagnosis d;
    diagnose(&heap, &s, NULL, &d);
    cr_assert_str_eq(cause_name(d.cause), "overcommit_guess");
    cr_expect(any_remedy(&d, "for the Java heap, -Xms"), "%s", d.remedies[0]);
    /* the same mmap from a C program: no -Xms */
    s.prog.runtime = RT_NATIVE;
    diagnose(&heap, &s, NULL, &d);
    cr_expect(!any_remedy(&d, "-Xms"));
    /* a direct buffer's malloc under RLIMIT_DATA */
    s = box("6.18.0", 0);
    s.prog.runtime = RT_JVM;
    s.prog.java_malloc = 1;
    s.prog.malloc_live_bytes = 6ll << 20;
    s.rlim_data = (2000ll + 25600) * 4096; /* VmData + 100 MiB */
    struct failed_call m = {.id = CALL_MALLOC, .a = {1200ull << 20}, .err = ENOMEM};
    diagnose(&m, &s, NULL, &d);
    cr_assert_str_eq(cause_name(d.cause), "rlimit_data");
    cr_expect(any_remedy(&d, "-XX:MaxDirectMemorySize=106m"), "6 MiB held + 100 MiB free: %s", d.remedies[1]);
    /* HotSpot's -XX:+UseLargePages probe: a note, not a refusal */
    s = box("6.18.0", 0);
    s.prog.runtime = RT_JVM;
    s.hugepagesize_kb = 2048;
    struct failed_call hp = mmap_call(2u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB);
    diagnose(&hp, &s, NULL, &d);
    cr_expect_str_eq(cause_name(d.cause), "hugetlb");
    cr_expect(d.note);
    cr_expect(strstr(d.explanation, "goes on without large pages") && strstr(d.explanation, "-XX:-UseLargePages"),
              "%s", d.explanation);
    s.prog.runtime = RT_NATIVE; /* a C program's MAP_HUGETLB: a real refusal */
    diagnose(&hp, &s, NULL, &d);
    cr_expect(!d.note);
    s.prog.huge_fallback = 1; /* PostgreSQL's huge_pages = try goes on with normal pages: a note */
    struct failed_call pg = mmap_call(150994944, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB);
    diagnose(&pg, &s, NULL, &d);
    cr_expect_str_eq(cause_name(d.cause), "hugetlb");
    cr_expect(d.note);
    cr_expect_str_eq(d.note_kind, "hugetlb_fallback");
    cr_expect(any_remedy(&d, "huge_pages = off") && !any_remedy(&d, "MAP_NORESERVE"), "%s", d.remedies[0]);
    s.prog.huge_fallback = 0;
    diagnose(&hp, &s, NULL, &d);
    cr_expect(any_remedy(&d, "MAP_NORESERVE"));
}

/* A JVM refused in JNI_CreateJavaVM under ulimit -v: a limit for its whole start. */
Test(jvm, whole_start_under_rlimit_as)
{
    struct live_state s = box("6.18.0", 0);
    s.prog.runtime = RT_JVM;
    s.prog.jvm_starting = 1;
    s.prog.xmx = 64ll << 20;
    s.vm_size_pages = 214 * 256;
    s.rlim_as = 300000ll * 1024;
    struct failed_call cc = mmap_call(240ull << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
    struct diagnosis d;
    diagnose(&cc, &s, NULL, &d);
    cr_assert_str_eq(cause_name(d.cause), "rlimit_as");
    cr_expect(strstr(d.remedies[0], "whole start") && strstr(d.remedies[0], "heap 64 MiB") &&
                  strstr(d.remedies[0], "class space 1040 MiB"),
              "%s", d.remedies[0]);
    long long v = 0;
    const char *p = strstr(d.remedies[0], "ulimit -v ");
    cr_assert(p);
    v = atoll(p + 10);
    /* 214 + 240 + 64 + 1040 + 32 + 20 x 1028 KiB + 16 x 64 + 4: at least the reservations to come */
    cr_expect(v > (214 + 240 + 64 + 1040) * 1024ll, "%lld", v);
    cr_expect(v > 465188, "more than the failing call alone");
    cr_expect(any_remedy(&d, "MALLOC_ARENA_MAX=2"));
}

/* --- sums and words -------------------------------------------------------- */

Test(words, map_count_sums_add_up)
{
    struct live_state s = box("6.18.0", 0);
    s.map_count = 65531; /* do_mmap lets map_count reach max + 1 */
    struct failed_call fc = mmap_call(4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
    struct diagnosis d;
    diagnose(&fc, &s, NULL, &d);
    cr_assert_str_eq(cause_name(d.cause), "max_map_count");
    cr_expect_eq(d.committed_pages, 65531);
    cr_expect_eq(d.limit_pages, 65530);
    cr_expect_eq(d.request_pages, 1, "one new mapping");
    cr_expect_eq(d.shortfall_pages, 1, "65531 > 65530: one mapping fewer would have passed");
    cr_expect_eq(d.unit_kb, 0, "mappings have no size");
    s.map_count = 65530; /* at the limit an mmap still passes ... */
    diagnose(&fc, &s, NULL, &d);
    cr_expect_str_neq(cause_name(d.cause), "max_map_count");
    struct failed_call mp = {.id = CALL_MPROTECT, .a = {0x10000000, 4096, PROT_READ}, .err = ENOMEM};
    struct smaps_facts f = {.mapped_pages = 1};
    diagnose(&mp, &s, &f, &d); /* ... but a split does not */
    cr_assert_str_eq(cause_name(d.cause), "max_map_count");
    int64_t sum = 0;
    for (int i = 0; i < d.kv.nterms; i++) sum += d.kv.terms[i].pages;
    cr_expect_eq(sum - d.limit_pages, d.shortfall_pages, "terms - limit = shortfall");
    cr_expect_eq(d.shortfall_pages, 1);
}

Test(words, units_of_huge_pages_and_tasks)
{
    struct live_state s = box("6.18.0", 0);
    s.hugepagesize_kb = 2048;
    struct failed_call hp = mmap_call(64u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB);
    struct diagnosis d;
    diagnose(&hp, &s, NULL, &d);
    cr_expect_str_eq(d.units, "huge pages");
    cr_expect_eq(d.unit_kb, 2048);
    cr_expect_eq(d.request_pages, 32);
    s.rlim_nproc = 5;
    struct failed_call fork = {.id = CALL_FORK, .err = EAGAIN};
    diagnose(&fork, &s, NULL, &d);
    cr_expect_str_eq(d.units, "tasks");
    cr_expect_eq(d.unit_kb, 0);
}

/* brk refuses first by the heap plus the data segment against RLIMIT_DATA, before VmData. */
Test(words, brk_is_judged_by_its_first_check)
{
    struct live_state s = box("6.18.0", 0);
    s.start_data = 0x600000;
    s.end_data = 0x600000 + (8 << 20); /* an 8 MiB data segment */
    s.start_brk = 0x2000000;
    s.cur_brk = 0x2000000 + (40 << 20); /* a 40 MiB heap */
    s.vm_data_pages = 1000;             /* VmData far below the limit: may_expand_vm would pass */
    s.rlim_data = 64ll << 20;
    struct failed_call fc = {.id = CALL_SBRK, .a = {32u << 20, (uint64_t)s.cur_brk}, .err = ENOMEM};
    struct diagnosis d;
    diagnose(&fc, &s, NULL, &d);
    cr_assert_str_eq(cause_name(d.cause), "rlimit_data");
    cr_expect(strstr(d.headline, "heap-plus-data"), "%s", d.headline);
    cr_expect_str_eq(d.kv.terms[0].key, "brk-start_brk");
    cr_expect_str_eq(d.kv.terms[1].key, "end_data-start_data");
    cr_expect_eq(d.kv.terms[0].pages + d.kv.terms[1].pages - d.limit_pages, d.shortfall_pages);
    cr_expect_eq(d.shortfall_pages, (72 + 8 - 64) * 256);
    cr_expect_eq(d.request_pages, 32 * 256);
}

Test(words, the_programs_own_commitments_are_not_elsewhere)
{
    struct live_state s = box("6.18.0", 2);
    s.in.committed = 497000;
    s.proc_ac_pages = 400000;
    s.prog.runtime = RT_JVM;
    struct failed_call fc = mmap_call(8u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    struct diagnosis d;
    diagnose(&fc, &s, NULL, &d);
    cr_assert_str_eq(cause_name(d.cause), "overcommit_never");
    cr_expect(any_remedy(&d, "this process holds 1562 MiB (for a JVM mostly its heap"), "%s", d.remedies[1]);
    cr_expect(!any_remedy(&d, "elsewhere"));
}

/* Every term of every cause carries a stable key from the documented set. */
static const char *const keys[] = {"MemFree", "Cached", "Buffers", "SwapCached", "NR_FILE_PAGES", "Shmem", "SwapFree",
                                   "SReclaimable", "NR_INDIRECTLY_RECLAIMABLE_BYTES", "NR_KERNEL_MISC_RECLAIMABLE",
                                   "totalreserve_pages", "vm.admin_reserve_kbytes", "root_reserve", "MemTotal",
                                   "Hugetlb", "vm.overcommit_ratio", "vm.overcommit_kbytes", "SwapTotal",
                                   "user_reserve", "total_vm/32", "total_vm", "data_vm", "request", "brk-start_brk",
                                   "end_data-start_data", "map_count", "split_margin", "HugePages_Free",
                                   "UCOUNT_RLIMIT_NPROC", "pids.current", "nr_threads", NULL};

static void keyed(const struct diagnosis *d, const char *what)
{
    cr_expect_gt(d->kv.nterms, 0, "%s (%s) has terms", what, d->cause);
    for (int i = 0; i < d->kv.nterms; i++) {
        const char *k = d->kv.terms[i].key;
        int known = 0;
        for (int j = 0; k && keys[j]; j++) known |= !strcmp(k, keys[j]);
        cr_expect(known, "%s: term '%s' has key '%s'", what, d->kv.terms[i].name, k ? k : "(none)");
    }
}

Test(keys, every_term_of_every_cause)
{
    struct diagnosis d;
    struct failed_call big = mmap_call(2000000ull * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    static const char *const eras[] = {"2.6.32", "2.6.32-754.el6", "3.1.0", "3.10.0", "3.14.0", "4.17.0", "4.20.0",
                                       "4.18.0-147.el8", "5.2.0", "6.18.0"};
    for (size_t i = 0; i < sizeof eras / sizeof eras[0]; i++) {
        for (int mode = 0; mode <= 2; mode += 2) {
            struct live_state s = box(eras[i], mode);
            struct kmodel_meminfo m = {.MemTotal = 4000000, .MemFree = 2000000, .Buffers = 4000, .Cached = 400000,
                                       .SwapCached = 0, .Shmem = 4000, .SwapTotal = 0, .SwapFree = 0,
                                       .SReclaimable = 40000, .KReclaimable = 50000, .Hugetlb = 0,
                                       .HugePages_Total = 0, .Hugepagesize = 2048, .Committed_AS = 1600000,
                                       .CommitLimit = 2000000, .MemAvailable = -1};
            kmodel_input_from_meminfo(&s.in, &m);
            if (mode == 2 && i == 4) s.in.overcommit_kbytes = 1000000;
            diagnose(&big, &s, NULL, &d);
            cr_expect_str_eq(cause_name(d.cause), mode ? "overcommit_never" : "overcommit_guess", "%s mode %d", eras[i], mode);
            keyed(&d, eras[i]);
        }
    }
    struct live_state s = box("6.18.0", 0);
    s.rlim_as = 20000ll * 4096;
    diagnose(&big, &s, NULL, &d);
    keyed(&d, "rlimit_as");
    s = box("6.18.0", 0);
    s.rlim_data = 4000ll * 4096;
    diagnose(&big, &s, NULL, &d);
    keyed(&d, "rlimit_data");
    s.start_brk = 0x2000000, s.cur_brk = s.start_brk + 4096, s.start_data = 0x600000, s.end_data = 0x601000;
    struct failed_call sb = {.id = CALL_SBRK, .a = {64u << 20, (uint64_t)s.cur_brk}, .err = ENOMEM};
    diagnose(&sb, &s, NULL, &d);
    keyed(&d, "rlimit_data (brk)");
    s = box("6.18.0", 0);
    s.map_count = 65531;
    diagnose(&big, &s, NULL, &d);
    keyed(&d, "max_map_count");
    s = box("6.18.0", 0);
    struct failed_call hp = mmap_call(64u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB);
    diagnose(&hp, &s, NULL, &d);
    keyed(&d, "hugetlb");
    struct failed_call huge = mmap_call(1ull << 48, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
    diagnose(&huge, &s, NULL, &d);
    cr_expect_str_eq(cause_name(d.cause), "address_space");
    keyed(&d, "address_space");
    struct failed_call fork = {.id = CALL_FORK, .err = EAGAIN};
    s.rlim_nproc = 5;
    diagnose(&fork, &s, NULL, &d);
    keyed(&d, "thread_limit (RLIMIT_NPROC)");
    s.rlim_nproc = LS_UNLIMITED;
    s.pids_max = 10, s.pids_current = 10;
    diagnose(&fork, &s, NULL, &d);
    keyed(&d, "thread_limit (pids)");
    s.pids_max = s.pids_current = -1;
    s.threads_max = 200;
    diagnose(&fork, &s, NULL, &d);
    keyed(&d, "thread_limit (threads-max)");
}

/* The file pages as three /proc/meminfo fields, each with its own key. */
Test(keys, file_pages_as_meminfo_shows_them)
{
    struct kmodel_kernel k;
    kmodel_parse_release("3.10.0-957.el7.x86_64", &k);
    struct kmodel_input in = {.page_kb = 4, .admin_reserve_kbytes = 8192, .overcommit_ratio = 50};
    struct kmodel_meminfo m = {.MemTotal = 4045824, .MemFree = 145408, .Buffers = 4096, .Cached = 410624,
                               .SwapCached = 0, .Shmem = 206848, .SwapTotal = 0, .SwapFree = 0, .SReclaimable = 52224,
                               .KReclaimable = -1, .Hugetlb = -1, .Committed_AS = 0, .CommitLimit = 0};
    kmodel_input_from_meminfo(&in, &m);
    struct kverdict v;
    kmodel_vm_enough_memory(&k, &in, 131072, 0, &v);
    int seen = 0;
    for (int i = 0; i < v.nterms; i++) {
        if (!strcmp(v.terms[i].key, "Cached")) {
            seen |= 1;
            cr_expect_eq(v.terms[i].pages, 410624 / 4);
        }
        if (!strcmp(v.terms[i].key, "Buffers")) {
            seen |= 2;
            cr_expect_eq(v.terms[i].pages, 1024);
        }
        if (!strcmp(v.terms[i].key, "SwapCached")) seen |= 4;
    }
    cr_expect_eq(seen, 7);
}

/* A Java thread whose stack strict overcommit refuses: -Xss, with the band cleared. */
Test(jvm, thread_stack_under_strict_overcommit)
{
    struct live_state s = box("6.1.0", 2);
    s.prog.runtime = RT_JVM;
    s.prog.xss = 8ll << 20;
    s.in.committed = 497000; /* allowed 497640: an 8 MiB stack (2048 pages) does not fit */
    struct failed_call fc = {.id = CALL_PTHREAD_CREATE, .a = {0, 8u << 20}, .err = EAGAIN};
    struct diagnosis d;
    diagnose(&fc, &s, NULL, &d);
    cr_assert_str_eq(cause_name(d.cause), "overcommit_never");
    cr_expect(any_remedy(&d, "java: a smaller -Xss (each Java thread's stack is 8192 KiB now, as -Xss asks)"), "%s",
              d.remedies[0]);
    cr_expect(!any_remedy(&d, "pthread_attr_setstacksize"));
}

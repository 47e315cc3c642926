/* kmodel: every era and mode, with expected pages computed by hand (the
 * arithmetic is written out next to each expectation). */
#include <criterion/criterion.h>
#include <sys/mman.h>

#include "kmodel.h"

static struct kmodel_kernel K(const char *rel)
{
    struct kmodel_kernel k;
    cr_assert_eq(kmodel_parse_release(rel, &k), 0, "parse %s", rel);
    return k;
}

/* A small synthetic box shared by the heuristic eras (pages):
 * free 80000, file 100000, shmem 10000, free swap 50000 (of 500000), slab 10000,
 * totalreserve 20000, admin_reserve 8192 kB = 2048 pages. */
static struct kmodel_input box(void)
{
    struct kmodel_input in = {.page_kb = 4, .overcommit_memory = 0, .overcommit_ratio = 50,
                              .admin_reserve_kbytes = 8192, .user_reserve_kbytes = 131072,
                              .totalram = 1000000, .total_swap = 500000, .free_swap = 50000, .nr_free = 80000,
                              .file_pages = 100000, .shmem = 10000, .slab_reclaimable = 10000,
                              .misc_reclaimable = 3000, .indirectly_reclaimable = 1000, .totalreserve = 20000,
                              .committed = 900000, .ncpus = 2, .totalreserve_known = 1};
    return in;
}

Test(kmodel, release_parsing)
{
    struct kmodel_kernel k = K("3.10.0-957.el7.x86_64");
    cr_expect_eq(k.era, KERA_3_10);
    cr_expect_eq(k.rhel, 7);
    cr_expect(k.has_kbytes, "RHEL 7 -957 has overcommit_kbytes (backport at -108)");
    cr_expect_eq(k.reclaimable_term, 0);
    cr_expect_str_eq(k.label, "3.10-rhel7");
    k = K("2.6.32-642.6.2.el6.x86_64");
    cr_expect_eq(k.era, KERA_RHEL6);
    k = K("2.6.32.67");
    cr_expect_eq(k.era, KERA_2_6_32);
    k = K("3.0.1");
    cr_expect_eq(k.era, KERA_2_6_32);
    k = K("3.1.10");
    cr_expect_eq(k.era, KERA_3_1);
    k = K("3.9.6");
    cr_expect_eq(k.era, KERA_3_1);
    k = K("3.13.0");
    cr_expect(!k.has_kbytes);
    k = K("3.14.1");
    cr_expect(k.has_kbytes);
    k = K("4.15.18");
    cr_expect_eq(k.reclaimable_term, 1, "4.15.18 carries the indirectly-reclaimable backport");
    k = K("4.4.155");
    cr_expect_eq(k.reclaimable_term, 0);
    cr_expect(!k.rlimit_data_mmap);
    k = K("4.19.78");
    cr_expect_eq(k.reclaimable_term, 1);
    cr_expect(k.rlimit_data_mmap);
    k = K("4.20.0");
    cr_expect_eq(k.reclaimable_term, 2);
    k = K("4.18.0-147.el8.x86_64");
    cr_expect_eq(k.reclaimable_term, 2);
    cr_expect_eq(k.era, KERA_3_10);
    k = K("5.1.21");
    cr_expect_eq(k.era, KERA_3_10);
    k = K("5.2.1");
    cr_expect_eq(k.era, KERA_5_2);
    k = K("5.14.0-284.el9.x86_64");
    cr_expect_eq(k.era, KERA_5_2);
    k = K("6.11.11");
    cr_expect(!k.fixed_net);
    cr_expect(k.mprotect_uncharge);
    k = K("6.18.44-fc-v769");
    cr_expect(k.fixed_net);
    k = K("6.1.20");
    cr_expect(!k.mprotect_uncharge);
    cr_expect(k.logs_refusal);
    cr_expect(K("4.0.9").pid_enomem);
    cr_expect(!K("4.1.0").pid_enomem);
    struct kmodel_kernel bad;
    cr_expect_eq(kmodel_parse_release("linux", &bad), -1);
    cr_expect_eq(kmodel_parse_release("7", &bad), -1);
    cr_expect_eq(kmodel_parse_release("", &bad), -1);
}

/* Seed 000 (docs/kernel.md §10a): CentOS 7 3.10.0-957, mode 0, free -m: free 142, shared 202,
 * buff/cache 456 MiB, swap 0. Assumptions as stated there: SReclaimable 51 MiB (so file
 * pages 405 MiB), totalreserve 30186 pages (THP on, min_free_kbytes 67584, typical 4 GiB
 * zones), non-root with admin_reserve_kbytes 8192.
 * F = 36352 + 103680 - 51712 + 0 + 13056 = 101376; - 30186 = 71190; - 2048 = 69142. */
Test(kmodel, seed000_centos7_heuristic)
{
    struct kmodel_kernel k = K("3.10.0-957.el7.x86_64");
    struct kmodel_input in = {.page_kb = 4, .overcommit_memory = 0, .overcommit_ratio = 50,
                              .admin_reserve_kbytes = 8192, .user_reserve_kbytes = 131072,
                              .totalram = 1011456, .nr_free = 36352, .file_pages = 103680, .shmem = 51712,
                              .slab_reclaimable = 13056, .totalreserve = 30186, .ncpus = 2};
    struct kverdict v;
    kmodel_vm_enough_memory(&k, &in, 131072, 0, &v); /* 512 MiB */
    cr_expect(v.refused);
    cr_expect_str_eq(cause_name(v.cause), "overcommit_guess");
    cr_expect_eq(v.limit_pages, 69142);
    cr_expect_eq(v.largest_pages, 69141);
    cr_expect_eq(v.shortfall_pages, 131072 - 69141); /* 61931 pages = 241.9 MiB */
    cr_expect_eq(v.committed_pages, -1, "Committed_AS plays no part in mode 0");
    cr_expect_eq(v.nterms, 7);
    cr_expect_eq(v.terms[0].pages, 36352);
    cr_expect_eq(v.terms[2].op, '-');
    cr_expect_eq(v.terms[5].pages, 30186);
    cr_expect_eq(v.terms[6].pages, 2048);
    kmodel_vm_enough_memory(&k, &in, 65536, 0, &v); /* 256 MiB passes, twice */
    cr_expect(!v.refused);
    in.cap_sys_admin = 1; /* root skips the admin reserve: 71190 */
    kmodel_vm_enough_memory(&k, &in, 131072, 0, &v);
    cr_expect_eq(v.limit_pages, 71190);
    /* the same box on 5.2+: only RAM + swap (1011456 pages) bounds one request */
    struct kmodel_kernel k5 = K("5.14.0-284.el9.x86_64");
    kmodel_vm_enough_memory(&k5, &in, 131072, 0, &v);
    cr_expect(!v.refused);
    cr_expect_eq(v.limit_pages, 1011456);
    kmodel_vm_enough_memory(&k5, &in, 1011457, 0, &v);
    cr_expect(v.refused);
    cr_expect_eq(v.shortfall_pages, 1);
}

/* Seed 002: 12 GB box, mode 2, MemTotal 12183700 kB, no swap, CommitLimit 12061860 kB
 * (ratio 99: 3045925 pages * 99 / 100 = 3015465 pages = 12061860 kB), Committed_AS
 * 8625360 kB = 2156340 pages, "2.6.32-era" code. Assumed: the forking shell has VmSize
 * 27000 pages (total_vm/32 = 843), non-root.
 * allowed = 3015465 - 3015465/32 (94233) + 0 - 843 = 2920389;
 * largest fork charge = 2920389 - 2156340 - 1 = 764048 pages. */
Test(kmodel, seed002_mode2_fork)
{
    struct kmodel_kernel k = K("2.6.32");
    struct kmodel_input in = {.page_kb = 4, .overcommit_memory = 2, .overcommit_ratio = 99,
                              .totalram = 3045925, .committed = 2156340, .ncpus = 4};
    cr_expect_eq(kmodel_commit_limit(&k, &in), 3015465);
    struct kverdict v;
    kmodel_vm_enough_memory(&k, &in, 786432, 27000, &v); /* a 3 GiB process forks */
    cr_expect(v.refused);
    cr_expect_str_eq(cause_name(v.cause), "overcommit_never");
    cr_expect_eq(v.limit_pages, 2920389);
    cr_expect_eq(v.committed_pages, 2156340);
    cr_expect_eq(v.largest_pages, 764048);
    cr_expect_eq(v.shortfall_pages, 786432 - 764048);
    kmodel_vm_enough_memory(&k, &in, 764048, 27000, &v);
    cr_expect(!v.refused);
    kmodel_vm_enough_memory(&k, &in, 764049, 27000, &v);
    cr_expect(v.refused, "the comparison is strict: committed + pages must stay below allowed");
}

/* Seed 003: the RHEL 6 (2.6.32-642) hybrid. Mode 2: vm_commit_limit() - admin reserve -
 * total_vm/32 with no cap: 500000 + 500000 - 2048 - 2000 = 995952; largest 95951.
 * Mode 0: F1 = 100000 + 50000 + 10000 - 2048 = 157952; n = 80000 - 20000 = 60000,
 * - 60000/32 (1875) = 58125; total 216077. */
Test(kmodel, seed003_rhel6_hybrid)
{
    struct kmodel_kernel k = K("2.6.32-642.6.2.el6.x86_64");
    struct kmodel_input in = box();
    in.overcommit_memory = 2;
    struct kverdict v;
    kmodel_vm_enough_memory(&k, &in, 100000, 64000, &v);
    cr_expect_eq(v.limit_pages, 995952);
    cr_expect_eq(v.largest_pages, 95951);
    cr_expect(v.refused);
    in.overcommit_kbytes = 1600000; /* kbytes replaces the ratio part: 400000 + 500000 - 2048 - 2000 */
    kmodel_vm_enough_memory(&k, &in, 1, 64000, &v);
    cr_expect_eq(v.limit_pages, 895952);
    in.overcommit_kbytes = 0;
    in.overcommit_memory = 0;
    kmodel_vm_enough_memory(&k, &in, 200000, 0, &v);
    cr_expect(!v.refused, "passes at stage 2");
    cr_expect_eq(v.limit_pages, 216077);
    kmodel_vm_enough_memory(&k, &in, 216077, 0, &v);
    cr_expect(v.refused);
    cr_expect_eq(v.largest_pages, 216076);
    kmodel_vm_enough_memory(&k, &in, 1000, 0, &v);
    cr_expect(!v.refused, "passes at stage 1");
}

/* <= 3.0 vanilla: F1 = 160000 - 160000/32 (5000) = 155000; n = 60000 - 1875 = 58125;
 * total 213125. Mode 2: (1000000*50/100 = 500000) - 500000/32 (15625) + 500000 - 64000/32 (2000)
 * = 982375. */
Test(kmodel, era_2_6_32)
{
    struct kmodel_kernel k = K("2.6.32.67");
    struct kmodel_input in = box();
    struct kverdict v;
    kmodel_vm_enough_memory(&k, &in, 213125, 0, &v);
    cr_expect(v.refused);
    cr_expect_eq(v.largest_pages, 213124);
    in.nr_free = 15000; /* below totalreserve: stage 2 adds nothing */
    kmodel_vm_enough_memory(&k, &in, 155000, 0, &v);
    cr_expect(v.refused);
    cr_expect_eq(v.largest_pages, 154999);
    in = box();
    in.overcommit_memory = 2;
    kmodel_vm_enough_memory(&k, &in, 1, 64000, &v);
    cr_expect_eq(v.limit_pages, 982375);
    in.cap_sys_admin = 1;
    kmodel_vm_enough_memory(&k, &in, 1, 64000, &v);
    cr_expect_eq(v.limit_pages, 998000);
}

/* 3.1 - 3.9: F = 80000 + 100000 - 10000 + 50000 + 10000 = 230000; - 20000 = 210000;
 * - 210000/32 (6562) = 203438. */
Test(kmodel, era_3_1)
{
    struct kmodel_kernel k = K("3.9.6");
    struct kmodel_input in = box();
    struct kverdict v;
    kmodel_vm_enough_memory(&k, &in, 203438, 0, &v);
    cr_expect(v.refused);
    cr_expect_eq(v.limit_pages, 203438);
    kmodel_vm_enough_memory(&k, &in, 203437, 0, &v);
    cr_expect(!v.refused);
    in.totalreserve = 230000; /* F <= totalreserve: refused whatever the size */
    kmodel_vm_enough_memory(&k, &in, 1, 0, &v);
    cr_expect(v.refused);
}

/* 3.10 - 5.1: 210000 - 2048 = 207952; 4.17 adds indirectly reclaimable (1000): 208952;
 * 4.20 adds misc reclaimable (3000): 210952. Mode 2 (3.14+): 500000 + 500000 - 2048 -
 * min(64000/32 = 2000, 131072/4 = 32768) = 995952. 3.10 (no kbytes) ignores overcommit_kbytes. */
Test(kmodel, era_3_10_to_5_1)
{
    struct kmodel_input in = box();
    struct kverdict v;
    struct kmodel_kernel k = K("3.10.99");
    kmodel_vm_enough_memory(&k, &in, 1, 0, &v);
    cr_expect_eq(v.limit_pages, 207952);
    k = K("4.17.0");
    kmodel_vm_enough_memory(&k, &in, 1, 0, &v);
    cr_expect_eq(v.limit_pages, 208952);
    k = K("4.20.0");
    kmodel_vm_enough_memory(&k, &in, 1, 0, &v);
    cr_expect_eq(v.limit_pages, 210952);
    k = K("4.18.0-147.el8.x86_64");
    kmodel_vm_enough_memory(&k, &in, 1, 0, &v);
    cr_expect_eq(v.limit_pages, 210952);
    in.overcommit_memory = 2;
    k = K("4.19.78");
    kmodel_vm_enough_memory(&k, &in, 95951, 64000, &v);
    cr_expect_eq(v.limit_pages, 995952);
    cr_expect(!v.refused);
    kmodel_vm_enough_memory(&k, &in, 95952, 64000, &v);
    cr_expect(v.refused);
    /* the user reserve is capped by user_reserve_kbytes: VmSize 32 GiB / 32 = 262144 > 32768 */
    kmodel_vm_enough_memory(&k, &in, 1, 8388608, &v);
    cr_expect_eq(v.limit_pages, 1000000 - 2048 - 32768);
    in.overcommit_kbytes = 1600000;
    kmodel_vm_enough_memory(&k, &in, 1, 64000, &v);
    cr_expect_eq(v.limit_pages, 400000 + 500000 - 2048 - 2000);
    k = K("3.10.99");
    kmodel_vm_enough_memory(&k, &in, 1, 64000, &v);
    cr_expect_eq(v.limit_pages, 995952, "3.10 vanilla has no overcommit_kbytes");
}

Test(kmodel, mode2_hugetlb_only_in_ratio_mode)
{
    struct kmodel_kernel k = K("6.1.20");
    struct kmodel_input in = box();
    in.overcommit_memory = 2;
    in.hugetlb_total = 100000;
    cr_expect_eq(kmodel_commit_limit(&k, &in), (1000000 - 100000) / 2 + 500000);
    in.overcommit_kbytes = 400000;
    cr_expect_eq(kmodel_commit_limit(&k, &in), 100000 + 500000);
}

Test(kmodel, era_5_2_and_mode_1)
{
    struct kmodel_kernel k = K("6.18.44-fc-v769");
    struct kmodel_input in = box();
    struct kverdict v;
    kmodel_vm_enough_memory(&k, &in, 1500000, 0, &v);
    cr_expect(!v.refused, "exactly RAM + swap passes");
    kmodel_vm_enough_memory(&k, &in, 1500001, 0, &v);
    cr_expect(v.refused);
    cr_expect_eq(v.limit_pages, 1500000);
    cr_expect_eq(v.shortfall_pages, 1);
    in.overcommit_memory = 1;
    kmodel_vm_enough_memory(&k, &in, 1ll << 40, 0, &v);
    cr_expect(!v.refused);
    cr_expect_str_eq(cause_name(v.cause), "");
}

/* docs/kernel.md §7: this VM (2 cpus, 6170905 pages): mode 0/1 batch 771363, mode 2 12052. */
Test(kmodel, committed_batch)
{
    struct kmodel_kernel k = K("6.18.44");
    cr_expect_eq(kmodel_committed_batch(&k, 0, 2, 6170905), 771363);
    cr_expect_eq(kmodel_committed_batch(&k, 2, 2, 6170905), 12052);
    k = K("3.10.0-957.el7.x86_64");
    cr_expect_eq(kmodel_committed_batch(&k, 2, 2, 6170905), 32);
    k = K("4.19.78");
    cr_expect_eq(kmodel_committed_batch(&k, 0, 2, 6170905), 12052);
}

Test(kmodel, accountable_mappings)
{
    const int RW = PROT_READ | PROT_WRITE;
    cr_expect(kmodel_mmap_accountable(RW, MAP_PRIVATE | MAP_ANONYMOUS, 0));
    cr_expect(!kmodel_mmap_accountable(PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, 0));
    cr_expect(!kmodel_mmap_accountable(RW, MAP_SHARED | MAP_ANONYMOUS, 0));
    cr_expect(!kmodel_mmap_accountable(RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, 0));
    cr_expect(kmodel_mmap_accountable(RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, 2), "ignored in mode 2");
    cr_expect(!kmodel_mmap_accountable(RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, 2));
    cr_expect(kmodel_mmap_accountable(RW, MAP_PRIVATE, 0), "private writable file mappings are charged");
}

Test(kmodel, input_from_meminfo)
{
    struct kmodel_meminfo m = {.MemTotal = 4045824, .MemFree = 145408, .Buffers = 4096, .Cached = 410624,
                               .SwapCached = 0, .Shmem = 206848, .SwapTotal = 0, .SwapFree = 0,
                               .SReclaimable = 52224, .KReclaimable = 60416, .Hugetlb = 0, .HugePages_Total = 0,
                               .Hugepagesize = 2048, .Committed_AS = 10014688, .CommitLimit = 2023388,
                               .MemAvailable = 174080};
    struct kmodel_input in = {.page_kb = 4};
    kmodel_input_from_meminfo(&in, &m);
    cr_expect_eq(in.totalram, 1011456);
    cr_expect_eq(in.file_pages, (4096 + 410624) / 4);
    cr_expect_eq(in.misc_reclaimable, (60416 - 52224) / 4);
    cr_expect_eq(in.committed, 2503672);
}

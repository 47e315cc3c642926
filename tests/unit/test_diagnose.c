/* diagnose: the cause in the kernel's order, from a synthetic state. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "diagnose.h"

static struct live_state state(const char *rel, int mode)
{
    struct live_state s;
    memset(&s, 0, sizeof s);
    kmodel_parse_release(rel, &s.k);
    s.in = (struct kmodel_input){.page_kb = 4, .overcommit_memory = mode, .overcommit_ratio = 50,
                                 .admin_reserve_kbytes = 8192, .user_reserve_kbytes = 131072,
                                 .totalram = 1000000, .total_swap = 0, .nr_free = 500000, .file_pages = 100000,
                                 .totalreserve = 20000, .committed = 400000, .ncpus = 2};
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
    return s;
}

static struct failed_call mmap_call(uint64_t addr, uint64_t len, int prot, int flags)
{
    return (struct failed_call){.id = CALL_MMAP, .a = {addr, len, (uint64_t)prot, (uint64_t)flags, (uint64_t)-1, 0},
                                .err = ENOMEM};
}

Test(diagnose, overcommit_guess_5_2)
{
    struct live_state s = state("6.18.0", 0);
    struct failed_call fc = mmap_call(0, 1000001ull * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    struct smaps_facts f = {0};
    struct diagnosis d;
    diagnose(&fc, &s, &f, &d);
    cr_expect_str_eq(cause_name(d.cause), "overcommit_guess");
    cr_expect_eq(d.request_pages, 1000001);
    cr_expect_eq(d.limit_pages, 1000000);
    cr_expect_eq(d.shortfall_pages, 1);
    cr_expect_gt(d.nremedies, 1);
}

Test(diagnose, order_map_count_before_rlimits)
{
    struct live_state s = state("6.18.0", 0);
    s.map_count = 65531;
    s.rlim_as = 1 << 20;
    struct failed_call fc = mmap_call(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
    struct smaps_facts f = {0};
    struct diagnosis d;
    diagnose(&fc, &s, &f, &d);
    cr_expect_str_eq(cause_name(d.cause), "max_map_count");
    cr_expect_eq(d.limit_pages, 65530);
    cr_expect_str_eq(d.units, "mappings");
}

Test(diagnose, rlimit_as_counts_prot_none)
{
    struct live_state s = state("6.18.0", 0);
    s.rlim_as = (10000ll + 16384) * 4096; /* VmSize + 64 MiB */
    struct failed_call fc = mmap_call(0, 512ull << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
    struct smaps_facts f = {0};
    struct diagnosis d;
    diagnose(&fc, &s, &f, &d);
    cr_expect_str_eq(cause_name(d.cause), "rlimit_as");
    cr_expect_eq(d.limit_pages, 26384);
    cr_expect_eq(d.committed_pages, 10000);
    cr_expect_eq(d.shortfall_pages, 10000 + 131072 - 26384);
}

Test(diagnose, rlimit_data_is_net_for_map_fixed)
{
    struct live_state s = state("6.18.0", 0);
    s.rlim_data = (2000ll + 16384) * 4096; /* VmData + 64 MiB */
    /* 128 MiB RW fully over a reservation: net growth 0, so RLIMIT_DATA does not refuse it */
    struct failed_call fc = mmap_call(0x40000000, 128ull << 20, PROT_READ | PROT_WRITE,
                                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
    struct smaps_facts f = {.mapped_pages = 32768, .data_pages = 0};
    struct diagnosis d;
    diagnose(&fc, &s, &f, &d);
    cr_expect_str_neq(cause_name(d.cause), "rlimit_data");
    /* ... but it pushed data_vm past the limit: the next commit, even net 0, is refused */
    s.vm_data_pages = 2000 + 32768;
    fc.a[1] = 64ull << 20;
    f.mapped_pages = 16384;
    diagnose(&fc, &s, &f, &d);
    cr_expect_str_eq(cause_name(d.cause), "rlimit_data");
    cr_expect_eq(d.request_pages, 16384);
    cr_expect_eq(d.shortfall_pages, 2000 + 32768 - 18384);
    cr_expect(strstr(d.explanation, "net growth") != NULL, "%s", d.explanation);
    /* without MAP_FIXED the whole request is new */
    s.vm_data_pages = 2000;
    fc = mmap_call(0, 128ull << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    diagnose(&fc, &s, NULL, &d);
    cr_expect_str_eq(cause_name(d.cause), "rlimit_data");
    cr_expect_eq(d.shortfall_pages, 2000 + 32768 - 18384);
}

Test(diagnose, rlimit_data_only_from_4_7)
{
    struct live_state s = state("4.4.155", 1);
    s.rlim_data = 4096ll * 100;
    struct failed_call fc = mmap_call(0, 128ull << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    struct smaps_facts f = {0};
    struct diagnosis d;
    diagnose(&fc, &s, &f, &d);
    cr_expect_str_eq(cause_name(d.cause), "unknown", "4.4 checks RLIMIT_DATA for brk only; mode 1 never refuses");
}

Test(diagnose, mode2_fork_charges_the_accountable_vmas)
{
    struct live_state s = state("3.10.0-957.el7.x86_64", 2);
    /* allowed = 500000 - 2048 - min(10000/32, 32768) = 497640; committed 400000 */
    struct failed_call fc = {.id = CALL_FORK, .err = ENOMEM};
    struct smaps_facts f = {.ac_total_pages = 100000, .ac_largest_pages = 60000, .ac_vmas = 12};
    struct diagnosis d;
    diagnose(&fc, &s, &f, &d);
    cr_expect_str_eq(cause_name(d.cause), "overcommit_never");
    cr_expect_eq(d.limit_pages, 497640);
    cr_expect_eq(d.committed_pages, 400000);
    cr_expect_eq(d.request_pages, 100000);
    cr_expect_eq(d.shortfall_pages, 100000 - (497640 - 400000 - 1));
    cr_expect(strstr(d.explanation, "fork copies") != NULL);
}

Test(diagnose, thread_limit_nproc_and_its_exemptions)
{
    struct live_state s = state("6.18.0", 0);
    s.rlim_nproc = 5;
    struct failed_call fc = {.id = CALL_PTHREAD_CREATE, .a = {0, 0}, .err = EAGAIN};
    struct diagnosis d;
    diagnose(&fc, &s, NULL, &d);
    cr_expect_str_eq(cause_name(d.cause), "thread_limit");
    cr_expect_eq(d.limit_pages, 5);
    cr_expect_str_eq(d.units, "tasks");
    s.ruid = 0; /* root is exempt */
    diagnose(&fc, &s, NULL, &d);
    cr_expect_str_eq(cause_name(d.cause), "unknown");
    s.ruid = 1000;
    s.pids_max = 10;
    s.pids_current = 10;
    s.rlim_nproc = LS_UNLIMITED;
    diagnose(&fc, &s, NULL, &d);
    cr_expect_str_eq(cause_name(d.cause), "thread_limit");
    cr_expect(strstr(d.headline, "pids") != NULL);
}

Test(diagnose, thread_stack_commit_under_mode2)
{
    struct live_state s = state("6.18.0", 2);
    s.in.committed = 497000; /* 8 MiB stack = 2048 pages does not fit below 497640 */
    struct failed_call fc = {.id = CALL_PTHREAD_CREATE, .a = {0, 8u << 20}, .err = EAGAIN};
    struct diagnosis d;
    diagnose(&fc, &s, NULL, &d);
    cr_expect_str_eq(cause_name(d.cause), "overcommit_never");
    cr_expect_eq(d.charge_pages, 2048);
    cr_expect(strstr(d.explanation, "stack") != NULL);
}

/* With a guard page glibc maps the stack PROT_NONE first and makes it writable after: the kernel
 * checks the mprotect with the stack already in total_vm, so the user reserve counts it (measured
 * in the VMs of make kernels: the largest 1 GiB-class stack is ~size/32 below the largest mmap).
 * Without a guard (HotSpot's Java threads) the stack is one writable mmap, checked before it exists. */
Test(diagnose, thread_stack_user_reserve_counts_the_prot_none_stack)
{
    struct live_state s = state("6.1.0", 2);
    s.in.committed = 100000; /* refused either way: 100000 + 400000 >= 500000 - reserves */
    uint64_t stack = 400000ull * 4096;
    struct failed_call fc = {.id = CALL_PTHREAD_CREATE, .a = {0, stack, 4096}, .err = EAGAIN};
    struct diagnosis d;
    diagnose(&fc, &s, NULL, &d);
    cr_expect_str_eq(cause_name(d.cause), "overcommit_never");
    /* 500000 (ratio 50) - 2048 (admin) - min((10000 + 400001) / 32, 131072 / 4) */
    cr_expect_eq(d.kv.limit_pages, 500000 - 2048 - (10000 + 400001) / 32);
    fc.a[2] = 0; /* no guard: VmSize as it is */
    diagnose(&fc, &s, NULL, &d);
    cr_expect_eq(d.kv.limit_pages, 500000 - 2048 - 10000 / 32);
}

Test(diagnose, malloc_is_estimated)
{
    struct live_state s = state("6.18.0", 0);
    struct failed_call fc = {.id = CALL_MALLOC, .a = {2000000ull * 4096}, .err = ENOMEM};
    struct diagnosis d;
    diagnose(&fc, &s, NULL, &d);
    cr_expect_str_eq(cause_name(d.cause), "overcommit_guess");
    cr_expect(d.estimated);
    cr_expect_eq(d.request_pages, 2000001, "size + malloc's header, rounded up to pages");
    fc.a[0] = (uint64_t)-1 / 2 + 10;
    diagnose(&fc, &s, NULL, &d);
    cr_expect_str_eq(cause_name(d.cause), "address_space");
}

Test(diagnose, mprotect_hole_and_charge)
{
    struct live_state s = state("6.18.0", 2);
    struct failed_call fc = {.id = CALL_MPROTECT, .a = {0x10000000, 1 << 20, PROT_READ | PROT_WRITE}, .err = ENOMEM};
    struct smaps_facts f = {.mapped_pages = 100};
    struct diagnosis d;
    diagnose(&fc, &s, &f, &d);
    cr_expect_str_eq(cause_name(d.cause), "address_space", "part of the range is unmapped");
    f.mapped_pages = 256;
    s.in.committed = 497500;
    diagnose(&fc, &s, &f, &d);
    cr_expect_str_eq(cause_name(d.cause), "overcommit_never");
    cr_expect_eq(d.charge_pages, 256);
}

Test(diagnose, nothing_explains_it)
{
    struct live_state s = state("6.18.0", 0);
    struct failed_call fc = mmap_call(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    struct diagnosis d;
    diagnose(&fc, &s, NULL, &d);
    cr_expect_str_eq(cause_name(d.cause), "unknown");
    cr_expect(strlen(d.explanation) > 20);
}

/* The shim's own share: named in the explanation; first among the remedies when
 * the call would have passed without it, and not when it would not. */
Test(diagnose, own_share_is_not_blamed_on_the_program)
{
    struct live_state s = state("6.18.0", 0);
    s.map_count = 65531; /* short by 2 (the kernel needs room for a split) */
    s.own_maps = 20;
    struct failed_call fc = mmap_call(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
    struct smaps_facts f = {0};
    struct diagnosis d;
    diagnose(&fc, &s, &f, &d);
    cr_expect_str_eq(cause_name(d.cause), "max_map_count");
    cr_expect(strstr(d.explanation, "overshim itself accounts for 20 of those mappings"), "%s", d.explanation);
    cr_expect(strstr(d.remedies[0], "without overshim this call would have passed"), "%s", d.remedies[0]);
    cr_expect(strstr(d.remedies[1], "raise vm.max_map_count"), "the program's remedies stay: %s", d.remedies[1]);

    s = state("6.18.0", 0);
    s.rlim_as = (10000ll + 16384) * 4096;
    s.own_vm_pages = 300; /* far less than the 114688 pages it is short by */
    fc = mmap_call(0, 512ull << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
    diagnose(&fc, &s, &f, &d);
    cr_expect_str_eq(cause_name(d.cause), "rlimit_as");
    cr_expect(strstr(d.explanation, "overshim itself accounts for 300 of those pages of VmSize"), "%s", d.explanation);
    for (int i = 0; i < d.nremedies; i++) cr_expect(!strstr(d.remedies[i], "without overshim"), "%s", d.remedies[i]);
}

/* Allocated extents of a shared-memory file (core/shm_extents.c): what a fallocate charges,
 * what a hole punch or a truncation gives back. */
#include <criterion/criterion.h>
#include <linux/falloc.h>

#include "shmem.h"

#define MIB (1ull << 20)

Test(shmem, extents_charge_only_new_pages)
{
    struct shm_extents x = {0};
    cr_expect_eq(shm_extents_missing(&x, 0, 32 * MIB), 32 * MIB);
    cr_expect_eq(shm_extents_add(&x, 0, 32 * MIB), 32 * MIB);
    cr_expect_eq(shm_extents_missing(&x, 0, 32 * MIB), 0, "allocated pages are not charged again");
    cr_expect_eq(shm_extents_missing(&x, 16 * MIB, 32 * MIB), 16 * MIB);
    cr_expect_eq(shm_extents_add(&x, 16 * MIB, 32 * MIB), 16 * MIB);
    cr_expect_eq(x.n, 1, "touching extents merge");
    cr_expect_eq(shm_extents_add(&x, 100 * MIB, MIB), MIB);
    cr_expect_eq(x.n, 2);
    cr_expect_eq(shm_extents_add(&x, 40 * MIB, 70 * MIB), 52 * MIB + 9 * MIB, "the gaps only: 48-100 and 101-110");
    cr_expect_eq(x.n, 1);
    cr_expect_eq(x.lo[0], 0);
    cr_expect_eq(x.hi[0], 110 * MIB);
}

Test(shmem, holes_and_truncation_give_back)
{
    struct shm_extents x = {0};
    shm_extents_add(&x, 0, 32 * MIB);
    cr_expect_eq(shm_extents_remove(&x, 8 * MIB, 8 * MIB), 8 * MIB, "a hole in the middle");
    cr_expect_eq(x.n, 2);
    cr_expect_eq(shm_extents_missing(&x, 0, 32 * MIB), 8 * MIB);
    cr_expect_eq(shm_extents_remove(&x, 24 * MIB, UINT64_MAX / 2), 8 * MIB, "truncated to 24 MiB");
    cr_expect_eq(shm_extents_remove(&x, 0, 4 * MIB), 4 * MIB);
    cr_expect_eq(shm_extents_missing(&x, 0, 24 * MIB), 12 * MIB, "left: 4-8 and 16-24");
    cr_expect_eq(shm_extents_remove(&x, 0, 64 * MIB), 12 * MIB);
    cr_expect_eq(x.n, 0);
}

Test(shmem, a_full_list_errs_high_never_low)
{
    struct shm_extents x = {0};
    uint64_t total = 0;
    for (int i = 0; i < 3 * SHMEM_EXTENTS; i++) total += shm_extents_add(&x, (uint64_t)i * 2 * MIB, MIB);
    cr_expect_leq(x.n, SHMEM_EXTENTS);
    cr_expect_geq(total, 3ull * SHMEM_EXTENTS * MIB, "at least every page allocated is charged");
    cr_expect_eq(shm_extents_missing(&x, 0, 2 * MIB), 0 + (x.lo[0] == 0 && x.hi[0] >= 2 * MIB ? 0 : MIB));
}

/* /proc parsers: meminfo-style lookups and totalreserve_pages from zoneinfo. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "smaps.h"
#include "procparse.h"

Test(parsers, meminfo)
{
    const char *t = "MemTotal:       24683620 kB\nMemFree:        24300000 kB\nSwapTotal:             0 kB\n"
                    "HugePages_Total:       0\nBogus:  x kB\n";
    cr_expect_eq(meminfo_get(t, "MemTotal"), 24683620);
    cr_expect_eq(meminfo_get(t, "SwapTotal"), 0);
    cr_expect_eq(meminfo_get(t, "HugePages_Total"), 0);
    cr_expect_eq(meminfo_get(t, "Mem"), -1, "a prefix is not a key");
    cr_expect_eq(meminfo_get(t, "Bogus"), -1);
    cr_expect_eq(meminfo_get(t, "Absent"), -1);
    cr_expect_eq(meminfo_get("", "MemTotal"), -1);
}

/* docs/kernel.md §6.2, this VM: contributions 3840 + 15893 + 12199 + 0 + 0 = 31932 pages. */
Test(parsers, zoneinfo_totalreserve)
{
    const char *z =
        "Node 0, zone      DMA\n  per-node stats\n      nr_inactive_anon 1\n  pages free     3840\n"
        "        boost    0\n        min      39\n        low      51\n        high     63\n"
        "        spanned  4095\n        present  3998\n        managed  3840\n"
        "        protection: (0, 2816, 5834, 5834, 5834)\n"
        "Node 0, zone    DMA32\n  pages free     700000\n        boost    0\n        min      8000\n"
        "        low      10500\n        high     13077\n        managed  772808\n"
        "        protection: (0, 0, 2816, 2816, 2816)\n"
        "Node 0, zone   Normal\n  pages free     700000\n        boost    0\n        min      7500\n"
        "        low      9800\n        high     12199\n        managed  720896\n"
        "        protection: (0, 0, 0, 0, 0)\n"
        "Node 0, zone  Movable\n  pages free     0\n        boost    0\n        min      32\n"
        "        low      32\n        high     32\n        managed  0\n        protection: (0, 0, 0, 0, 0)\n"
        "Node 0, zone   Device\n  pages free     0\n        boost    0\n        min      0\n        low      0\n"
        "        high     0\n        managed  0\n        protection: (0, 0, 0, 0, 0)\n";
    cr_expect_eq(zoneinfo_totalreserve(z), 31932);
    cr_expect_eq(zoneinfo_totalreserve("no zones here"), -1);
    /* a boost is taken off the printed high watermark */
    const char *b = "Node 0, zone   Normal\n        boost    100\n        high     1100\n        managed  5000\n"
                    "        protection: (0, 0)\n";
    cr_expect_eq(zoneinfo_totalreserve(b), 1000);
}

Test(parsers, live_zoneinfo_is_readable)
{
    /* this machine's own zoneinfo must give a positive reserve */
    static char buf[262144];
    FILE *f = fopen("/proc/zoneinfo", "r");
    cr_assert(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    cr_expect_gt(zoneinfo_totalreserve(buf), 0);
}

Test(parsers, smaps_facts_from_text)
{
    char text[] = "00400000-00402000 rw-p 00000000 00:00 0 \nSize:                  8 kB\n"
                  "VmFlags: rd wr mr mw me ac sd \n"
                  "00402000-00403000 rw-s 00000000 00:01 12   /dev/zero (deleted)\nSize: 4 kB\n"
                  "VmFlags: rd wr sh mr mw me ms sd \n"
                  "7ffc0000-7ffc2000 rw-p 00000000 00:00 0   [stack]\nVmFlags: rd wr mr mw me gd ac \n";
    struct smaps_facts f;
    smaps_facts_text(text, 0x401000, 0x403000, &f);
    cr_expect_eq(f.map_count, 3);
    cr_expect_eq(f.vm_size_pages, 5);
    cr_expect_eq(f.ac_total_pages, 4);
    cr_expect_eq(f.ac_largest_pages, 2);
    cr_expect_eq(f.mapped_pages, 2, "one page of each of the first two VMAs");
    cr_expect_eq(f.accounted_pages, 1);
    cr_expect_eq(f.data_pages, 1, "the shared one is not data");
}

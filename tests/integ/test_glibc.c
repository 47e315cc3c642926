/* Issue 12: one library and one command for glibc 2.17 and later. No symbol of either
 * needs a GLIBC_ version above 2.17 (objdump -T lists each with the version it binds
 * to). The command is linked statically: it has no dynamic symbol at all. */
#include <stdio.h>

#include "common.h"

static int version_above(const char *v, int major, int minor)
{
    int a = 0, b = 0;
    if (sscanf(v, "GLIBC_%d.%d", &a, &b) < 1) return 0;
    return a > major || (a == major && b > minor);
}

/* TOOL (objdump, readelf with its options) on path, its output to read. */
static FILE *tool_on(const char *tool, const char *path)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "%s '%s' 2>&1", tool, path);
    FILE *p = popen(cmd, "r");
    cr_assert(p, "%s", cmd);
    return p;
}

/* Versioned symbols objdump -T lists for path; each one above 2.17 is a failure. */
static int versioned_symbols(const char *path)
{
    FILE *p = tool_on("objdump -T", path);
    char line[512];
    int seen = 0, above = 0;
    while (fgets(line, sizeof line, p)) {
        char *g = strstr(line, "GLIBC_");
        if (!g) continue;
        char v[64];
        if (sscanf(g, "%63[A-Z_0-9.]", v) != 1) continue;
        seen++;
        if (version_above(v, 2, 17)) {
            above++;
            cr_expect(0, "%s needs %s: %s", path, v, line);
        }
    }
    cr_assert_eq(pclose(p), 0, "objdump -T %s failed", path);
    cr_expect_eq(above, 0);
    return seen;
}

Test(glibc, no_symbol_version_above_2_17)
{
    cr_expect_gt(versioned_symbols(shim_path()), 10, "objdump listed no versioned symbol");
}

Test(glibc, command_binds_no_symbol_version_above_2_17)
{
    char cli[4200];
    snprintf(cli, sizeof cli, "%s/overshim", build_dir());
    versioned_symbols(cli);
}

/* Every libc symbol the library imports is a GLIBC_2.2.5 one: each further version it
 * needed would cost every process start a version check in the loader (issue 12's start
 * budget), and memcpy@2.14, __stack_chk_fail@2.4, getauxval@2.16, clock_gettime@2.17 and
 * __register_atfork@2.3.2 are reached another way (sys/memcpy.c, the demangler's trap,
 * sys/startvec.c, the vDSO, a lookup in libc's own table). */
Test(glibc, library_needs_one_glibc_version)
{
    FILE *p = tool_on("readelf -V", shim_path());
    char line[512], names[512] = "";
    int in_needs = 0, n = 0;
    while (fgets(line, sizeof line, p)) {
        if (strstr(line, ".gnu.version_r")) in_needs = 1;
        char *v = in_needs ? strstr(line, "Name: GLIBC_") : NULL;
        if (!v) continue;
        char name[64];
        if (sscanf(v + 6, "%63s", name) == 1 && strlen(names) + strlen(name) + 2 < sizeof names) {
            strcat(names, " ");
            strcat(names, name);
            n++;
        }
    }
    cr_assert_eq(pclose(p), 0);
    cr_expect_eq(n, 1, "needs%s", names);
    cr_expect(strstr(names, "GLIBC_2.2.5") != NULL, "needs%s", names);
}

/* The library's TLS is one variable, osh_t, and its segment is exactly that block: the
 * fixed-offset malloc path (shim/interpose_malloc.c) assumes that glibc puts the block
 * OSH_TLS_K = its size below the thread pointer. Another TLS variable (the shim's, or
 * one linked in with libunwind or jemalloc) would move it: the path would fall back
 * (host/tcache_fast_path_by_tls_layout sees that) and cost 6 instructions a pair. */
Test(glibc, library_tls_is_one_block)
{
    FILE *p = tool_on("readelf -lsW", shim_path());
    char line[512], names[512] = "";
    int segments = 0, vars = 0;
    unsigned long long memsz = 0, align = 0, osh_size = 0;
    while (fgets(line, sizeof line, p)) {
        unsigned long long off, va, pa, fs, ms, al;
        char flags[8], ty[16], bind[16], vis[16], ndx[16], name[256];
        unsigned num;
        unsigned long long value, size;
        if (sscanf(line, " TLS %llx %llx %llx %llx %llx %7s %llx", &off, &va, &pa, &fs, &ms, flags, &al) == 7) {
            segments++;
            memsz = ms;
            align = al;
        } else if (sscanf(line, " %u: %llx %llu %15s %15s %15s %15s %255s", &num, &value, &size, ty, bind, vis, ndx,
                          name) == 8 &&
                   !strcmp(ty, "TLS")) {
            vars++;
            if (!strcmp(name, "osh_t")) osh_size = size;
            if (strlen(names) + strlen(name) + 2 < sizeof names) {
                strcat(names, " ");
                strcat(names, name);
            }
        }
    }
    cr_assert_eq(pclose(p), 0);
    cr_expect_eq(segments, 1, "PT_TLS segments: %d", segments);
    cr_expect_eq(vars, 1, "TLS symbols:%s", names);
    cr_expect_neq(osh_size, 0, "no osh_t among the TLS symbols:%s", names);
    cr_expect_eq(memsz, osh_size, "PT_TLS is %llu bytes, osh_t %llu", memsz, osh_size);
    cr_expect(align && memsz % align == 0, "PT_TLS of %llu bytes, aligned %llu: its offset is not its size", memsz,
              align);
}

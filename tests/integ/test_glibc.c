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

/* Versioned symbols objdump -T lists for path; each one above 2.17 is a failure. */
static int versioned_symbols(const char *path)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "objdump -T '%s' 2>&1", path);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
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

/* Issue 12: one library for glibc 2.17 and later. No symbol of the library needs a
 * GLIBC_ version above 2.17 (objdump -T lists each with the version it binds to). */
#include <stdio.h>

#include "common.h"

static int version_above(const char *v, int major, int minor)
{
    int a = 0, b = 0;
    if (sscanf(v, "GLIBC_%d.%d", &a, &b) < 1) return 0;
    return a > major || (a == major && b > minor);
}

Test(glibc, no_symbol_version_above_2_17)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "objdump -T '%s'", shim_path());
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
            cr_expect(0, "needs %s: %s", v, line);
        }
    }
    pclose(p);
    cr_expect_gt(seen, 10, "objdump listed no versioned symbol");
    cr_expect_eq(above, 0);
}

/* The VM suite on real kernels (README "Real kernels"): scripts/kernels.sh boots Debian's oldest
 * and newest kernels served (bullseye 5.10, sid) under qemu, one at a time, runs tests/vm/suite.sh
 * in them and checks the results on the host (scripts/kernels_check.py). Each check it makes is one
 * expectation here, with its figure. Skipped only when qemu cannot be installed. make kernels runs
 * all four kernels. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *build_dir(void)
{
    const char *b = getenv("OVERSHIM_BUILD");
    return b && *b ? b : "build";
}

static void run_kernel(const char *suite)
{
    if (system("command -v qemu-system-x86_64 >/dev/null 2>&1") != 0)
        cr_skip_test("qemu-system-x86_64 is not installed and scripts/deps.sh vm could not install it: "
                     "the VM suite on %s is skipped", suite);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "BUILD='%s' KERNELS_QUICK=1 bash scripts/kernels.sh %s > '%s/kernels-%s.log' 2>&1", build_dir(), suite,
             build_dir(), suite);
    int rc = system(cmd);
    char path[1024];
    snprintf(path, sizeof path, "%s/kernels/out/%s/check.json", build_dir(), suite);
    /* one line a check: {"row": .., "user": .., "ok": true|false, "figure": ..} */
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import json,sys; [print(\"%%d\\t%%s [%%s] %%s\" %% (r[\"ok\"], r[\"row\"], r[\"user\"], r[\"figure\"]))"
             " for r in json.load(open(sys.argv[1]))[\"results\"]]' '%s'", path);
    FILE *p = popen(cmd, "r");
    cr_assert(p, "cannot read %s", path);
    char line[4096];
    int n = 0, bad = 0;
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = 0;
        n++;
        if (line[0] != '1') bad++;
        cr_expect(line[0] == '1', "%s: %s", suite, line + 2);
    }
    pclose(p);
    cr_assert(n > 40, "%s: only %d checks in %s (see %s/kernels-%s.log)", suite, n, path, build_dir(), suite);
    cr_expect(rc == 0 || bad > 0, "%s: scripts/kernels.sh exit %d with every check passing (see %s/kernels-%s.log)",
              suite, rc, build_dir(), suite);
}

/* Criterion runs these two at once with -j2: scripts/kernels.sh takes a lock, so the VMs boot
 * one after the other; the timeout covers the wait. */
Test(kernels, bullseye_5_10, .timeout = 1500) { run_kernel("bullseye"); }
Test(kernels, sid_newest, .timeout = 1500) { run_kernel("sid"); }

/* Shared helpers for integration tests. */
#ifndef TESTS_INTEG_COMMON_H
#define TESTS_INTEG_COMMON_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "../lib/run.h"

#define MAX_EVENTS 256

/* Path of a helper program built into build/tests. */
static inline const char *prog(const char *name)
{
    static char p[8][4096];
    static int k;
    char *b = p[k++ & 7];
    snprintf(b, 4096, "%s/tests/%s", build_dir(), name);
    return b;
}

/* The command, build/overshim. */
static inline const char *cli(void)
{
    static char p[4096];
    snprintf(p, sizeof p, "%s/overshim", build_dir());
    return p;
}

/* Parse the JSON Lines file the shim wrote in dir (the first overshim_pid*.jsonl). */
static inline int events_in(const char *dir, struct jval **ev)
{
    const char *f = find_file(dir, "overshim_pid", ".jsonl");
    cr_assert(f, "no JSON report in %s", dir);
    char err[256];
    int n = json_lines(f, ev, MAX_EVENTS, err, sizeof err);
    cr_assert_geq(n, 0, "%s: %s", f, err);
    return n;
}

static inline long long meminfo_kb(const char *key)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    long long v = -1;
    size_t k = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, k) && line[k] == ':') v = atoll(line + k + 1);
    if (f) fclose(f);
    return v;
}

/* The default JDK's feature release (java -version's "version \"N"), 0 if unknown. */
static inline int java_major(void)
{
    char *argv[] = {"java", "-version", NULL};
    struct run r;
    run_cmd(&r, argv, NULL, NULL, 0, 60);
    const char *v = strstr(r.err, "version \"");
    int m = v ? atoi(v + 9) : 0;
    if (m == 1 && v && v[10] == '.') m = atoi(v + 11); /* "1.8.0" */
    run_free(&r);
    return m;
}

#endif

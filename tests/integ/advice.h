/* What the advice tests share (test_advice.c, test_command.c): the command and the
 * sources, the box's facts, a program run under the shim with its events, the checks of
 * a remedy's words. */
#ifndef TESTS_INTEG_ADVICE_H
#define TESTS_INTEG_ADVICE_H

#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common.h"

static inline const char *src(const char *rel)
{
    static char p[4][4096];
    static int k;
    char *b = p[k++ & 3];
    if (!realpath(rel, b)) snprintf(b, 4096, "%s", rel);
    return b;
}

static inline long long ram_swap_pages(void) { return (meminfo_kb("MemTotal") + meminfo_kb("SwapTotal")) / 4; }

static inline int mode0(void)
{
    FILE *f = fopen("/proc/sys/vm/overcommit_memory", "r");
    int m = f ? fgetc(f) - '0' : -1;
    if (f) fclose(f);
    return m == 0;
}

struct rep {
    struct run r;
    struct jval *ev[MAX_EVENTS];
    int n;
    char *dir, *log;
};

static inline void rep_run(struct rep *o, const char *name, char *const argv[], char *const env[], int preload, int timeout)
{
    memset(o, 0, sizeof *o);
    o->dir = test_dir(name);
    run_cmd(&o->r, argv, env, o->dir, preload, timeout);
    const char *j = find_file(o->dir, "overshim_pid", ".jsonl");
    if (j) {
        char err[256];
        o->n = json_lines(j, o->ev, MAX_EVENTS, err, sizeof err);
        cr_assert_geq(o->n, 0, "%s: %s", j, err);
    }
    const char *l = find_file(o->dir, "overshim_pid", ".log");
    o->log = l ? read_all(l) : NULL;
}

static inline void rep_free(struct rep *o)
{
    for (int i = 0; i < o->n; i++) json_free(o->ev[i]);
    run_free(&o->r);
    free(o->log);
    free(o->dir);
}

/* The first enomem event for a call (NULL: any). */
static inline const struct jval *event_for(const struct rep *o, const char *call)
{
    for (int i = 0; i < o->n; i++) {
        const char *k = json_str(o->ev[i], "event"), *c = json_str(o->ev[i], "call.name");
        if (k && !strcmp(k, "enomem") && (!call || (c && !strcmp(c, call)))) return o->ev[i];
    }
    return NULL;
}

static inline void remedies_of(const struct jval *e, char *out, size_t cap)
{
    out[0] = 0;
    const struct jval *r = json_at(e, "verdict.remedies");
    for (size_t i = 0; r && i < r->n; i++) {
        strncat(out, r->items[i]->str, cap - strlen(out) - 2);
        strncat(out, "\n", cap - strlen(out) - 1);
    }
}

enum { C_PROG, PY, NODE, JAVA };
static const char *const foreign[4][8] __attribute__((unused)) = {
    [C_PROG] = {NULL},
    [PY] = {"python", "multiprocessing", "threading.", "ThreadPoolExecutor", "concurrent.futures", NULL},
    [NODE] = {"node", "worker_threads", "UV_THREADPOOL", "child_process", NULL},
    [JAVA] = {"java", "-Xs", "-Xm", "-XX", "JVM", NULL},
};

/* No flag or knob of another runtime; every term keyed; the runtime as the report names it. */
static inline void check_words(const struct jval *e, int who, const char *what)
{
    cr_assert(e, "%s: no enomem event", what);
    char all[16384];
    remedies_of(e, all, sizeof all);
    cr_expect(all[0], "%s: no remedies", what);
    for (int rt = 0; rt < 4; rt++) {
        if (rt == who) continue;
        for (int i = 0; foreign[rt][i]; i++)
            cr_expect(!strstr(all, foreign[rt][i]), "%s: '%s' in:\n%s", what, foreign[rt][i], all);
    }
    static const char *const names[4] = {"native", "python", "node", "jvm"};
    cr_expect_str_eq(json_str(e, "verdict.runtime"), names[who], "%s", what);
    const struct jval *t = json_at(e, "verdict.terms");
    cr_expect(t && t->n > 0, "%s: terms", what);
    for (size_t i = 0; t && i < t->n; i++) {
        const char *k = json_str(t->items[i], "key");
        cr_expect(k && k[0], "%s: term %zu has no key", what, i);
    }
}

static inline int has_remedy(const struct jval *e, const char *needle)
{
    char all[16384];
    remedies_of(e, all, sizeof all);
    return strstr(all, needle) != NULL;
}

#define NOBODY "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"

static inline const char *classes(void)
{
    static char p[4096];
    snprintf(p, sizeof p, "%s/tests", build_dir());
    return p;
}

static inline const char *snap(const char *name)
{
    static char p[4][4096];
    static int k;
    char *b = p[k++ & 3];
    snprintf(b, 4096, "%s", src("examples/snapshots"));
    strncat(b, "/", 4095 - strlen(b));
    strncat(b, name, 4095 - strlen(b));
    return b;
}

#endif

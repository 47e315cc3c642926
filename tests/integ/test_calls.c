/* One test per row of shim/symbols.def, generated from the table: the call passes
 * through under the shim as it does bare (tests/progs/calls.c makes it), and where
 * core/calls.def says it can be refused, an injected refusal fails it with the
 * errno the caller sees bare (ENOMEM, or EAGAIN for a task) and is reported as that
 * call. A row added without a way to call it fails here. */
#include <errno.h>
#include <stdint.h>

#include "common.h"

/* calls.def's default errno, and a filter that singles out the test's own call:
 * 0 when the call cannot be refused (free, exit...). */
static int refusable(const char *name, int *err)
{
#define CALL(id, nm, args, req, task, e) \
    if (!strcmp(name, #nm)) return *err = (e), 1;
#include "calls.def"
#undef CALL
    return 0;
}

/* The size each call of calls.c asks for (calls.def's request), so that the rule
 * matches that call and nothing glibc does first. */
static const char *rule_for(const char *name, char *buf, size_t cap)
{
    static const struct {
        const char *name, *size;
    } sizes[] = {{"mmap", "==1M"},         {"mmap64", "==1M"},     {"munmap", "==4K"},  {"mremap", "==32K"},
                 {"mprotect", "==1M"},     {"brk", "==4K"},        {"sbrk", "==4K"},    {"malloc", "==1000"},
                 {"calloc", "==1000"},     {"realloc", "==1000"},  {"reallocarray", "==1000"},
                 {"posix_memalign", "==1000"}, {"aligned_alloc", "==1K"}, {"memalign", "==1000"},
                 {"valloc", "==1000"},     {"pvalloc", "==1000"}, {"fallocate", "==1M"}};
    const char *size = "";
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (!strcmp(sizes[i].name, name)) size = sizes[i].size;
    snprintf(buf, cap, "%s%s", name, size);
    return buf;
}

static int exits(const char *name) { return !strcmp(name, "exit") || !strcmp(name, "_exit") || !strcmp(name, "_Exit"); }

static void run_calls(struct run *r, const char *name, const char *opts, int preload)
{
    char *argv[] = {(char *)prog("calls"), (char *)name, NULL};
    char env[4400];
    snprintf(env, sizeof env, "OVERSHIM_OPTIONS=%s", opts);
    char *extra[] = {env, NULL};
    run_cmd(r, argv, extra, NULL, preload, 30);
    cr_assert(!r->timed_out, "%s timed out", name);
}

static void check_row(const char *name, int required)
{
    char want[128];
    /* bare, and under the shim with no rule: the same line and status */
    struct run bare, shim;
    run_calls(&bare, name, "verbosity=0", 0);
    run_calls(&shim, name, "verbosity=0", 1);
    cr_expect_neq(strncmp(shim.out, name, strlen(name)) == 0 && strstr(shim.out, " unknown "), 1,
                  "%s: calls.c has no way to make this call", name);
    snprintf(want, sizeof want, "%s ok 0\n", name);
    cr_expect_str_eq(shim.out, want, "%s under the shim: %s (stderr %s)", name, shim.out, shim.err);
    if (strcmp(bare.out, want) != 0) {
        /* only an OPTIONAL name newer than this libc may be missing bare (the shim exports it) */
        snprintf(want, sizeof want, "%s absent 0\n", name);
        cr_expect(!required && !strcmp(bare.out, want), "%s bare: %s", name, bare.out);
    }
    int status = exits(name) ? 7 : 0;
    cr_expect_eq(bare.status, status, "%s bare: status %d", name, bare.status);
    cr_expect_eq(shim.status, status, "%s under the shim: status %d, stderr %s", name, shim.status, shim.err);
    cr_expect_str_eq(shim.err, bare.err, "%s: stderr differs", name);
    run_free(&bare);
    run_free(&shim);

    int err = 0;
    if (!refusable(name, &err)) return;
    /* an injected refusal: the caller sees the errno; the report names the call */
    char *dir = test_dir(name[0] == '_' ? name + 1 : name), rule[64], opts[4400];
    snprintf(opts, sizeof opts, "verbosity=0:dir=%s:inject=%s", dir, rule_for(name, rule, sizeof rule));
    struct run inj;
    run_calls(&inj, name, opts, 1);
    snprintf(want, sizeof want, "%s failed %d\n", name, err);
    cr_expect_str_eq(inj.out, want, "%s with inject=%s: %s (stderr %s)", name, rule, inj.out, inj.err);
    struct jval *ev[MAX_EVENTS];
    int n = events_in(dir, ev);
    const struct jval *e = json_event(ev, n, "enomem");
    cr_assert(e, "%s: no enomem event", name);
    cr_expect_str_eq(json_str(e, "call.name"), name);
    cr_expect_str_eq(json_str(e, "verdict.cause"), "injected");
    cr_expect_str_eq(json_str(e, "call.errno"), err == EAGAIN ? "EAGAIN" : err == ENOSPC ? "ENOSPC" : "ENOMEM");
    for (int i = 0; i < n; i++) json_free(ev[i]);
    run_free(&inj);
    free(dir);
}

#define REQUIRED 1
#define OPTIONAL 0
#define OSH_SYM(req, name) \
    Test(calls, name, .timeout = 60) { check_row(#name, req); }
#include "symbols.def"
#undef OSH_SYM

/* The two tables agree: every call that can be refused is an interposed symbol. */
Test(calls, every_refusable_call_is_interposed)
{
    static const char *const syms[] = {
#define OSH_SYM(req, name) #name,
#include "symbols.def"
#undef OSH_SYM
    };
#define CALL(id, nm, args, req, task, e)                                                             \
    {                                                                                               \
        int found = 0;                                                                              \
        for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) found |= !strcmp(syms[i], #nm);   \
        cr_expect(found, #nm " is in core/calls.def but not in shim/symbols.def");                  \
    }
#include "calls.def"
#undef CALL
}

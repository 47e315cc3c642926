/* Deterministic fault injection: rules that refuse chosen calls (inject=).
 * Grammar of one rule (several joined by ','):
 *   NAME [@N | @N-] [>=SIZE | <=SIZE | ==SIZE | >SIZE | <SIZE] [+FLAG]... [-FLAG]... [~THREAD] [!ERRNO]
 * NAME: an interposed call that can fail (mmap also matches mmap64); @N: only the
 * Nth matching call, @N-: the Nth and every later one; SIZE takes K/M/G; FLAG:
 * MAP_FIXED, MAP_NORESERVE, MAP_SHARED, MAP_PRIVATE, MAP_ANONYMOUS, MAP_HUGETLB,
 * MAP_STACK, PROT_READ, PROT_WRITE, PROT_EXEC, PROT_NONE; ~THREAD: the calling
 * thread's name (a trailing * matches a prefix); !ERRNO: ENOMEM (default),
 * EAGAIN (default for pthread_create, fork, clone, posix_spawn), EPERM, EINVAL. */
#ifndef OVERSHIM_INJECT_H
#define OVERSHIM_INJECT_H

#include <stddef.h>

#include "failure.h"

#define INJECT_MAX_RULES 16

/* One parsed rule, and the caller's set of them (the shim keeps one, policy.h). */
struct inject_rule {
    char text[96];
    unsigned calls;      /* bit per enum call_id */
    unsigned long nth;   /* 0: every match */
    int nth_plus;
    int size_op;         /* 0 none, 1 >=, 2 <=, 3 ==, 4 >, 5 < */
    unsigned long long size;
    int need_prot, forbid_prot, need_flags, forbid_flags;
    int need_prot_none;
    char thread[16];
    int thread_prefix;
    int err;
    unsigned long count;
};
struct inject_set {
    struct inject_rule rules[INJECT_MAX_RULES];
    int n;
};

/* Parse into s; 0, or -1 with a message naming the bad rule (s then has none). */
int inject_parse(struct inject_set *s, const char *text, char *err, size_t errcap);
/* Does a rule of s refuse this call? Returns the errno (and the rule's text in *rule),
 * or 0. thread: the calling thread's name. Counts matches; thread-safe. */
int inject_match(struct inject_set *s, const struct failed_call *fc, const char *thread, const char **rule,
                 unsigned long *nth);
int inject_active(const struct inject_set *s);

#endif

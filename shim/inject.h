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

/* Parse; 0, or -1 with a message naming the bad rule. */
int inject_parse(const char *text, char *err, size_t errcap);
/* Does a rule refuse this call? Returns the errno (and the rule's text in *rule),
 * or 0. thread: the calling thread's name. Counts matches; thread-safe. */
int inject_match(const struct failed_call *fc, const char *thread, const char **rule, unsigned long *nth);
int inject_active(void);

#endif

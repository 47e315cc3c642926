/* Report destinations: a path pattern (%p pid, %t unix time), "stderr" or "none".
 * Files are created O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, mode 0600, lazily, once
 * per process (a fork child opens its own). A planted symlink or an existing file
 * is never followed or overwritten: the next free name (.1, .2, ...) is used; an
 * unwritable directory falls back to $TMPDIR, then /tmp, then stderr. */
#ifndef OVERSHIM_OUTPUT_H
#define OVERSHIM_OUTPUT_H

#include <stddef.h>
#include <sys/types.h>

struct out_stream {
    const char *spec;   /* points into the options */
    int fd;             /* -1 none yet, -2 disabled ("none") */
    pid_t pid;          /* process that opened fd */
    char path[600];     /* where it went ("stderr" for fd 2) */
};

void out_setup(struct out_stream *s, const char *spec);
/* fd to write to for this process, opening on first use; -1 when disabled or
 * every fallback failed. */
int out_fd(struct out_stream *s);
/* Directory used as the first fallback ($TMPDIR, captured at start). */
void out_set_tmpdir(const char *dir);
/* Directory for relative paths (dir=), captured at start; "" for the cwd. */
void out_set_dir(const char *dir);
/* Expand %p and %t in spec into dst. */
void out_expand(const char *spec, pid_t pid, char *dst, size_t cap);

#endif

/* Report destinations: a path pattern (%p pid, %t unix time), "stdout", "stderr" or
 * "none". Regular files are created O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, mode 0600,
 * lazily, once per process (a fork child opens its own). A planted symlink or an
 * existing file is never followed or overwritten: the next free name (.1, .2, ...) is
 * used; an unwritable directory falls back to $TMPDIR, then /tmp, then stderr.
 * Paths that are not regular files are written to as they are: /dev/stdout,
 * /dev/stderr, /dev/fd/N and /proc/self/fd/N are the program's descriptors; /dev/null
 * is "none"; a character device or a FIFO is opened for writing (a FIFO without a
 * reader falls back as above); a Unix socket is connected to (stream, else datagram).
 * The shim's own descriptors are >= 3 and close-on-exec (rawsys.h). */
#ifndef OVERSHIM_OUTPUT_H
#define OVERSHIM_OUTPUT_H

#include <stddef.h>
#include <sys/types.h>

struct out_stream {
    const char *spec;   /* points into the options */
    int fd;             /* -1 none yet, -2 disabled ("none", /dev/null) */
    int owned;          /* fd is the shim's (a file, device, FIFO, socket), not the program's 1 or 2 */
    pid_t pid;          /* process that opened fd */
    char path[600];     /* where it went ("stderr" for fd 2, as given for a named fd) */
};

void out_setup(struct out_stream *s, const char *spec);
/* Close what out_fd opened for s, if the shim owns it (never the program's fds). */
void out_release(struct out_stream *s);
/* fd to write to for this process, opening on first use; -1 when disabled or
 * every fallback failed. */
int out_fd(struct out_stream *s);
/* Directory used as the first fallback ($TMPDIR, captured at start). */
void out_set_tmpdir(const char *dir);
/* Directory for relative paths (dir=), captured at start; "" for the cwd. */
void out_set_dir(const char *dir);
/* The descriptor a path names ("stdout", "/dev/stderr", "/dev/fd/5" ...), or -1. */
int out_named_fd(const char *path);
/* Expand %p and %t in spec into dst. */
void out_expand(const char *spec, pid_t pid, char *dst, size_t cap);

#endif

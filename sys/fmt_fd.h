/* The formatter (core/fmt.h) writing to a file descriptor: the buffer is written
 * with write(2) (raw, retried, PIPE_BUF chunks as rawsys does) whenever it fills. */
#ifndef OVERSHIM_FMT_FD_H
#define OVERSHIM_FMT_FD_H

#include "fmt.h"

/* fd < 0: a string buffer, as fb_init_str. */
void fb_init(struct fmtbuf *fb, char *buf, size_t cap, int fd);

#endif

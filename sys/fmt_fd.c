/* The formatter's file-descriptor sink (fmt_fd.h). */
#include "fmt_fd.h"

#include <stdint.h>

#include "rawsys.h"

static int fd_sink(void *ctx, const char *p, size_t n) { return raw_write_all((int)(intptr_t)ctx, p, n) < 0 ? -1 : 0; }

void fb_init(struct fmtbuf *fb, char *buf, size_t cap, int fd)
{
    fb_init_sink(fb, buf, cap, fd < 0 ? 0 : fd_sink, (void *)(intptr_t)fd);
}

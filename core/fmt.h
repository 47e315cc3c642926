/* A formatter that never allocates: text goes into a caller-supplied buffer and,
 * when the buffer has a sink, is handed to the sink whenever it fills (sys/fmt_fd.h:
 * a file descriptor). Used by every report renderer; safe when every further mmap
 * in the process would fail. No I/O of its own. */
#ifndef OVERSHIM_FMT_H
#define OVERSHIM_FMT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Takes n bytes of finished text; < 0: it failed (further output is dropped). */
typedef int (*fb_sink_fn)(void *ctx, const char *p, size_t n);

struct fmtbuf {
    char *buf;
    size_t cap, len;
    fb_sink_fn sink; /* NULL: a string buffer; text past cap is dropped and `truncated` set */
    void *ctx;
    int truncated;
    int failed;      /* the sink failed: further output is dropped */
};

void fb_init_sink(struct fmtbuf *fb, char *buf, size_t cap, fb_sink_fn sink, void *ctx);
/* A NUL-terminated string buffer (fb_cstr). */
static inline void fb_init_str(struct fmtbuf *fb, char *buf, size_t cap) { fb_init_sink(fb, buf, cap, 0, 0); }
void fb_flush(struct fmtbuf *fb);
void fb_putn(struct fmtbuf *fb, const char *s, size_t n);
void fb_puts(struct fmtbuf *fb, const char *s);
void fb_putc(struct fmtbuf *fb, char c);
/* printf subset: %s %c %d %i %u %x %p %% with l/ll/z length, '-' and '0' flags,
 * a width, %.Ns and %.*s. Also %pJ: a JSON string literal (quoted, escaped) from a
 * char* (a %p extension, as the kernel's %pK, so that the compiler checks every call). */
void fb_printf(struct fmtbuf *fb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fb_vprintf(struct fmtbuf *fb, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void fb_json_str(struct fmtbuf *fb, const char *s);
/* Human size: "512.0 MiB", "3.9 GiB", "12 KiB", "100 B" (one decimal above KiB). */
void fb_size(struct fmtbuf *fb, uint64_t bytes);
/* Same for a signed quantity. */
void fb_ssize(struct fmtbuf *fb, int64_t bytes);
/* NUL-terminated result for buffers without fd. */
const char *fb_cstr(struct fmtbuf *fb);

/* Make a message one printable line: control characters (a newline in echoed
 * input, say) become '?'. */
void osh_one_line(char *s);

/* snprintf replacement for the shim's own use (no locale, no malloc). */
int osh_snprintf(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int osh_vsnprintf(char *dst, size_t cap, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

#endif

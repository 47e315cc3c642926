/* No-allocation formatter (see fmt.h). */
#include "fmt.h"

#include <string.h>

void fb_init_sink(struct fmtbuf *fb, char *buf, size_t cap, fb_sink_fn sink, void *ctx)
{
    fb->buf = buf;
    fb->cap = cap;
    fb->len = 0;
    fb->sink = sink;
    fb->ctx = ctx;
    fb->truncated = 0;
    fb->failed = 0;
}

void fb_flush(struct fmtbuf *fb)
{
    if (!fb->sink) return;
    if (fb->len > 0 && !fb->failed && fb->sink(fb->ctx, fb->buf, fb->len) < 0) fb->failed = 1;
    fb->len = 0;
}

void fb_putn(struct fmtbuf *fb, const char *s, size_t n)
{
    /* keep one byte for a terminating NUL in buffers without a sink */
    size_t keep = fb->sink ? 0 : 1;
    while (n > 0) {
        size_t room = fb->cap > fb->len + keep ? fb->cap - fb->len - keep : 0;
        if (room == 0) {
            if (!fb->sink) {
                fb->truncated = 1;
                return;
            }
            fb_flush(fb);
            if (fb->cap <= keep) return;
            continue;
        }
        size_t k = n < room ? n : room;
        memcpy(fb->buf + fb->len, s, k);
        fb->len += k;
        s += k;
        n -= k;
    }
}

void fb_puts(struct fmtbuf *fb, const char *s) { fb_putn(fb, s, strlen(s)); }
void fb_putc(struct fmtbuf *fb, char c) { fb_putn(fb, &c, 1); }

const char *fb_cstr(struct fmtbuf *fb)
{
    if (fb->cap == 0) return "";
    size_t at = fb->len < fb->cap ? fb->len : fb->cap - 1;
    fb->buf[at] = 0;
    return fb->buf;
}

static void put_padded(struct fmtbuf *fb, const char *s, size_t n, int width, int left, char pad)
{
    int fill = width > (int)n ? width - (int)n : 0;
    if (!left && pad == '0' && n > 0 && s[0] == '-') {
        fb_putc(fb, '-');
        s++;
        n--;
    }
    if (!left)
        for (int i = 0; i < fill; i++) fb_putc(fb, pad);
    fb_putn(fb, s, n);
    if (left)
        for (int i = 0; i < fill; i++) fb_putc(fb, ' ');
}

static size_t utoa(char *out, unsigned long long v, unsigned base)
{
    char tmp[32];
    size_t n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    return n;
}

void fb_json_str(struct fmtbuf *fb, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    fb_putc(fb, '"');
    if (!s) s = "";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            fb_putc(fb, '\\');
            fb_putc(fb, (char)c);
        } else if (c == '\n') {
            fb_puts(fb, "\\n");
        } else if (c == '\t') {
            fb_puts(fb, "\\t");
        } else if (c < 0x20 || c == 0x7f) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            fb_putn(fb, e, 6);
        } else {
            fb_putc(fb, (char)c);
        }
    }
    fb_putc(fb, '"');
}

void fb_vprintf(struct fmtbuf *fb, const char *fmt, va_list ap)
{
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            const char *q = p;
            while (*q && *q != '%') q++;
            fb_putn(fb, p, (size_t)(q - p));
            p = q - 1;
            continue;
        }
        p++;
        int left = 0, width = 0, prec = -1, lng = 0;
        char pad = ' ';
        for (;; p++) {
            if (*p == '-') left = 1;
            else if (*p == '0') pad = '0';
            else break;
        }
        if (*p == '*') {
            width = va_arg(ap, int);
            p++;
        }
        while (*p >= '0' && *p <= '9') width = width * 10 + (*p++ - '0');
        if (*p == '.') {
            p++;
            prec = 0;
            if (*p == '*') {
                prec = va_arg(ap, int);
                p++;
            }
            while (*p >= '0' && *p <= '9') prec = prec * 10 + (*p++ - '0');
        }
        while (*p == 'l' || *p == 'z') {
            lng++;
            p++;
        }
        char num[40];
        size_t n;
        switch (*p) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) s = "(null)";
            size_t len = prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s);
            put_padded(fb, s, len, width, left, ' ');
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            put_padded(fb, &c, 1, width, left, ' ');
            break;
        }
        case 'd':
        case 'i': {
            long long v = lng ? va_arg(ap, long long) : va_arg(ap, int);
            unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
            n = 0;
            if (v < 0) num[n++] = '-';
            n += utoa(num + n, u, 10);
            put_padded(fb, num, n, width, left, pad);
            break;
        }
        case 'u':
        case 'x': {
            unsigned long long v = lng ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned);
            n = utoa(num, v, *p == 'x' ? 16 : 10);
            put_padded(fb, num, n, width, left, pad);
            break;
        }
        case 'p': {
            if (p[1] == 'J') { /* %pJ: a JSON string literal, as the kernel's %p extensions */
                p++;
                fb_json_str(fb, va_arg(ap, const char *));
                break;
            }
            uintptr_t v = (uintptr_t)va_arg(ap, void *);
            num[0] = '0';
            num[1] = 'x';
            n = 2 + utoa(num + 2, v, 16);
            put_padded(fb, num, n, width, left, ' ');
            break;
        }
        case '%':
            fb_putc(fb, '%');
            break;
        case 0:
            return;
        default:
            fb_putc(fb, '%');
            fb_putc(fb, *p);
        }
    }
}

void fb_printf(struct fmtbuf *fb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fb_vprintf(fb, fmt, ap);
    va_end(ap);
}

void fb_size(struct fmtbuf *fb, uint64_t b)
{
    static const char *unit[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    if (b < 1024) {
        fb_printf(fb, "%llu B", (unsigned long long)b);
        return;
    }
    /* one decimal, rounded: value*10 in the chosen unit */
    int u = 0;
    uint64_t div = 1024;
    while (u < 4 && b / div >= 1024) {
        div *= 1024;
        u++;
    }
    unsigned long long tenths = (unsigned long long)((b * 10 + div / 2) / div);
    if (b > UINT64_MAX / 10) tenths = (unsigned long long)(b / (div / 10));
    fb_printf(fb, "%llu.%llu %s", tenths / 10, tenths % 10, unit[u]);
}

void fb_ssize(struct fmtbuf *fb, int64_t b)
{
    if (b < 0) {
        fb_putc(fb, '-');
        fb_size(fb, (uint64_t)0 - (uint64_t)b);
    } else {
        fb_size(fb, (uint64_t)b);
    }
}

int osh_vsnprintf(char *dst, size_t cap, const char *fmt, va_list ap)
{
    struct fmtbuf fb;
    fb_init_str(&fb, dst, cap);
    fb_vprintf(&fb, fmt, ap);
    fb_cstr(&fb);
    return (int)fb.len;
}

int osh_snprintf(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = osh_vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
    return n;
}

void osh_one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = '?';
}

/* HotSpot's hs_err file (see hserr.h). */
#include "hserr.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rawsys.h"

static const char *line_end(const char *s, const char *end)
{
    const char *e = memchr(s, '\n', (size_t)(end - s));
    return e ? e : end;
}

static void copy_line(char *out, const char *s, const char *e)
{
    size_t n = (size_t)(e - s);
    if (n >= HSERR_LINE) n = HSERR_LINE - 1;
    memcpy(out, s, n);
    out[n] = 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)out[i] < 0x20) out[i] = ' ';
}

static const char *find(const char *s, const char *end, const char *needle)
{
    size_t k = strlen(needle);
    for (const char *p = s; p + k <= end; p++)
        if (*p == *needle && !memcmp(p, needle, k)) return p;
    return NULL;
}

int hserr_parse(const char *text, size_t len, struct hserr *h)
{
    const char *end = text + len;
    h->thread[0] = 0;
    h->nframes = 0;
    const char *c = find(text, end, "\nCurrent thread (");
    if (c) {
        c = memchr(c, ':', (size_t)(end - c));
        if (c) {
            c++;
            while (c < end && *c == ' ') c++;
            copy_line(h->thread, c, line_end(c, end));
        }
    }
    /* "Java frames:" when HotSpot printed them apart; else the j/J lines among the native frames */
    const char *s = find(text, end, "\nJava frames:");
    int apart = s != NULL;
    if (!s) s = find(text, end, "\nNative frames:");
    if (!s) return 0;
    s = line_end(s + 1, end);
    while (s < end && h->nframes < HSERR_FRAMES) {
        s++;
        const char *e = line_end(s, end);
        if (e == s) break; /* the blank line that ends the section */
        if (apart ? (e - s >= 2 && s[1] == ' ') : (e - s >= 2 && (s[0] == 'j' || s[0] == 'J') && s[1] == ' '))
            copy_line(h->frames[h->nframes++], s, e);
        s = e;
    }
    return h->nframes;
}

/* The file's first part (its thread and stacks come first), in a buffer mapped for
 * the read and given back after it. */
#define HEAD (48 * 1024)

static int try_path(struct hserr *h, const char *path)
{
    int fd = raw_open(path, O_RDONLY, 0);
    if (fd < 0) return 0;
    char *buf = raw_mmap(NULL, HEAD, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ssize_t n = buf == MAP_FAILED ? -1 : raw_pread(fd, buf, HEAD, 0);
    raw_close(fd);
    osh_snprintf(h->path, sizeof h->path, "%s", path);
    if (n > 0) hserr_parse(buf, (size_t)n, h);
    if (buf != MAP_FAILED) raw_munmap(buf, HEAD);
    return 1; /* the file is there, read or not */
}

int hserr_find(struct hserr *h, const char *cmdline, size_t n)
{
    char path[512];
    int pid = (int)raw_getpid();
    h->path[0] = 0;
    h->thread[0] = 0;
    h->nframes = 0;
    for (size_t i = 0; cmdline && i < n; i += strlen(cmdline + i) + 1) {
        const char *a = cmdline + i;
        if (strncmp(a, "-XX:ErrorFile=", 14) != 0) continue;
        /* %p is the pid, %% a percent sign */
        size_t k = 0;
        for (const char *p = a + 14; *p && k + 12 < sizeof path; p++) {
            if (p[0] == '%' && p[1] == 'p') k += (size_t)osh_snprintf(path + k, sizeof path - k, "%d", pid), p++;
            else if (p[0] == '%' && p[1] == '%') path[k++] = '%', p++;
            else path[k++] = *p;
        }
        path[k] = 0;
        if (try_path(h, path)) return 1;
    }
    char cwd[400];
    long r = syscall(SYS_getcwd, cwd, sizeof cwd);
    if (r > 0) {
        osh_snprintf(path, sizeof path, "%s/hs_err_pid%d.log", cwd, pid);
        if (try_path(h, path)) return 1;
    }
    osh_snprintf(path, sizeof path, "/tmp/hs_err_pid%d.log", pid);
    return try_path(h, path);
}

void hserr_json(struct fmtbuf *j, const struct hserr *h)
{
    fb_printf(j, ",\"hs_err\":{\"path\":%pJ,\"thread\":%pJ,\"java_frames\":[", h->path, h->thread);
    for (int i = 0; i < h->nframes; i++) fb_printf(j, "%s%pJ", i ? "," : "", h->frames[i]);
    fb_puts(j, "]}");
}

void hserr_text(struct fmtbuf *t, const struct hserr *h)
{
    fb_printf(t, "\nJAVA     from HotSpot's error file %s, written after this report:\n", h->path);
    if (h->thread[0]) fb_printf(t, "         thread %s\n", h->thread);
    if (!h->nframes) fb_puts(t, "         (no Java frames: the failing thread was running VM or native code only)\n");
    for (int i = 0; i < h->nframes; i++) fb_printf(t, "  %s\n", h->frames[i]);
}

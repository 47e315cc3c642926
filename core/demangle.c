/* C++ names without malloc (see demangle.h). */
#include "demangle.h"

#include <libiberty/demangle.h>
#include <stdarg.h>
#include <string.h>

#include "fmt.h"

struct sink {
    char *out;
    size_t cap, len;
    int cut;
};

static void put(const char *s, size_t n, void *p)
{
    struct sink *k = p;
    if (k->cut) return;
    if (k->len + n + 4 > k->cap) { /* room for "..." and the NUL */
        size_t fit = k->cap > k->len + 4 ? k->cap - k->len - 4 : 0;
        memcpy(k->out + k->len, s, fit);
        k->len += fit;
        memcpy(k->out + k->len, "...", 4);
        k->cut = 1;
        return;
    }
    memcpy(k->out + k->len, s, n);
    k->len += n;
    k->out[k->len] = 0;
}

int osh_demangle(const char *name, char *out, size_t cap)
{
    if (!cap) return 0;
    out[0] = 0;
    if (!name || name[0] != '_' || name[1] != 'Z' || strlen(name) > DEMANGLE_MAX_IN || cap < 8) return 0;
    struct sink k = {out, cap, 0, 0};
    if (!cplus_demangle_v3_callback(name, DMGL_PARAMS | DMGL_ANSI, put, &k) || !out[0]) {
        out[0] = 0;
        return 0;
    }
    return 1;
}

/* libiberty's copy calls these instead of malloc, realloc and free (its non-callback
 * entry points only, which the shim never uses): failing is all they may do. */
__attribute__((visibility("hidden"))) void *osh_demangle_no_malloc(size_t n);
__attribute__((visibility("hidden"))) void *osh_demangle_no_realloc(void *p, size_t n);
__attribute__((visibility("hidden"))) void osh_demangle_no_free(void *p);
void *osh_demangle_no_malloc(size_t n) { (void)n; return NULL; }
void *osh_demangle_no_realloc(void *p, size_t n) { (void)p, (void)n; return NULL; }
void osh_demangle_no_free(void *p) { (void)p; }

/* ... this instead of __stack_chk_fail (Debian builds libiberty with the stack protector):
 * a smashed frame stops the process at once, as glibc's would, without the import (its
 * GLIBC_2.4 version costs every process start a version check) ... */
__attribute__((visibility("hidden"), noreturn)) void osh_demangle_stack_chk_fail(void);
void osh_demangle_stack_chk_fail(void) { __builtin_trap(); }

/* ... and this instead of sprintf (the fortified __sprintf_chk: a number into its
 * small buffer, d_append_num's "%d"): the formatter, bounded by the buffer's size. */
__attribute__((visibility("hidden"))) int osh_demangle_sprintf_chk(char *s, int flag, size_t slen, const char *fmt, ...);
int osh_demangle_sprintf_chk(char *s, int flag, size_t slen, const char *fmt, ...)
{
    (void)flag;
    va_list ap;
    va_start(ap, fmt);
    int n = osh_vsnprintf(s, slen, fmt, ap);
    va_end(ap);
    return n;
}

/* Whether glibc's tcache behaves as tcache.h assumes, decided once at start. */
#include <gnu/libc-version.h>
#include <stdlib.h>
#include <string.h>

#include "resolve.h"
#include "tcache.h"

/* Digits at *p, advancing p; -1 when there is none (or too many). Not strtol: glibc 2.38+
 * redirects it to __isoc23_strtol@GLIBC_2.38 under _GNU_SOURCE, which an older glibc lacks. */
static long digits(const char **p)
{
    long v = -1;
    for (int k = 0; **p >= '0' && **p <= '9'; (*p)++, k++) {
        if (k == 6) return -1;
        v = (v < 0 ? 0 : v * 10) + (**p - '0');
    }
    return v;
}

/* "2.36" -> 236; 0 when unreadable. */
static int version_number(const char *v)
{
    long major = digits(&v);
    if (*v != '.') return 0;
    v++;
    long minor = digits(&v);
    return major > 0 && minor >= 0 && minor < 100 ? (int)(major * 100 + minor) : 0;
}

int tcache_predictable(void)
{
#if defined(__x86_64__)
    if (!osh_glibc_chunks) return 0;
    int v = version_number(gnu_get_libc_version());
    /* 2.26 brought the tcache; 2.42 rebuilt it (num_slots, large bins): unverified there. */
    if (v < 226 || v > 241) return 0;
    const char *t = getenv("GLIBC_TUNABLES");
    return !(t && strstr(t, "tcache"));
#else
    return 0;
#endif
}

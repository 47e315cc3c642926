/* Whether glibc's tcache behaves as tcache.h assumes, decided once at start. */
#include <gnu/libc-version.h>
#include <stdlib.h>
#include <string.h>

#include "resolve.h"
#include "tcache.h"

/* "2.36" -> 236; 0 when unreadable. */
static int version_number(const char *v)
{
    char *end;
    long major = strtol(v, &end, 10);
    if (*end != '.') return 0;
    long minor = strtol(end + 1, &end, 10);
    return major > 0 && minor >= 0 && minor < 100 ? (int)(major * 100 + minor) : 0;
}

int tcache_predictable(void)
{
#if defined(__x86_64__)
    if (!os_glibc_chunks) return 0;
    int v = version_number(gnu_get_libc_version());
    /* 2.26 brought the tcache; 2.42 rebuilt it (num_slots, large bins): unverified there. */
    if (v < 226 || v > 241) return 0;
    const char *t = getenv("GLIBC_TUNABLES");
    return !(t && strstr(t, "tcache"));
#else
    return 0;
#endif
}

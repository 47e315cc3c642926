/* Which program was refused (see runtime.h). */
#include "runtime.h"

#include <link.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fmt.h"
#include "rawsys.h"


int64_t runtime_jvm_size(const char *s)
{
    if (*s < '0' || *s > '9') return -1;
    int64_t v = 0;
    while (*s >= '0' && *s <= '9') {
        if (v > (INT64_MAX >> 41)) return -1;
        v = v * 10 + (*s++ - '0');
    }
    int shift = 0;
    switch (*s) {
    case 0: break;
    case 'k': case 'K': shift = 10; s++; break;
    case 'm': case 'M': shift = 20; s++; break;
    case 'g': case 'G': shift = 30; s++; break;
    case 't': case 'T': shift = 40; s++; break;
    default: return -1;
    }
    return *s ? -1 : v << shift;
}

static int starts(const char *a, const char *p) { return !strncmp(a, p, strlen(p)); }

/* HotSpot reads its options before the main class or -jar; the last one of a kind wins. */
void runtime_jvm_flags(struct prog_facts *p, const char *cmd, size_t len)
{
    const char *end = cmd + len;
    const char *a = cmd;
    a += strnlen(a, (size_t)(end - a)) + 1; /* argv[0] */
    while (a < end) {
        size_t n = strnlen(a, (size_t)(end - a));
        const char *next = a + n + 1;
        if (a[0] != '-') break; /* the main class */
        int64_t v;
        if (!strcmp(a, "-jar")) break;
        if (!strcmp(a, "-cp") || !strcmp(a, "-classpath") || !strcmp(a, "--class-path") || !strcmp(a, "-p") ||
            !strcmp(a, "--module-path") || !strcmp(a, "--add-modules") || !strcmp(a, "-m") || !strcmp(a, "--module")) {
            if (!strcmp(a, "-m") || !strcmp(a, "--module")) break;
            a = next < end ? next + strnlen(next, (size_t)(end - next)) + 1 : end;
            continue;
        }
        if (starts(a, "-Xmx") && (v = runtime_jvm_size(a + 4)) > 0) p->xmx = v;
        else if (starts(a, "-XX:MaxHeapSize=") && (v = runtime_jvm_size(a + 16)) > 0) p->xmx = v;
        else if (starts(a, "-Xms") && (v = runtime_jvm_size(a + 4)) > 0) p->xms = v;
        else if (starts(a, "-XX:InitialHeapSize=") && (v = runtime_jvm_size(a + 20)) > 0) p->xms = v;
        else if (starts(a, "-Xss") && (v = runtime_jvm_size(a + 4)) > 0) p->xss = v;
        else if (starts(a, "-XX:ThreadStackSize=") && (v = runtime_jvm_size(a + 20)) > 0) p->xss = v * 1024; /* KiB */
        else if (starts(a, "-XX:ReservedCodeCacheSize=") && (v = runtime_jvm_size(a + 26)) > 0) p->code_cache = v;
        else if (starts(a, "-XX:CompressedClassSpaceSize=") && (v = runtime_jvm_size(a + 29)) > 0) p->class_space = v;
        else if (starts(a, "-XX:MaxDirectMemorySize=") && (v = runtime_jvm_size(a + 24)) >= 0) p->max_direct = v;
        else if (!strcmp(a, "-XX:-TieredCompilation")) p->tiered_off = 1;
        else if (!strcmp(a, "-XX:+TieredCompilation")) p->tiered_off = 0;
        else if (!strcmp(a, "-Xshare:off")) p->share_off = 1;
        a = next;
    }
}

/* The last path component of the process's cgroup that names a systemd service
 * ("0::/system.slice/nginx.service", or v1 "1:name=systemd:/system.slice/x.service"). */
void runtime_service(struct prog_facts *p, const char *t)
{
    p->service[0] = 0;
    for (const char *line = t; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        const char *path = memchr(line, ':', n);
        path = path ? memchr(path + 1, ':', n - (size_t)(path + 1 - line)) : NULL;
        if (path) {
            path++;
            const char *lineend = line + n, *comp = path;
            for (const char *q = path; q < lineend; q++)
                if (*q == '/') comp = q + 1;
            size_t cl = (size_t)(lineend - comp);
            if (cl > 8 && cl < sizeof p->service && !memcmp(lineend - 8, ".service", 8)) {
                memcpy(p->service, comp, cl);
                p->service[cl] = 0;
                if (line[0] == '0') return; /* the unified hierarchy is the one systemd manages */
            }
        }
        line = nl ? nl + 1 : NULL;
    }
}

static int visit(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    int *rt = data;
    const char *n = info->dlpi_name ? info->dlpi_name : "";
    const char *b = strrchr(n, '/');
    b = b ? b + 1 : n;
    if (!strncmp(b, "libjvm.so", 9)) *rt = RT_JVM;
    else if (*rt == RT_NATIVE && !strncmp(b, "libpython", 9)) *rt = RT_PYTHON;
    else if (*rt == RT_NATIVE && !strncmp(b, "libnode.so", 10)) *rt = RT_NODE;
    return 0;
}

static int64_t env_num(const char *env, size_t len, const char *key)
{
    size_t k = strlen(key);
    for (const char *e = env; e < env + len; e += strnlen(e, (size_t)(env + len - e)) + 1)
        if (!strncmp(e, key, k) && e[k] == '=') return runtime_jvm_size(e + k + 1);
    return -1;
}

void runtime_facts(struct prog_facts *p, const struct frame *fr, int nf)
{
    size_t text_cap;
    char *text = raw_scratch(&text_cap); /* report lock held */
    memset(p, 0, sizeof *p);
    p->malloc_live_bytes = -1;
    int rt = RT_NATIVE;
    dl_iterate_phdr(visit, &rt);
    if (rt == RT_NATIVE) { /* a runtime linked into its executable (Debian's python3, node) */
        char exe[512];
        long n = syscall(SYS_readlink, "/proc/self/exe", exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = 0;
        const char *b = strrchr(exe, '/');
        b = b ? b + 1 : exe;
        if (!strncmp(b, "python", 6)) rt = RT_PYTHON;
        else if (!strcmp(b, "node") || !strcmp(b, "nodejs")) rt = RT_NODE;
        /* PostgreSQL's default huge_pages = try: a refused MAP_HUGETLB, then normal pages */
        p->huge_fallback = !strcmp(b, "postgres") || !strcmp(b, "postmaster");
    }
    p->runtime = rt;
    ssize_t n;
    if (rt == RT_JVM && (n = raw_read_file("/proc/self/cmdline", text, text_cap)) > 0)
        runtime_jvm_flags(p, text, (size_t)n);
    if ((n = raw_read_file("/proc/self/environ", text, text_cap)) > 0) {
        int64_t a = env_num(text, (size_t)n, "MALLOC_ARENA_MAX");
        p->arena_max = a > 0 ? a : 0;
    }
    char cg[2048];
    if (raw_read_file("/proc/self/cgroup", cg, sizeof cg) > 0) runtime_service(p, cg);
    if (rt != RT_JVM) return;
    for (int i = 0; i < nf; i++)
        if (fr[i].symbol && !strcmp(fr[i].symbol, "JNI_CreateJavaVM")) p->jvm_starting = 1;
    /* libjvm called malloc, and the first frame past libjvm is generated code (the
     * interpreter or JIT: no module): a native method of Java code, such as
     * Unsafe_AllocateMemory0 behind ByteBuffer.allocateDirect */
    int i = 0;
    while (i < nf && fr[i].module && strstr(fr[i].module, "/libjvm.so")) i++;
    p->java_malloc = i > 0 && i < nf && !fr[i].module;
}

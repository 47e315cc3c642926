/* The layout the README's Layout section describes, checked on the tree and on the
 * objects the library is linked from: core/ and sys/ reference no allocator, no stdio
 * and no environment; core/ does no I/O and keeps no writable state; the project's
 * #include graph has no cycle and no layer includes one above it; no source file is
 * over 600 lines. */
#include <dirent.h>
#include <libgen.h>
#include <sys/stat.h>

#include "common.h"

#define MAXF 512
#define MAXINC 64

/* The source tree: the build directory's parent (make test and the matrix both run
 * from the tree's root). */
static const char *root(void)
{
    static char r[4096];
    if (!r[0]) {
        char b[4096];
        snprintf(b, sizeof b, "%s", build_dir());
        snprintf(r, sizeof r, "%s", dirname(b));
    }
    return r;
}

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* Names of the files in root/dir ending in one of the suffixes, sorted. */
static int list(const char *dir, const char *const *suf, char names[][256], int max)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", root(), dir);
    DIR *d = opendir(p);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max)
        for (const char *const *s = suf; *s; s++)
            if (has_suffix(e->d_name, *s)) {
                snprintf(names[n++], 256, "%s", e->d_name);
                break;
            }
    closedir(d);
    qsort(names, (size_t)n, 256, (int (*)(const void *, const void *))strcmp);
    return n;
}

static const char *const C_ONLY[] = {".c", NULL};

/* The undefined symbols of an object, one per line, into a static buffer. */
static char *undefined(const char *obj)
{
    static char out[1 << 16];
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "nm -u '%s' 2>&1", obj);
    FILE *f = popen(cmd, "r");
    cr_assert(f, "popen nm");
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = 0;
    cr_assert_eq(pclose(f), 0, "nm -u %s: %s", obj, out);
    return out;
}

static int forbidden(const char *sym)
{
    static const char *const exact[] = {
        "malloc", "calloc", "realloc", "free", "reallocarray", "posix_memalign", "aligned_alloc", "memalign",
        "valloc", "pvalloc", "strdup", "strndup", "asprintf", "vasprintf", "getenv", "secure_getenv",
        "__libc_secure_getenv", "printf", "fprintf", "sprintf", "snprintf", "vprintf", "vfprintf", "vsprintf",
        "vsnprintf", "dprintf", "vdprintf", "puts", "fputs", "fputc", "putc", "putchar", "fwrite", "fread",
        "fopen", "fopen64", "fdopen", "freopen", "fclose", "fflush", "fgets", "fgetc", "getc", "getline",
        "getdelim", "perror", "setvbuf", "setbuf", "stdin", "stdout", "stderr", "open_memstream", "fmemopen",
        NULL};
    for (const char *const *e = exact; *e; e++)
        if (!strcmp(sym, *e)) return 1;
    /* the fortified forms (__sprintf_chk, __fprintf_chk...) and libio's internals */
    if (!strncmp(sym, "_IO_", 4)) return 1;
    if (has_suffix(sym, "printf_chk") || !strcmp(sym, "__fgets_chk") || !strcmp(sym, "__fread_chk")) return 1;
    return 0;
}

/* Every .c of dir has its object in build/dir, and none of them references a
 * forbidden symbol. Returns the number of objects checked. */
static int check_folder(const char *dir)
{
    static char names[MAXF][256];
    int n = list(dir, C_ONLY, names, MAXF);
    cr_assert_gt(n, 0, "%s/%s: no sources", root(), dir);
    for (int i = 0; i < n; i++) {
        char obj[4400];
        snprintf(obj, sizeof obj, "%s/%s/%.*s.o", build_dir(), dir, (int)strlen(names[i]) - 2, names[i]);
        struct stat st;
        cr_assert_eq(stat(obj, &st), 0, "%s: not built (make all builds every object of %s/)", obj, dir);
        char *u = undefined(obj);
        for (char *line = strtok(u, "\n"); line; line = strtok(NULL, "\n")) {
            char *sym = strrchr(line, ' ');
            sym = sym ? sym + 1 : line;
            char *at = strchr(sym, '@');
            if (at) *at = 0;
            cr_expect(!forbidden(sym), "%s/%s references %s", dir, names[i], sym);
        }
    }
    return n;
}

Test(layout, core_and_sys_objects_use_no_allocator_stdio_or_environment)
{
    int c = check_folder("core"), s = check_folder("sys");
    cr_assert_geq(c, 10, "core/ has %d sources", c);
    cr_assert_geq(s, 10, "sys/ has %d sources", s);
}

/* core/ does no I/O: its objects' undefined symbols are each other's, or pure
 * functions of libc's string family. And it keeps no writable state (.data, .bss). */
Test(layout, core_objects_do_no_io_and_keep_no_state)
{
    static char names[MAXF][256];
    static const char *const pure[] = {"memcpy", "memmove", "memset", "memcmp", "memchr", "strlen", "strnlen",
                                       "strcmp", "strncmp", "strchr", "strrchr", "strstr", "strncpy",
                                       "strcpy", "_GLOBAL_OFFSET_TABLE_",
                                       /* libiberty's demangler is built with the stack protector */
                                       "__stack_chk_fail", NULL};
    int n = list("core", C_ONLY, names, MAXF);
    cr_assert_gt(n, 0);
    /* what core/ defines */
    char cmd[8192];
    int k = snprintf(cmd, sizeof cmd, "nm --defined-only -g");
    for (int i = 0; i < n; i++)
        k += snprintf(cmd + k, sizeof cmd - (size_t)k, " '%s/core/%.*s.o'", build_dir(), (int)strlen(names[i]) - 2,
                      names[i]);
    snprintf(cmd + k, sizeof cmd - (size_t)k, " 2>/dev/null | awk 'NF==3 {print $3}'");
    FILE *f = popen(cmd, "r");
    cr_assert(f);
    static char defs[1 << 18];
    size_t dn = fread(defs + 1, 1, sizeof defs - 3, f);
    pclose(f);
    defs[0] = '\n';
    defs[dn + 1] = 0;
    cr_assert_gt(dn, 100, "no symbols defined in core/");
    for (int i = 0; i < n; i++) {
        char obj[4400];
        snprintf(obj, sizeof obj, "%s/core/%.*s.o", build_dir(), (int)strlen(names[i]) - 2, names[i]);
        char *u = undefined(obj);
        for (char *line = strtok(u, "\n"); line; line = strtok(NULL, "\n")) {
            char *sym = strrchr(line, ' ');
            sym = sym ? sym + 1 : line;
            int ok = 0;
            for (const char *const *p = pure; *p && !ok; p++) ok = !strcmp(sym, *p);
            char key[300];
            snprintf(key, sizeof key, "\n%s\n", sym);
            if (!ok) ok = strstr(defs, key) != NULL;
            cr_expect(ok, "core/%s calls %s, which is neither core/'s nor a pure libc function", names[i], sym);
        }
        /* writable state: symbols in .data or .bss (.data.rel.ro is read-only once relocated) */
        snprintf(cmd, sizeof cmd,
                 "objdump -t '%s' | awk '$2 ~ /[lg]/ && ($4 ~ /^\\.(data|bss)/) && $4 !~ /rel\\.ro/ && $3 == \"O\" "
                 "{print $NF\" in \"$4}'",
                 obj);
        f = popen(cmd, "r");
        cr_assert(f);
        char state[4096];
        size_t sn = fread(state, 1, sizeof state - 1, f);
        state[sn] = 0;
        pclose(f);
        cr_expect_eq(sn, 0, "core/%s keeps writable state: %s", names[i], state);
    }
}

/* The include graph. Nodes: every .c, .h and .def of the project's folders; an edge
 * for each #include "x" that names one of them (found as the compiler would: next to
 * the including file, then core/, sys/, shim/, include/, cli/). */
static const char *const DIRS[] = {"core", "sys", "shim", "cli", "cli/lib", "include", "tests/unit", "tests/integ",
                                   "tests/lib", "tests/fuzz", "tests/tsan", "tests/bench", "tests/progs", "tests/kernels", "tests/vm",
                                   "cli/compat", "examples/c", NULL};
static const char *const SRC_SUF[] = {".c", ".h", ".def", NULL};
static const char *const SEARCH[] = {"core", "sys", "shim", "include", "cli", "cli/lib", NULL};

static struct node {
    char path[300]; /* relative to root */
    int inc[MAXINC], ninc;
    int color; /* 0 white, 1 on the stack, 2 done */
} nodes[MAXF];
static int nnodes;

static int find_node(const char *rel)
{
    for (int i = 0; i < nnodes; i++)
        if (!strcmp(nodes[i].path, rel)) return i;
    return -1;
}

static void load_graph(void)
{
    nnodes = 0;
    static char names[MAXF][256];
    for (const char *const *d = DIRS; *d; d++) {
        int n = list(*d, SRC_SUF, names, MAXF);
        for (int i = 0; i < n && nnodes < MAXF; i++)
            snprintf(nodes[nnodes++].path, sizeof nodes[0].path, "%.40s/%.250s", *d, names[i]);
    }
    cr_assert_gt(nnodes, 50, "only %d source files found under %s", nnodes, root());
    for (int i = 0; i < nnodes; i++) {
        char p[4400];
        snprintf(p, sizeof p, "%.4000s/%.299s", root(), nodes[i].path);
        char *text = read_all(p);
        cr_assert(text, "%s", p);
        for (char *l = text; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
            if (strncmp(l, "#include \"", 10)) continue;
            char name[256];
            const char *q = strchr(l + 10, '"');
            if (!q || q - (l + 10) >= (long)sizeof name) continue;
            snprintf(name, sizeof name, "%.*s", (int)(q - (l + 10)), l + 10);
            char dir[300], rel[600];
            snprintf(dir, sizeof dir, "%.299s", nodes[i].path);
            *strrchr(dir, '/') = 0;
            /* relative to the including file, then the include path */
            int to = -1;
            snprintf(rel, sizeof rel, "%s/%s", dir, name);
            /* fold "a/b/../c" */
            char *dd;
            while ((dd = strstr(rel, "/../")) != NULL) {
                char *s = dd - 1;
                while (s > rel && *s != '/') s--;
                if (*s == '/') memmove(s, dd + 3, strlen(dd + 3) + 1);
                else memmove(rel, dd + 4, strlen(dd + 4) + 1);
            }
            to = find_node(rel);
            for (const char *const *s = SEARCH; *s && to < 0; s++) {
                snprintf(rel, sizeof rel, "%s/%s", *s, name);
                to = find_node(rel);
            }
            if (to >= 0 && nodes[i].ninc < MAXINC) nodes[i].inc[nodes[i].ninc++] = to;
        }
        free(text);
    }
}

static int cycle_at(int v, char *path, size_t cap)
{
    nodes[v].color = 1;
    for (int k = 0; k < nodes[v].ninc; k++) {
        int w = nodes[v].inc[k];
        if (nodes[w].color == 1 || (nodes[w].color == 0 && cycle_at(w, path, cap))) {
            size_t n = strlen(path);
            snprintf(path + n, cap - n, "%s%s", n ? " <- " : "", nodes[w].path);
            return 1;
        }
    }
    nodes[v].color = 2;
    return 0;
}

Test(layout, include_graph_has_no_cycle)
{
    load_graph();
    char path[4096] = "";
    for (int i = 0; i < nnodes; i++)
        if (nodes[i].color == 0 && cycle_at(i, path, sizeof path)) cr_assert_fail("include cycle: %s", path);
}

static int layer(const char *path)
{
    if (!strncmp(path, "core/", 5)) return 0;
    if (!strncmp(path, "sys/", 4)) return 1;
    if (!strncmp(path, "shim/", 5)) return 2;
    return -1;
}

/* core/ includes only core/; sys/ core/ and sys/; the command (cli/) nothing of
 * shim/ (it links core/ and sys/ only). */
Test(layout, no_folder_includes_one_above_it)
{
    load_graph();
    for (int i = 0; i < nnodes; i++) {
        int from = layer(nodes[i].path), is_cli = !strncmp(nodes[i].path, "cli/", 4);
        for (int k = 0; k < nodes[i].ninc; k++) {
            const char *to = nodes[nodes[i].inc[k]].path;
            if (from >= 0) cr_expect_leq(layer(to), from, "%s includes %s", nodes[i].path, to);
            if (is_cli) cr_expect_neq(layer(to), 2, "%s includes %s", nodes[i].path, to);
        }
    }
}

Test(layout, no_source_file_over_600_lines)
{
    load_graph();
    for (int i = 0; i < nnodes; i++) {
        char p[4400];
        snprintf(p, sizeof p, "%.4000s/%.299s", root(), nodes[i].path);
        char *t = read_all(p);
        int lines = 0;
        for (char *c = t; *c; c++) lines += *c == '\n';
        free(t);
        cr_expect_leq(lines, 600, "%s has %d lines", nodes[i].path, lines);
    }
}

/* overshim symbolize FILE.jsonl: names for every frame of every report, offline.
 * The shim records module + offset + build-id only (always right, even for
 * stripped libraries); here elfutils reads .symtab, and DWARF from the module or
 * from a debug file found by build-id (/usr/lib/debug/.build-id), for function
 * names (demangled), source lines and inlined frames. */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

static const char *demangle(const char *name, char **owned)
{
    *owned = NULL;
    if (!name || strncmp(name, "_Z", 2) != 0) return name;
    int st = 0;
    char *d = __cxa_demangle(name, NULL, NULL, &st);
    if (st == 0 && d) return *owned = d;
    free(d);
    return name;
}

struct mod {
    char path[1024];
    Dwfl *dwfl;
    Dwfl_Module *m;
    int mismatch; /* the file on disk is not the one that ran */
};

static struct mod mods[64];
static int nmods;

static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
};

static struct mod *module(const char *path, const char *build_id)
{
    for (int i = 0; i < nmods; i++)
        if (!strcmp(mods[i].path, path)) return &mods[i];
    if (nmods == 64) return NULL;
    struct mod *m = &mods[nmods++];
    memset(m, 0, sizeof *m);
    snprintf(m->path, sizeof m->path, "%s", path);
    m->dwfl = dwfl_begin(&callbacks);
    if (!m->dwfl) return m;
    dwfl_report_begin(m->dwfl);
    const char *base = strrchr(path, '/');
    m->m = dwfl_report_elf(m->dwfl, base ? base + 1 : path, path, -1, 0, false);
    dwfl_report_end(m->dwfl, NULL, NULL);
    if (m->m && build_id && *build_id) {
        const unsigned char *bits;
        GElf_Addr vaddr;
        int n = dwfl_module_build_id(m->m, &bits, &vaddr);
        char hex[256] = "";
        for (int i = 0; i < n && i < 100; i++) sprintf(hex + 2 * i, "%02x", bits[i]);
        m->mismatch = n <= 0 || strcmp(hex, build_id) != 0;
    }
    return m;
}

/* The chain of inlined calls at pc, innermost first. */
static void inlines(Dwfl_Module *m, GElf_Addr pc)
{
    Dwarf_Addr bias;
    Dwarf_Die *cu = dwfl_module_addrdie(m, pc, &bias);
    if (!cu) return;
    Dwarf_Die *scopes = NULL;
    int n = dwarf_getscopes(cu, pc - bias, &scopes);
    for (int i = 0; i < n; i++) {
        if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine) continue;
        Dwarf_Attribute a;
        const char *name = NULL;
        if (dwarf_attr_integrate(&scopes[i], DW_AT_linkage_name, &a)) name = dwarf_formstring(&a);
        if (!name && dwarf_attr_integrate(&scopes[i], DW_AT_name, &a)) name = dwarf_formstring(&a);
        Dwarf_Word line = 0;
        if (dwarf_attr(&scopes[i], DW_AT_call_line, &a)) dwarf_formudata(&a, &line);
        char *owned;
        printf("        inlined: %s (called at line %llu)\n", demangle(name ? name : "?", &owned),
               (unsigned long long)line);
        free(owned);
    }
    free(scopes);
}

static void frame(int i, const struct jval *f)
{
    const char *path = json_str(f, "module");
    const char *bid = json_str(f, "build_id");
    unsigned long long off = (unsigned long long)json_int(f, "offset", 0);
    const char *base = path && *path ? strrchr(path, '/') : NULL;
    printf("  #%-2d %s+0x%llx", i, path && *path ? (base ? base + 1 : path) : "[anonymous code]", off);
    if (!path || !*path) {
        printf("  (JIT or anonymous code: no file to read)\n");
        return;
    }
    struct mod *m = module(path, bid);
    if (!m || !m->m) {
        printf("  (cannot read %s)\n", path);
        return;
    }
    if (m->mismatch) {
        printf("  (%s on disk has another build-id: it changed since the report)\n", path);
        return;
    }
    GElf_Addr pc = off - (i > 0 ? 1 : 0); /* a return address points after the call */
    GElf_Off symoff = 0;
    GElf_Sym sym;
    const char *name = dwfl_module_addrinfo(m->m, pc, &symoff, &sym, NULL, NULL, NULL);
    char *owned;
    if (name) printf("  %s+0x%llx", demangle(name, &owned), (unsigned long long)(symoff + (i > 0 ? 1 : 0)));
    else printf("  ?"), owned = NULL;
    free(owned);
    Dwfl_Line *line = dwfl_module_getsrc(m->m, pc);
    int lineno = 0;
    const char *src = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
    if (src) {
        const char *s = strrchr(src, '/');
        printf("  %s:%d", s ? s + 1 : src, lineno);
    }
    printf("\n");
    inlines(m->m, pc);
}

int cmd_symbolize(int argc, char **argv);
int cmd_symbolize(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: overshim symbolize FILE.jsonl\n");
        return 2;
    }
    FILE *in = fopen(argv[0], "r");
    if (!in) {
        perror(argv[0]);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, reports = 0, bad = 0;
    while (getline(&line, &cap, in) > 0) {
        lineno++;
        char err[200];
        struct jval *e = json_parse(line, err, sizeof err);
        if (!e) {
            fprintf(stderr, "overshim: %s: line %d: %s\n", argv[0], lineno, err);
            bad = 1;
            continue;
        }
        const char *ev = json_str(e, "event");
        const struct jval *st = json_at(e, "stack");
        if (ev && !strcmp(ev, "enomem") && st) {
            reports++;
            printf("%s%s refused with %s (%s), pid %lld, thread %lld \"%s\"%s\n", reports > 1 ? "\n" : "",
                   json_str(e, "call.name"), json_str(e, "call.errno"), json_str(e, "verdict.cause"),
                   json_int(e, "pid", 0), json_int(e, "tid", 0), json_str(e, "thread.name"),
                   json_at(e, "simulated") && json_at(e, "simulated")->boolean ? " (simulated)" : "");
            for (size_t i = 0; i < st->n; i++) frame((int)i, st->items[i]);
        }
        json_free(e);
    }
    free(line);
    fclose(in);
    for (int i = 0; i < nmods; i++)
        if (mods[i].dwfl) dwfl_end(mods[i].dwfl);
    if (!reports) fprintf(stderr, "overshim: %s: no report with a stack\n", argv[0]);
    return bad ? 1 : 0;
}

/* smaps text parsing (see smaps.h). */
#include "smaps.h"

#include <string.h>

static uintptr_t hex(const char **pp)
{
    uintptr_t v = 0;
    const char *p = *pp;
    for (;; p++) {
        char c = *p;
        if (c >= '0' && c <= '9') v = v * 16 + (uintptr_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v = v * 16 + (uintptr_t)(c - 'a' + 10);
        else break;
    }
    *pp = p;
    return v;
}

/* "7f12-7f34 rw-p 00000000 08:01 1234   /path" */
static int parse_header(const char *l, struct smaps_vma *v)
{
    const char *p = l;
    v->lo = hex(&p);
    if (*p != '-') return 0;
    p++;
    v->hi = hex(&p);
    if (*p != ' ') return 0;
    /* skip perms, offset, dev, inode */
    for (int f = 0; f < 4; f++) {
        while (*p == ' ') p++;
        while (*p && *p != ' ') p++;
    }
    while (*p == ' ') p++;
    v->heap = !strncmp(p, "[heap]", 6);
    v->stack = !strncmp(p, "[stack]", 7);
    v->vsyscall = !strncmp(p, "[vsyscall]", 10);
    v->file = *p == '/';
    return 1;
}

static int has_flag(const char *l, const char *f)
{
    for (const char *p = l + 8; *p && *p != '\n'; p++)
        if (p[0] == f[0] && p[1] == f[1] && p[-1] == ' ' && (p[2] == ' ' || p[2] == '\n' || p[2] == 0)) return 1;
    return 0;
}

void smaps_parser_init(struct smaps_parser *p, smaps_vma_fn fn, void *ctx)
{
    memset(p, 0, sizeof *p);
    p->fn = fn;
    p->ctx = ctx;
}

/* A VMA header starts the next VMA; VmFlags decodes the current one's flags. */
void smaps_parser_line(struct smaps_parser *p, const char *line)
{
    struct smaps_vma *cur = &p->cur;
    if (!strncmp(line, "Rss:", 4)) {
        const char *q = line + 4;
        while (*q == ' ') q++;
        uint64_t kb = 0;
        while (*q >= '0' && *q <= '9') kb = kb * 10 + (uint64_t)(*q++ - '0');
        cur->rss_kb = kb;
    } else if (!strncmp(line, "VmFlags:", 8)) {
        cur->ac = has_flag(line, "ac");
        cur->wr = has_flag(line, "wr");
        cur->sh = has_flag(line, "sh");
        cur->gd = has_flag(line, "gd");
    } else if (((line[0] >= '0' && line[0] <= '9') || (line[0] >= 'a' && line[0] <= 'f')) && strchr(line, '-') &&
               strchr(line, ' ') && strchr(line, '-') < strchr(line, ' ')) {
        if (p->in_vma) p->fn(cur, p->ctx);
        memset(cur, 0, sizeof *cur);
        p->in_vma = parse_header(line, cur);
    }
}

void smaps_parser_finish(struct smaps_parser *p)
{
    if (p->in_vma) p->fn(&p->cur, p->ctx);
    p->in_vma = 0;
}

void smaps_facts_add(const struct smaps_vma *v, void *p)
{
    struct smaps_facts_ctx *c = p;
    struct smaps_facts *f = c->f;
    if (v->vsyscall) return;
    uint64_t pages = (v->hi - v->lo) / 4096;
    f->map_count++;
    f->vm_size_pages += pages;
    if (v->ac) {
        f->ac_total_pages += pages;
        f->ac_vmas++;
        if (pages > f->ac_largest_pages) f->ac_largest_pages = pages;
    }
    uintptr_t a = v->lo > c->lo ? v->lo : c->lo, b = v->hi < c->hi ? v->hi : c->hi;
    if (a >= b) return;
    uint64_t in = (b - a) / 4096;
    f->mapped_pages += in;
    if (v->ac) f->accounted_pages += in;
    if (v->wr && !v->sh && !v->gd) f->data_pages += in;
}

void smaps_facts_text(char *text, uintptr_t lo, uintptr_t hi, struct smaps_facts *out)
{
    memset(out, 0, sizeof *out);
    struct smaps_facts_ctx c = {lo, hi, out};
    struct smaps_parser p;
    smaps_parser_init(&p, smaps_facts_add, &c);
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        smaps_parser_line(&p, line);
        line = nl ? nl + 1 : NULL;
    }
    smaps_parser_finish(&p);
    out->ok = 1;
}

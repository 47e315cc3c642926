/* Fault-injection rules (see inject.h). */
#include "inject.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "fmt.h"
#include "report_call.h"

int inject_active(const struct inject_set *s) { return s->n > 0; }

static const struct {
    char name[20]; /* in the entry, not a pointer: no relocation at load */
    int is_prot;
    int bit;
} flag_names[] = {
    {"MAP_FIXED", 0, MAP_FIXED},         {"MAP_NORESERVE", 0, MAP_NORESERVE}, {"MAP_SHARED", 0, MAP_SHARED},
    {"MAP_PRIVATE", 0, MAP_PRIVATE},     {"MAP_ANONYMOUS", 0, MAP_ANONYMOUS}, {"MAP_HUGETLB", 0, MAP_HUGETLB},
    {"MAP_STACK", 0, MAP_STACK},         {"PROT_READ", 1, PROT_READ},         {"PROT_WRITE", 1, PROT_WRITE},
    {"PROT_EXEC", 1, PROT_EXEC},         {"PROT_NONE", 2, 0},
};

static int parse_size(const char **pp, unsigned long long *out)
{
    const char *p = *pp;
    if (*p < '0' || *p > '9') return -1;
    unsigned long long v = 0;
    while (*p >= '0' && *p <= '9') {
        if (v > (1ull << 60) / 10) return -1;
        v = v * 10 + (unsigned)(*p++ - '0');
    }
    int shift = 0;
    if (*p == 'k' || *p == 'K') shift = 10, p++;
    else if (*p == 'm' || *p == 'M') shift = 20, p++;
    else if (*p == 'g' || *p == 'G') shift = 30, p++;
    else if (*p == 't' || *p == 'T') shift = 40, p++;
    if (shift && v > ((1ull << 62) >> shift)) return -1;
    *out = v << shift;
    *pp = p;
    return 0;
}

static int bad(char *err, size_t cap, const char *rule, size_t n, const char *why)
{
    osh_snprintf(err, cap, "bad injection rule '%.*s': %s", (int)(n > 80 ? 80 : n), rule, why);
    return -1;
}

static int parse_rule(const char *r, size_t n, struct inject_rule *out, char *err, size_t cap)
{
    memset(out, 0, sizeof *out);
    osh_snprintf(out->text, sizeof out->text, "%.*s", (int)n, r);
    const char *p = r, *end = r + n;
    char name[32];
    size_t k = 0;
    while (p + k < end && ((p[k] >= 'a' && p[k] <= 'z') || (p[k] >= '0' && p[k] <= '9') || p[k] == '_')) k++;
    if (k == 0 || k >= sizeof name) return bad(err, cap, r, n, "it must start with a call name");
    memcpy(name, p, k);
    name[k] = 0;
    p += k;
    for (int id = 0; id < CALL__COUNT; id++)
        if (!strcmp(call_name((enum call_id)id), name)) out->calls |= 1u << id;
    if (!strcmp(name, "mmap")) out->calls |= 1u << CALL_MMAP64;
    if (!out->calls) return bad(err, cap, r, n, "unknown call name");
    out->err = ENOMEM;
    for (int id = 0; id < CALL__COUNT; id++)
        if (out->calls & (1u << id)) out->err = call_default_errno((enum call_id)id);
    while (p < end) {
        char c = *p++;
        if (c == '@') {
            unsigned long long v;
            if (parse_size(&p, &v) != 0 || v == 0) return bad(err, cap, r, n, "@ needs a call number from 1");
            out->nth = (unsigned long)v;
            if (p < end && *p == '-') out->nth_plus = 1, p++;
        } else if (c == '>' || c == '<' || c == '=') {
            int op;
            if (c == '=' && p < end && *p == '=') op = 3, p++;
            else if (c == '>' && p < end && *p == '=') op = 1, p++;
            else if (c == '<' && p < end && *p == '=') op = 2, p++;
            else if (c == '>') op = 4;
            else if (c == '<') op = 5;
            else return bad(err, cap, r, n, "use ==, >=, <=, > or <");
            if (out->size_op) return bad(err, cap, r, n, "only one size condition");
            if (parse_size(&p, &out->size) != 0) return bad(err, cap, r, n, "a size like 512M is expected");
            out->size_op = op;
        } else if (c == '+' || c == '-') {
            char f[32];
            int w = 0;
            while (p + w < end && ((p[w] >= 'A' && p[w] <= 'Z') || p[w] == '_')) w++;
            if (w == 0 || w >= (int)sizeof f) return bad(err, cap, r, n, "a flag like MAP_FIXED is expected");
            memcpy(f, p, (size_t)w);
            f[w] = 0;
            p += w;
            int found = 0;
            for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++) {
                if (strcmp(flag_names[i].name, f)) continue;
                found = 1;
                int *need = flag_names[i].is_prot ? &out->need_prot : &out->need_flags;
                int *forbid = flag_names[i].is_prot ? &out->forbid_prot : &out->forbid_flags;
                if (flag_names[i].is_prot == 2) out->need_prot_none = c == '+' ? 1 : -1;
                else if (c == '+') *need |= flag_names[i].bit;
                else *forbid |= flag_names[i].bit;
            }
            if (!found) return bad(err, cap, r, n, "unknown flag");
        } else if (c == '~') {
            int w = 0;
            while (p + w < end && p[w] != '!' && p[w] != '@' && p[w] != '+') w++;
            if (w == 0 || w > 15 + 1) return bad(err, cap, r, n, "a thread name of 1..15 characters is expected");
            memcpy(out->thread, p, (size_t)w);
            out->thread[w] = 0;
            if (out->thread[w - 1] == '*') out->thread_prefix = 1, out->thread[w - 1] = 0;
            p += w;
        } else if (c == '!') {
            static const struct {
                const char *n;
                int e;
            } errs[] = {{"ENOMEM", ENOMEM}, {"EAGAIN", EAGAIN}, {"EPERM", EPERM}, {"EINVAL", EINVAL}};
            int found = 0;
            for (size_t i = 0; i < 4; i++) {
                size_t l = strlen(errs[i].n);
                if ((size_t)(end - p) >= l && !strncmp(p, errs[i].n, l)) {
                    out->err = errs[i].e;
                    p += l;
                    found = 1;
                    break;
                }
            }
            if (!found) return bad(err, cap, r, n, "!ENOMEM, !EAGAIN, !EPERM or !EINVAL");
        } else {
            return bad(err, cap, r, n, "unexpected character");
        }
    }
    return 0;
}

static int parse_all(struct inject_set *s, const char *text, char *err, size_t errcap);

int inject_parse(struct inject_set *s, const char *text, char *err, size_t errcap)
{
    int r = parse_all(s, text, err, errcap);
    if (r != 0) {
        s->n = 0;
        osh_one_line(err);
    }
    return r;
}

static int parse_all(struct inject_set *s, const char *text, char *err, size_t errcap)
{
    s->n = 0;
    if (!*text) return osh_snprintf(err, errcap, "bad injection rules '': no rule"), -1;
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 0 || s->n >= INJECT_MAX_RULES) {
            s->n = 0;
            if (n == 0) return osh_snprintf(err, errcap, "bad injection rules '%s': an empty rule", text), -1;
            return osh_snprintf(err, errcap, "more than %d injection rules", INJECT_MAX_RULES), -1;
        }
        if (parse_rule(p, n, &s->rules[s->n], err, errcap) != 0) {
            s->n = 0;
            return -1;
        }
        s->n++;
        p += n + (e ? 1 : 0);
        if (e && !*p) {
            s->n = 0;
            return osh_snprintf(err, errcap, "bad injection rules '%s': a trailing ','", text), -1;
        }
    }
    return 0;
}

static int size_ok(const struct inject_rule *r, unsigned long long v)
{
    switch (r->size_op) {
    case 1: return v >= r->size;
    case 2: return v <= r->size;
    case 3: return v == r->size;
    case 4: return v > r->size;
    case 5: return v < r->size;
    default: return 1;
    }
}

int inject_match(struct inject_set *s, const struct failed_call *fc, const char *thread, const char **rule, unsigned long *nth)
{
    for (int i = 0; i < s->n; i++) {
        struct inject_rule *r = &s->rules[i];
        if (!(r->calls & (1u << fc->id))) continue;
        if (!size_ok(r, call_request_bytes(fc))) continue;
        int has_prot = fc->id == CALL_MMAP || fc->id == CALL_MMAP64 || fc->id == CALL_MPROTECT;
        int prot = fc->id == CALL_MPROTECT ? (int)fc->mprotect.prot : has_prot ? (int)fc->mmap.prot : 0;
        int flags = fc->id == CALL_MMAP || fc->id == CALL_MMAP64 ? (int)fc->mmap.flags : 0;
        if ((r->need_prot || r->forbid_prot || r->need_prot_none) && !has_prot) continue;
        if ((prot & r->need_prot) != r->need_prot || (prot & r->forbid_prot)) continue;
        if (r->need_prot_none == 1 && prot != 0) continue;
        if (r->need_prot_none == -1 && prot == 0) continue;
        int type = flags & MAP_TYPE, other = flags & ~MAP_TYPE;
        int need_type = r->need_flags & MAP_TYPE, forbid_type = r->forbid_flags & MAP_TYPE;
        if (need_type && type != need_type) continue;
        if (forbid_type && type == forbid_type) continue;
        if ((other & (r->need_flags & ~MAP_TYPE)) != (r->need_flags & ~MAP_TYPE)) continue;
        if (other & (r->forbid_flags & ~MAP_TYPE)) continue;
        if (r->thread[0]) {
            if (r->thread_prefix ? strncmp(thread, r->thread, strlen(r->thread)) : strcmp(thread, r->thread)) continue;
        }
        unsigned long k = __atomic_add_fetch(&r->count, 1, __ATOMIC_RELAXED);
        if (r->nth && (r->nth_plus ? k < r->nth : k != r->nth)) continue;
        *rule = r->text;
        *nth = k;
        return r->err;
    }
    return 0;
}

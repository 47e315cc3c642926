/* OVERSHIM_OPTIONS parsing (see options.h, options.def). */
#include "options.h"

#include <string.h>

#include "fmt.h"

void options_defaults(struct osh_options *o)
{
    memset(o, 0, sizeof *o);
#define OSH_OPT_STR(name, def) strncpy(o->name, def, OSH_OPT_STRMAX - 1);
#define OSH_OPT_INT(name, def) o->name = def;
#define OSH_OPT_BOOL(name, def) o->name = def;
#define OSH_OPT(kind, name, def, help) OSH_OPT_##kind(name, def)
#include "options.def"
#undef OSH_OPT
#undef OSH_OPT_STR
#undef OSH_OPT_INT
#undef OSH_OPT_BOOL
}

static int parse_int(const char *v, size_t n, long *out)
{
    if (n == 0) return -1;
    size_t i = 0;
    int neg = 0;
    if (v[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == n) return -1;
    unsigned long long x = 0;
    for (; i < n && v[i] >= '0' && v[i] <= '9'; i++) {
        x = x * 10 + (unsigned)(v[i] - '0');
        if (x > (1ull << 50)) return -1;
    }
    if (i < n) {
        if (i + 1 != n) return -1;
        switch (v[i]) {
        case 'k': case 'K': x <<= 10; break;
        case 'm': case 'M': x <<= 20; break;
        case 'g': case 'G': x <<= 30; break;
        default: return -1;
        }
    }
    if ((v[0] == '-' && n == 1) || (neg && (v[1] < '0' || v[1] > '9'))) return -1;
    *out = neg ? -(long)x : (long)x;
    return 0;
}

static int parse_bool(const char *v, size_t n, int *out)
{
    static const char yes[][8] = {"1", "true", "yes", "on"}, no[][8] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strlen(yes[i]) == n && !strncmp(v, yes[i], n)) return *out = 1, 0;
        if (strlen(no[i]) == n && !strncmp(v, no[i], n)) return *out = 0, 0;
    }
    return -1;
}

/* Range checks that the table's kinds cannot express. */
static const char *check_value(const struct osh_options *o, const char *key)
{
    if (!strcmp(key, "max_reports") && (o->max_reports < 0 || o->max_reports > 1000000))
        return "must be 0..1000000";
    if (!strcmp(key, "stack_depth") && (o->stack_depth < 1 || o->stack_depth > 256)) return "must be 1..256";
    if (!strcmp(key, "verbosity") && (o->verbosity < 0 || o->verbosity > 2)) return "must be 0, 1 or 2";
    if (!strcmp(key, "log") && o->log[0] == 0) return "must not be empty";
    if (!strcmp(key, "json") && o->json[0] == 0) return "must not be empty";
    if (!strcmp(key, "simulate") && o->simulate[0] == 0) return "must name a snapshot file";
    if (!strcmp(key, "dir") && o->dir[0] != '/') return "must be an absolute directory";
    if (!strcmp(key, "syslog") && strcmp(o->syslog, "0") && strcmp(o->syslog, "1") && o->syslog[0] != '/')
        return "must be 0, 1 or the absolute path of a datagram socket";
    if (!strcmp(key, "journal") && o->journal[0] != '/') return "must be the absolute path of a datagram socket";
    if (!strcmp(key, "kernel") && o->kernel[0] == 0) return "must not be empty";
    if (!strcmp(key, "overcommit_memory") && (o->overcommit_memory < 0 || o->overcommit_memory > 2))
        return "must be 0, 1 or 2";
    if (!strcmp(key, "overcommit_ratio") && (o->overcommit_ratio < 0 || o->overcommit_ratio > 100000))
        return "must be 0..100000";
    if ((!strcmp(key, "overcommit_kbytes") && o->overcommit_kbytes < 0) ||
        (!strcmp(key, "admin_reserve_kbytes") && o->admin_reserve_kbytes < 0) ||
        (!strcmp(key, "user_reserve_kbytes") && o->user_reserve_kbytes < 0))
        return "must not be negative";
    if (!strcmp(key, "max_map_count") && (o->max_map_count < 1 || o->max_map_count > 2147483647))
        return "must be 1..2147483647";
    return NULL;
}

static int parse(struct osh_options *o, const char *text, char *err, size_t errcap);

int options_parse(struct osh_options *o, const char *text, char *err, size_t errcap)
{
    int r = parse(o, text, err, errcap);
    if (r != 0) osh_one_line(err);
    return r;
}

static int parse(struct osh_options *o, const char *text, char *err, size_t errcap)
{
    const char *p = text;
    while (*p) {
        const char *end = strchr(p, ':');
        if (!end) end = p + strlen(p);
        size_t n = (size_t)(end - p);
        const char *eq = memchr(p, '=', n);
        if (n == 0) { /* tolerate "a=1::b=2" and a trailing ':' */
            p = *end ? end + 1 : end;
            continue;
        }
        if (!eq || eq == p) {
            osh_snprintf(err, errcap, "expected key=value, got '%.*s'", (int)n, p);
            return -1;
        }
        size_t klen = (size_t)(eq - p);
        const char *v = eq + 1;
        size_t vlen = (size_t)(end - v);
        char key[64];
        if (klen >= sizeof key) {
            osh_snprintf(err, errcap, "unknown option '%.*s'", (int)(klen > 60 ? 60 : klen), p);
            return -1;
        }
        memcpy(key, p, klen);
        key[klen] = 0;
        int known = 0, bad = 0;
#define OSH_OPT_STR(name)                                                                            \
    if (vlen >= OSH_OPT_STRMAX) bad = 1;                                                             \
    else {                                                                                          \
        memcpy(o->name, v, vlen);                                                                   \
        o->name[vlen] = 0;                                                                          \
    }
#define OSH_OPT_INT(name) bad = parse_int(v, vlen, &o->name) != 0;
#define OSH_OPT_BOOL(name) bad = parse_bool(v, vlen, &o->name) != 0;
#define OSH_OPT(kind, name, def, help)                                                               \
    if (!known && !strcmp(key, #name)) {                                                            \
        known = 1;                                                                                  \
        OSH_OPT_##kind(name)                                                                         \
    }
#include "options.def"
#undef OSH_OPT
#undef OSH_OPT_STR
#undef OSH_OPT_INT
#undef OSH_OPT_BOOL
        if (!known) {
            osh_snprintf(err, errcap, "unknown option '%s' in '%.*s' (help=1 lists them)", key, (int)n, p);
            return -1;
        }
        const char *why = bad ? "is not a valid value" : check_value(o, key);
        if (why) {
            osh_snprintf(err, errcap, "bad value '%.*s' for %s: %s", (int)(vlen > 200 ? 200 : vlen), v, key,
                        bad ? "not a valid value" : why);
            return -1;
        }
        p = *end ? end + 1 : end;
    }
    return 0;
}

void options_help(char *buf, size_t cap)
{
    struct fmtbuf fb;
    fb_init_str(&fb, buf, cap);
    fb_puts(&fb, "overshim: OVERSHIM_OPTIONS=key=value:key=value\n");
#define OSH_OPT_STR(def) fb_printf(&fb, "%s", def);
#define OSH_OPT_INT(def) fb_printf(&fb, "%ld", (long)(def));
#define OSH_OPT_BOOL(def) fb_printf(&fb, "%d", (int)(def));
#define OSH_OPT(kind, name, def, help)                                                               \
    fb_printf(&fb, "  %-16s %s (default: ", #name, help);                                           \
    OSH_OPT_##kind(def) fb_puts(&fb, ")\n");
#include "options.def"
#undef OSH_OPT
#undef OSH_OPT_STR
#undef OSH_OPT_INT
#undef OSH_OPT_BOOL
    fb_cstr(&fb);
}

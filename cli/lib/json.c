/* Test-side JSON reader (see json.h). */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct p {
    const char *s;
    size_t i;
    char *err;
    size_t errcap;
    int bad;
};

static void fail(struct p *p, const char *m)
{
    if (!p->bad) snprintf(p->err, p->errcap, "%s at offset %zu", m, p->i);
    p->bad = 1;
}

static void ws(struct p *p)
{
    while (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r') p->i++;
}

static struct jval *value(struct p *p, int depth);

static char *string(struct p *p)
{
    if (p->s[p->i] != '"') return fail(p, "expected string"), NULL;
    p->i++;
    size_t cap = 32, n = 0;
    char *out = malloc(cap);
    for (;;) {
        unsigned char c = (unsigned char)p->s[p->i];
        if (c == 0 || c < 0x20) return free(out), fail(p, "bad string"), NULL;
        p->i++;
        if (c == '"') break;
        if (c == '\\') {
            char e = p->s[p->i++];
            switch (e) {
            case '"': case '\\': case '/': c = (unsigned char)e; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                unsigned v = 0;
                for (int k = 0; k < 4; k++) {
                    char h = p->s[p->i++];
                    v = v * 16 + (unsigned)(h >= '0' && h <= '9' ? h - '0' : (h | 32) - 'a' + 10);
                }
                c = v < 0x80 ? (unsigned char)v : '?';
                break;
            }
            default: return free(out), fail(p, "bad escape"), NULL;
            }
        }
        if (n + 2 > cap) out = realloc(out, cap *= 2);
        out[n++] = (char)c;
    }
    out[n] = 0;
    return out;
}

static void push(struct jval *v, struct jval *item, char *key)
{
    v->items = realloc(v->items, (v->n + 1) * sizeof *v->items);
    if (v->t == J_OBJ) v->keys = realloc(v->keys, (v->n + 1) * sizeof *v->keys), v->keys[v->n] = key;
    v->items[v->n++] = item;
}

static struct jval *value(struct p *p, int depth)
{
    if (depth > 64) return fail(p, "too deep"), NULL;
    ws(p);
    struct jval *v = calloc(1, sizeof *v);
    char c = p->s[p->i];
    if (c == '{' || c == '[') {
        v->t = c == '{' ? J_OBJ : J_ARR;
        p->i++;
        ws(p);
        if (p->s[p->i] == (c == '{' ? '}' : ']')) {
            p->i++;
            return v;
        }
        for (;;) {
            char *key = NULL;
            if (v->t == J_OBJ) {
                ws(p);
                key = string(p);
                if (!key) break;
                ws(p);
                if (p->s[p->i++] != ':') {
                    free(key);
                    fail(p, "expected ':'");
                    break;
                }
            }
            struct jval *item = value(p, depth + 1);
            if (!item) {
                free(key);
                break;
            }
            push(v, item, key);
            ws(p);
            if (p->s[p->i] == ',') {
                p->i++;
                continue;
            }
            if (p->s[p->i] == (v->t == J_OBJ ? '}' : ']')) {
                p->i++;
                return v;
            }
            fail(p, "expected ',' or end");
            break;
        }
        json_free(v);
        return NULL;
    }
    if (c == '"') {
        v->t = J_STR;
        v->str = string(p);
        if (!v->str) return free(v), NULL;
        return v;
    }
    if (!strncmp(p->s + p->i, "true", 4) || !strncmp(p->s + p->i, "false", 5)) {
        v->t = J_BOOL;
        v->boolean = p->s[p->i] == 't';
        p->i += v->boolean ? 4 : 5;
        return v;
    }
    if (!strncmp(p->s + p->i, "null", 4)) {
        p->i += 4;
        return v;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        char *end;
        v->t = J_NUM;
        v->num = strtod(p->s + p->i, &end);
        v->inum = strtoll(p->s + p->i, NULL, 10);
        if (end == p->s + p->i) return free(v), fail(p, "bad number"), NULL;
        p->i = (size_t)(end - p->s);
        return v;
    }
    free(v);
    fail(p, "unexpected character");
    return NULL;
}

struct jval *json_parse(const char *text, char *err, size_t errcap)
{
    struct p p = {text, 0, err, errcap, 0};
    struct jval *v = value(&p, 0);
    if (!v) return NULL;
    ws(&p);
    if (text[p.i]) {
        fail(&p, "trailing characters");
        json_free(v);
        return NULL;
    }
    return v;
}

void json_free(struct jval *v)
{
    if (!v) return;
    for (size_t i = 0; i < v->n; i++) {
        json_free(v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    free(v);
}

const struct jval *json_at(const struct jval *v, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    char *save, *tok = strtok_r(buf, ".", &save);
    while (v && tok) {
        const struct jval *next = NULL;
        if (v->t == J_OBJ) {
            for (size_t i = 0; i < v->n; i++)
                if (!strcmp(v->keys[i], tok)) next = v->items[i];
        } else if (v->t == J_ARR) {
            char *end;
            long k = strtol(tok, &end, 10);
            if (!*end && k >= 0 && (size_t)k < v->n) next = v->items[k];
        }
        v = next;
        tok = strtok_r(NULL, ".", &save);
    }
    return v;
}

long long json_int(const struct jval *v, const char *path, long long def)
{
    const struct jval *x = json_at(v, path);
    return x && x->t == J_NUM ? x->inum : def;
}

const char *json_str(const struct jval *v, const char *path)
{
    const struct jval *x = json_at(v, path);
    return x && x->t == J_STR ? x->str : NULL;
}

int json_lines(const char *path, struct jval **out, int max, char *err, size_t errcap)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errcap, "cannot open %s", path);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    int n = 0;
    while (getline(&line, &cap, f) > 0) {
        if (n >= max) break;
        out[n] = json_parse(line, err, errcap);
        if (!out[n]) {
            free(line);
            fclose(f);
            return -1;
        }
        n++;
    }
    free(line);
    fclose(f);
    return n;
}

const struct jval *json_event(struct jval **ev, int n, const char *kind)
{
    for (int i = 0; i < n; i++) {
        const char *e = json_str(ev[i], "event");
        if (e && !strcmp(e, kind)) return ev[i];
    }
    return NULL;
}

/* Parsers of /proc text (see procparse.h). */
#include "procparse.h"

#include <string.h>

const char *proc_skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t') p++;
    return p;
}

int64_t proc_parse_num(const char **pp)
{
    const char *p = *pp;
    if (*p < '0' || *p > '9') return -1;
    int64_t v = 0;
    while (*p >= '0' && *p <= '9') {
        if (v > INT64_MAX / 10 - 10) return -1;
        v = v * 10 + (*p++ - '0');
    }
    *pp = p;
    return v;
}

int64_t meminfo_get(const char *text, const char *key)
{
    size_t klen = strlen(key);
    for (const char *line = text; line && *line;) {
        if (!strncmp(line, key, klen) && line[klen] == ':') {
            const char *p = proc_skip_ws(line + klen + 1);
            return proc_parse_num(&p);
        }
        line = strchr(line, '\n');
        if (line) line++;
    }
    return -1;
}

/* zoneinfo: "Node 0, zone   Normal" blocks with "high", "boost", "managed" and
 * "protection: (a, b, c, d, e)". */
int64_t zoneinfo_totalreserve(const char *text)
{
    int64_t total = 0;
    int zones = 0, last_node = -1, node_idx = 0;
    const char *p = text;
    while ((p = strstr(p, "Node ")) != NULL) {
        const char *zone = strstr(p, ", zone");
        if (!zone) break;
        const char *next = strstr(zone, "\nNode ");
        const char *end = next ? next : zone + strlen(zone);
        int64_t high = -1, boost = 0, managed = -1, prot[8], maxprot = 0;
        int nprot = 0, idx = -1;
        /* zone index inside the node = number of earlier zones of the same node */
        for (const char *l = zone; l && l < end;) {
            const char *q = proc_skip_ws(l);
            if (!strncmp(q, "high ", 5)) {
                q = proc_skip_ws(q + 5);
                high = proc_parse_num(&q);
            } else if (!strncmp(q, "boost ", 6)) {
                q = proc_skip_ws(q + 6);
                boost = proc_parse_num(&q);
            } else if (!strncmp(q, "managed ", 8)) {
                q = proc_skip_ws(q + 8);
                managed = proc_parse_num(&q);
            } else if (!strncmp(q, "protection: (", 13)) {
                q += 13;
                while (nprot < 8) {
                    q = proc_skip_ws(q);
                    int64_t v = proc_parse_num(&q);
                    if (v < 0) break;
                    prot[nprot++] = v;
                    q = proc_skip_ws(q);
                    if (*q != ',') break;
                    q++;
                }
            }
            l = strchr(l, '\n');
            if (l) l++;
        }
        /* index of this zone inside its node: count preceding blocks of that node */
        const char *np = p + 5;
        int node = (int)proc_parse_num(&np);
        if (node != last_node) {
            last_node = node;
            node_idx = 0;
        }
        idx = node_idx++;
        if (high < 0 || managed < 0 || nprot == 0) {
            p = end;
            continue;
        }
        for (int i = idx; i < nprot; i++)
            if (prot[i] > maxprot) maxprot = prot[i];
        int64_t c = maxprot + high - boost;
        if (c > managed) c = managed;
        if (c < 0) c = 0;
        total += c;
        zones++;
        p = end;
    }
    return zones ? total : -1;
}


/* The kernel's OOM-kill records (oomkill.h). */
#include "oomkill.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t field_kb(const char *msg, const char *key)
{
    const char *p = strstr(msg, key);
    if (!p) return -1;
    p += strlen(key);
    char *end;
    long long v = strtoll(p, &end, 10);
    return end == p ? -1 : v;
}

int oom_parse_line(const char *line, struct oom_kill *k)
{
    const char *m = strstr(line, "Killed process ");
    if (!m) return 0;
    memset(k, 0, sizeof *k);
    k->ts_us = -1;
    /* /dev/kmsg: "pri,seq,usec,flags;message" */
    const char *semi = strchr(line, ';');
    if (semi && semi < m) {
        const char *c1 = strchr(line, ',');
        const char *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        if (c2 && c2 < semi) k->ts_us = strtoll(c2 + 1, NULL, 10);
    } else if (line[0] == '[') { /* dmesg: "[ 123.456789] " */
        char *end;
        double s = strtod(line + 1, &end);
        if (end != line + 1 && *end == ']') k->ts_us = (int64_t)(s * 1e6 + 0.5);
    }
    const char *p = m + strlen("Killed process ");
    char *end;
    long pid = strtol(p, &end, 10);
    if (end == p || pid <= 0) return 0;
    k->pid = (int)pid;
    p = end;
    while (*p == ' ') p++;
    if (*p == '(') {
        const char *close = strstr(p, ") ");
        if (!close) close = strrchr(p, ')');
        if (close) {
            size_t n = (size_t)(close - p - 1);
            if (n >= sizeof k->comm) n = sizeof k->comm - 1;
            memcpy(k->comm, p + 1, n);
            k->comm[n] = 0;
            p = close + 1;
        }
    }
    k->total_vm_kb = field_kb(p, "total-vm:");
    k->anon_rss_kb = field_kb(p, "anon-rss:");
    k->file_rss_kb = field_kb(p, "file-rss:");
    k->shmem_rss_kb = field_kb(p, "shmem-rss:");
    k->pgtables_kb = field_kb(p, "pgtables:");
    k->uid = field_kb(p, "UID:");
    const char *adj = strstr(p, "oom_score_adj:");
    k->oom_score_adj = adj ? strtoll(adj + 14, NULL, 10) : INT64_MIN;
    k->cgroup = strstr(line, "Memory cgroup out of memory") != NULL;
    const char *msg = semi && semi < m ? semi + 1 : line;
    size_t n = strcspn(msg, "\n");
    if (n >= sizeof k->line) n = sizeof k->line - 1;
    memcpy(k->line, msg, n);
    k->line[n] = 0;
    k->found = 1;
    return 1;
}

int oom_find(const char *text, int pid, const char *comm, struct oom_kill *k)
{
    int found = 0;
    char line[1024];
    for (const char *l = text; l && *l;) {
        const char *e = strchr(l, '\n');
        size_t n = e ? (size_t)(e - l) : strlen(l);
        if (n >= sizeof line) n = sizeof line - 1;
        memcpy(line, l, n);
        line[n] = 0;
        struct oom_kill c;
        if (oom_parse_line(line, &c) && c.pid == pid && (!comm || !comm[0] || !strncmp(c.comm, comm, 15))) {
            *k = c;
            found = 1;
        }
        l = e ? e + 1 : NULL;
    }
    return found;
}

void oom_memory_events(const char *text, int64_t *oom, int64_t *oom_kill, int64_t *oom_group_kill)
{
    *oom = *oom_kill = *oom_group_kill = -1;
    for (const char *l = text; l && *l;) {
        long long v;
        char key[64];
        if (sscanf(l, "%63s %lld", key, &v) == 2) {
            if (!strcmp(key, "oom")) *oom = v;
            else if (!strcmp(key, "oom_kill")) *oom_kill = v;
            else if (!strcmp(key, "oom_group_kill")) *oom_group_kill = v;
        }
        l = strchr(l, '\n');
        if (l) l++;
    }
}

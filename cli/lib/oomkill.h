/* The kernel's record of an OOM kill, matched to a process: the line mm/oom_kill.c prints,
 * "Killed process %d (%s) total-vm:%lukB, anon-rss:%lukB, file-rss:%lukB, shmem-rss:%lukB,
 * UID:%u pgtables:%lukB oom_score_adj:%hd" (older kernels print fewer of the fields; the
 * prefix is "Out of memory: " or "Memory cgroup out of memory: "), and cgroup v2's
 * memory.events. Pure parsers: text in, numbers out. */
#ifndef OVERSHIM_OOMKILL_H
#define OVERSHIM_OOMKILL_H

#include <stdint.h>

struct oom_kill {
    int found;
    int pid;
    char comm[64];
    int64_t total_vm_kb, anon_rss_kb, file_rss_kb, shmem_rss_kb, pgtables_kb; /* -1 absent */
    int64_t uid, oom_score_adj;                                                  /* -1 / INT64_MIN absent */
    int64_t ts_us;        /* the kernel's timestamp of the line (since boot, µs); -1 unknown */
    int cgroup;           /* "Memory cgroup out of memory" */
    char line[512];       /* the line as the kernel printed it */
};

/* Parse one line of kernel log text: a dmesg line ("[ 123.456] Out of memory: ..."), a
 * /dev/kmsg record ("3,1234,123456789,-;Out of memory: ..."), a journal line, or the bare
 * message. 1 when it is a Killed process line (filled), else 0. */
int oom_parse_line(const char *line, struct oom_kill *k);
/* The last line of text (many lines) that kills pid; when comm is not "" the line's
 * command must match its first 15 characters. 1 found, 0 none. */
int oom_find(const char *text, int pid, const char *comm, struct oom_kill *k);
/* memory.events text: the counts of oom, oom_kill and oom_group_kill (-1 absent). */
void oom_memory_events(const char *text, int64_t *oom, int64_t *oom_kill, int64_t *oom_group_kill);

#endif

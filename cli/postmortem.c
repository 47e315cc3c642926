/* overshim postmortem FLIGHT [--json] [--kernel-log FILE] [--exit-status N]: what a process
 * held when it died, from its flight recorder file (flight=), and the kernel's side where
 * it can be read: the OOM killer's "Killed process" line (the kernel log: --kernel-log,
 * else /dev/kmsg, else the journal), the cgroup's memory.events, the exit status. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jout.h"
#include "oomkill.h"
#include "tlread.h"

int cmd_postmortem(int argc, char **argv);

static char *read_all(FILE *f)
{
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    for (size_t r; b && (r = fread(b + n, 1, cap - n - 1, f)) > 0;) {
        n += r;
        if (n + 1 >= cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) free(b);
            b = nb;
        }
    }
    if (b) b[n] = 0;
    return b;
}

/* /dev/kmsg: one record per read, non-blocking, from the start of the buffer. */
static char *read_kmsg(void)
{
    int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return NULL;
    size_t cap = 1 << 20, n = 0;
    char *b = malloc(cap);
    char rec[8192];
    for (;;) {
        ssize_t r = read(fd, rec, sizeof rec - 1);
        if (r < 0 && errno == EPIPE) continue; /* overwritten while reading: the next one */
        if (r <= 0) break;
        if (n + (size_t)r + 2 >= cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) break;
            b = nb;
        }
        memcpy(b + n, rec, (size_t)r);
        n += (size_t)r;
        if (b[n - 1] != '\n') b[n++] = '\n';
    }
    close(fd);
    b[n] = 0;
    return b;
}

static void boot_id_now(char *out, size_t cap)
{
    out[0] = 0;
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (!f) return;
    if (fgets(out, (int)cap, f)) out[strcspn(out, "\n")] = 0;
    fclose(f);
}

/* The kernel log of the process's boot: the journal can give another boot's. */
static char *kernel_log(const char *file, const char *boot_id, int same_boot, const char **source)
{
    if (file) {
        *source = file;
        FILE *f = fopen(file, "r");
        if (!f) return NULL;
        char *t = read_all(f);
        fclose(f);
        return t;
    }
    if (same_boot) {
        char *t = read_kmsg();
        if (t) {
            *source = "/dev/kmsg";
            return t;
        }
    }
    char cmd[200], id[40];
    size_t k = 0;
    for (const char *p = boot_id; *p && k < sizeof id - 1; p++)
        if (*p != '-') id[k++] = *p;
    id[k] = 0;
    snprintf(cmd, sizeof cmd, "journalctl -k -q --no-pager -o short-monotonic -b %s 2>/dev/null", same_boot ? "0" : id);
    FILE *p = popen(cmd, "r");
    if (!p) return NULL;
    char *t = read_all(p);
    int st = pclose(p);
    if (st != 0 || !t || !t[0]) {
        free(t);
        return NULL;
    }
    *source = "journal";
    return t;
}

static double ms(uint64_t ns) { return (double)ns / 1e6; }

/* The kernel's numbers at the kill against the last sample: percent off (the sample's). */
static double pct(int64_t kernel, int64_t ours) { return ours > 0 && kernel >= 0 ? 100.0 * (double)(kernel - ours) / (double)ours : 0; }

static const char *event_name(int kind)
{
    static const char *const n[] = {"?", "start", "map", "unmap", "refusal", "thread_start", "thread_exit", "exit"};
    return kind > 0 && kind <= OVERSHIM_FEV_EXIT ? n[kind] : "?";
}

static const char *op_name(int op)
{
    static const char *const n[] = {"?", "map", "unmap", "protect", "remap", "brk", "stack", "settle", "thread_exit"};
    return op > 0 && op <= OVERSHIM_OP_THREAD_EXIT ? n[op] : "?";
}

struct pm {
    struct flight_file f;
    int same_boot, alive, exited;
    struct oom_kill oom;
    const char *log_source;
    int log_read;
    int64_t mev_oom, mev_kill, mev_group;
    int exit_status; /* --exit-status, -1 none */
};

static void print_text(const struct pm *p, const char *path)
{
    const struct overshim_flight_header *h = &p->f.h;
    time_t t0 = (time_t)(h->start_realtime_ns / 1000000000ull);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&t0));
    printf("overshim postmortem of %s\n", path);
    printf("process %d (%s) %s, parent %d, started %s%s\n", h->pid, h->comm, h->exe, h->ppid, when,
           p->same_boot ? "" : " (an earlier boot)");
    if (p->exited && !strcmp(h->exit_via, "destructor"))
        printf("ENDED    exited normally (returned from main, or exit inside libc), %.1f ms after start\n", ms(h->exit_ns));
    else if (p->exited)
        printf("ENDED    exited normally through %s(%d), %.1f ms after start\n", h->exit_via, h->exit_status,
               ms(h->exit_ns));
    else if (p->alive)
        printf("RUNNING  pid %d is still alive on this boot (the file is current)\n", h->pid);
    else if (p->oom.found)
        printf("ENDED    killed by the kernel's OOM killer%s (no exit recorded; last change %.1f ms after start)\n",
               p->oom.cgroup ? " of its memory cgroup" : "", ms(h->last_update_ns));
    else
        printf("ENDED    died without exiting (SIGKILL or another end no code sees); last change %.1f ms after start\n",
               ms(h->last_update_ns));
    if (p->exit_status >= 0)
        printf("         exit status %d%s\n", p->exit_status,
               p->exit_status > 128 ? (p->exit_status == 128 + SIGKILL ? " (killed by SIGKILL)" : " (killed by a signal)")
                                    : "");
    if (p->oom.found) {
        printf("KERNEL   %s\n         (%s) total-vm %lld kB, anon-rss %lld kB, file-rss %lld kB, shmem-rss %lld kB\n",
               p->oom.line, p->log_source, (long long)p->oom.total_vm_kb, (long long)p->oom.anon_rss_kb,
               (long long)p->oom.file_rss_kb, (long long)p->oom.shmem_rss_kb);
        if (p->f.nsamples) {
            const struct overshim_flight_sample *l = &p->f.samples[p->f.nsamples - 1];
            printf("         the last sample (%.1f ms): VmSize %lld kB (kernel %+.1f%%), RssAnon %lld kB (kernel %+.1f%%)\n",
                   ms(l->t_ns), (long long)l->vm_size_kb, pct(p->oom.total_vm_kb, l->vm_size_kb),
                   (long long)l->rss_anon_kb, pct(p->oom.anon_rss_kb, l->rss_anon_kb));
        }
    }
    else if (!p->exited)
        printf("KERNEL   no 'Killed process %d' line in %s\n", h->pid,
               p->log_read ? p->log_source : "any kernel log readable here (/dev/kmsg, the journal)");
    if (h->cgroup[0] && (p->mev_kill >= 0 || strcmp(h->cgroup, "/")))
        printf("CGROUP   %s: memory.events oom %lld, oom_kill %lld, oom_group_kill %lld%s\n", h->cgroup,
               (long long)p->mev_oom, (long long)p->mev_kill, (long long)p->mev_group,
               p->mev_kill < 0 ? " (not readable now)" : "");
    printf("HELD     committed %.1f MiB (peak %.1f MiB) by the shim's ledger; %u refusal%s\n",
           (double)h->committed / 1048576, (double)h->peak_committed / 1048576, h->refusals, h->refusals == 1 ? "" : "s");
    printf("\nTHREADS  %zu%s\n", p->f.nslots, h->slots_full ? " (more threads than slots: the rest counted only in the process total)" : "");
    printf("     tid  name              state    committed        peak     touched      malloc\n");
    for (size_t i = 0; i < p->f.nslots; i++) {
        const struct overshim_flight_slot *s = &p->f.slots[i];
        char touched[32] = "        -";
        if (s->touched >= 0) snprintf(touched, sizeof touched, "%5.1f MiB", (double)s->touched / 1048576);
        printf("%8d  %-16.16s  %-6s %9.1f MiB %9.1f MiB %11s %7.1f MiB\n", s->tid, s->name,
               s->alive ? "live" : "exited", (double)s->committed / 1048576, (double)s->peak_committed / 1048576, touched,
               (double)s->malloc_live / 1048576);
    }
    size_t ns = p->f.nsamples, from = ns > 5 ? ns - 5 : 0;
    printf("\nSAMPLES  last %zu of %llu", ns - from, (unsigned long long)h->sample_count);
    if (h->sample_count)
        printf(" (taking them cost the program %.1f us each on average, %.1f us at most)",
               (double)h->sample_cost_ns / 1e3 / (double)h->sample_count, (double)h->sample_cost_max_ns / 1e3);
    printf("\n");
    printf("   t (ms)    VmRSS kB   VmSize kB   committed MiB  box Committed_AS kB  CommitLimit kB  MemAvailable kB\n");
    for (size_t i = from; i < ns; i++) {
        const struct overshim_flight_sample *s = &p->f.samples[i];
        printf("%9.1f %11lld %11lld %15.1f %20lld %15lld %16lld\n", ms(s->t_ns), (long long)s->rss_kb,
               (long long)s->vm_size_kb, (double)s->committed / 1048576, (long long)s->box_committed_as_kb,
               (long long)s->box_commit_limit_kb, (long long)s->box_mem_available_kb);
    }
    size_t ne = p->f.nevents, efrom = ne > 20 ? ne - 20 : 0;
    printf("\nEVENTS   last %zu of %llu\n", ne - efrom, (unsigned long long)h->event_count);
    for (size_t i = efrom; i < ne; i++) {
        const struct overshim_flight_event *e = &p->f.events[i];
        printf("%9.1f ms  %-12s tid %-7d", ms(e->t_ns), event_name(e->kind), e->tid);
        if (e->kind == OVERSHIM_FEV_MAP || e->kind == OVERSHIM_FEV_UNMAP)
            printf(" %s %+.1f MiB at 0x%llx", op_name(e->call), (double)e->b / 1048576, (unsigned long long)e->a);
        else if (e->kind == OVERSHIM_FEV_REFUSAL)
            printf(" %s of %lld bytes refused (errno %lld%s)", jout_call_name((int)e->a), (long long)e->b,
                   (long long)e->c, e->d ? ", simulated" : "");
        else if (e->kind == OVERSHIM_FEV_THREAD_EXIT)
            printf(" left %.1f MiB charged", (double)e->b / 1048576);
        else if (e->kind == OVERSHIM_FEV_EXIT)
            printf(" status %lld", (long long)e->a);
        printf("  (process %.1f MiB)\n", (double)e->committed / 1048576);
    }
}

static void print_json(const struct pm *p)
{
    const struct overshim_flight_header *h = &p->f.h;
    printf("{\"schema\":1,\"event\":\"postmortem\",\"flight_version\":%u,\"pid\":%d,\"ppid\":%d,\"comm\":", h->version,
           h->pid, h->ppid);
    jout_str(stdout, h->comm);
    printf(",\"exe\":");
    jout_str(stdout, h->exe);
    printf(",\"boot_id\":");
    jout_str(stdout, h->boot_id);
    printf(",\"same_boot\":%s,\"start_unix_ms\":%llu,\"state\":\"%s\"", p->same_boot ? "true" : "false",
           (unsigned long long)(h->start_realtime_ns / 1000000), p->exited ? "exited" : p->alive ? "running" : "died");
    if (p->exited) {
        printf(",\"exit\":{\"via\":");
        jout_str(stdout, h->exit_via);
        printf(",\"status\":%d,\"at_ms\":%.3f}", h->exit_status, ms(h->exit_ns));
    } else {
        printf(",\"exit\":null");
    }
    if (p->exit_status >= 0) printf(",\"exit_status\":%d", p->exit_status);
    else printf(",\"exit_status\":null");
    printf(",\"sample_cost_ns\":%llu,\"sample_cost_max_ns\":%llu", (unsigned long long)h->sample_cost_ns,
           (unsigned long long)h->sample_cost_max_ns);
    printf(",\"last_update_ms\":%.3f,\"committed_bytes\":%lld,\"peak_committed_bytes\":%lld,\"refusals\":%u",
           ms(h->last_update_ns), (long long)h->committed, (long long)h->peak_committed, h->refusals);
    printf(",\"kernel\":{\"log\":");
    if (p->log_read) jout_str(stdout, p->log_source);
    else printf("null");
    printf(",\"oom_kill\":");
    if (p->oom.found) {
        printf("{\"line\":");
        jout_str(stdout, p->oom.line);
        printf(",\"pid\":%d,\"comm\":", p->oom.pid);
        jout_str(stdout, p->oom.comm);
        printf(",\"total_vm_kb\":%lld,\"anon_rss_kb\":%lld,\"file_rss_kb\":%lld,\"shmem_rss_kb\":%lld,\"pgtables_kb\":%lld,"
               "\"uid\":%lld,\"cgroup\":%s",
               (long long)p->oom.total_vm_kb, (long long)p->oom.anon_rss_kb, (long long)p->oom.file_rss_kb,
               (long long)p->oom.shmem_rss_kb, (long long)p->oom.pgtables_kb, (long long)p->oom.uid,
               p->oom.cgroup ? "true" : "false");
        if (p->f.nsamples) {
            const struct overshim_flight_sample *l = &p->f.samples[p->f.nsamples - 1];
            printf(",\"last_sample\":{\"t_ms\":%.3f,\"vm_size_kb\":%lld,\"rss_anon_kb\":%lld,\"total_vm_diff_pct\":%.2f,"
                   "\"anon_rss_diff_pct\":%.2f}",
                   ms(l->t_ns), (long long)l->vm_size_kb, (long long)l->rss_anon_kb, pct(p->oom.total_vm_kb, l->vm_size_kb),
                   pct(p->oom.anon_rss_kb, l->rss_anon_kb));
        } else {
            printf(",\"last_sample\":null");
        }
        printf("}");
    } else {
        printf("null");
    }
    printf(",\"cgroup\":");
    jout_str(stdout, h->cgroup);
    if (p->mev_kill >= 0 || p->mev_oom >= 0)
        printf(",\"memory_events\":{\"oom\":%lld,\"oom_kill\":%lld,\"oom_group_kill\":%lld}}", (long long)p->mev_oom,
               (long long)p->mev_kill, (long long)p->mev_group);
    else
        printf(",\"memory_events\":null}");
    printf(",\"threads\":[");
    for (size_t i = 0; i < p->f.nslots; i++) {
        const struct overshim_flight_slot *s = &p->f.slots[i];
        printf("%s{\"tid\":%d,\"name\":", i ? "," : "", s->tid);
        jout_str(stdout, s->name);
        printf(",\"parent_tid\":%d,\"alive\":%s,\"committed_bytes\":%lld,\"peak_committed_bytes\":%lld,"
               "\"touched_bytes\":%lld,\"malloc_bytes\":%lld,\"start_ms\":%.3f,\"exit_ms\":",
               s->parent_tid, s->alive ? "true" : "false", (long long)s->committed, (long long)s->peak_committed,
               (long long)s->touched, (long long)s->malloc_live, ms(s->start_ns));
        if (s->alive) printf("null}");
        else printf("%.3f}", ms(s->exit_ns));
    }
    printf("],\"samples\":[");
    for (size_t i = 0; i < p->f.nsamples; i++) {
        const struct overshim_flight_sample *s = &p->f.samples[i];
        printf("%s{\"t_ms\":%.3f,\"rss_kb\":%lld,\"vm_size_kb\":%lld,\"rss_anon_kb\":%lld,\"committed_bytes\":%lld,"
               "\"touched_bytes\":%lld,\"malloc_bytes\":%lld,\"box_committed_as_kb\":%lld,\"box_commit_limit_kb\":%lld,"
               "\"box_mem_available_kb\":%lld}",
               i ? "," : "", ms(s->t_ns), (long long)s->rss_kb, (long long)s->vm_size_kb, (long long)s->rss_anon_kb,
               (long long)s->committed, (long long)s->touched, (long long)s->malloc_live,
               (long long)s->box_committed_as_kb, (long long)s->box_commit_limit_kb, (long long)s->box_mem_available_kb);
    }
    printf("],\"events\":[");
    for (size_t i = 0; i < p->f.nevents; i++) {
        const struct overshim_flight_event *e = &p->f.events[i];
        printf("%s{\"t_ms\":%.3f,\"kind\":\"%s\",\"tid\":%d,\"committed_bytes\":%lld", i ? "," : "", ms(e->t_ns),
               event_name(e->kind), e->tid, (long long)e->committed);
        if (e->kind == OVERSHIM_FEV_MAP || e->kind == OVERSHIM_FEV_UNMAP)
            printf(",\"op\":\"%s\",\"address\":%llu,\"bytes\":%lld,\"length\":%lld", op_name(e->call),
                   (unsigned long long)e->a, (long long)e->b, (long long)e->c);
        else if (e->kind == OVERSHIM_FEV_REFUSAL)
            printf(",\"call\":\"%s\",\"request_bytes\":%lld,\"errno\":%lld,\"simulated\":%s", jout_call_name((int)e->a),
                   (long long)e->b, (long long)e->c, e->d ? "true" : "false");
        else if (e->kind == OVERSHIM_FEV_THREAD_START)
            printf(",\"parent_tid\":%lld", (long long)e->a);
        else if (e->kind == OVERSHIM_FEV_THREAD_EXIT)
            printf(",\"left_committed_bytes\":%lld", (long long)e->b);
        else if (e->kind == OVERSHIM_FEV_EXIT)
            printf(",\"status\":%lld", (long long)e->a);
        printf("}");
    }
    printf("],\"torn_records\":%zu}\n", p->f.torn);
}

int cmd_postmortem(int argc, char **argv)
{
    const char *path = NULL, *klog = NULL;
    int json = 0;
    static struct pm p;
    p.exit_status = -1;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--kernel-log") && i + 1 < argc) klog = argv[++i];
        else if (!strcmp(argv[i], "--exit-status") && i + 1 < argc) p.exit_status = atoi(argv[++i]);
        else if (argv[i][0] == '-' || path) {
            fprintf(stderr, "overshim: postmortem: unexpected argument '%s' (postmortem FLIGHT [--json] [--kernel-log FILE] [--exit-status N])\n", argv[i]);
            return 2;
        } else path = argv[i];
    }
    if (!path) {
        fprintf(stderr, "overshim: postmortem: which flight file? (postmortem FLIGHT [--json])\n");
        return 2;
    }
    char err[700];
    if (flight_load(path, &p.f, err, sizeof err) != 0) {
        fprintf(stderr, "overshim: postmortem: %s\n", err);
        return 1;
    }
    const struct overshim_flight_header *h = &p.f.h;
    char boot[64];
    boot_id_now(boot, sizeof boot);
    p.same_boot = boot[0] && !strcmp(boot, h->boot_id);
    p.exited = h->state == OVERSHIM_FLIGHT_EXITED;
    p.alive = !p.exited && p.same_boot && (kill(h->pid, 0) == 0 || errno == EPERM);
    if (p.alive) { /* the pid may be another program's by now: the start time says */
        char sp[64], buf[1024];
        snprintf(sp, sizeof sp, "/proc/%d/stat", h->pid);
        FILE *f = fopen(sp, "r");
        if (f) { /* "pid (comm) S ...": a zombie (Z) or a dead task (X) holds nothing any more */
            if (!fgets(buf, sizeof buf, f)) buf[0] = 0;
            fclose(f);
            char *close = strrchr(buf, ')');
            if (!close || close[1] != ' ' || close[2] == 'Z' || close[2] == 'X') p.alive = 0;
            char *open_ = strchr(buf, '(');
            if (open_ && close && (size_t)(close - open_ - 1) == strlen(h->comm) &&
                strncmp(open_ + 1, h->comm, strlen(h->comm)))
                p.alive = 0; /* another program has the pid now */
        }
    }
    if (!p.exited && !p.alive) {
        char *log = kernel_log(klog, h->boot_id, p.same_boot, &p.log_source);
        if (log) {
            p.log_read = 1;
            struct oom_kill k;
            if (oom_find(log, h->pid, h->comm, &k) &&
                (k.ts_us < 0 || klog || (uint64_t)k.ts_us * 1000 + 2000000000ull >= h->start_mono_ns))
                p.oom = k;
            free(log);
        } else if (klog) {
            fprintf(stderr, "overshim: postmortem: cannot read '%s': %s\n", klog, strerror(errno));
            flight_free(&p.f);
            return 1;
        }
    }
    p.mev_oom = p.mev_kill = p.mev_group = -1;
    if (h->cgroup[0]) {
        char ev[600];
        snprintf(ev, sizeof ev, "/sys/fs/cgroup%s/memory.events", h->cgroup);
        FILE *f = fopen(ev, "r");
        if (f) {
            char *t = read_all(f);
            fclose(f);
            if (t) oom_memory_events(t, &p.mev_oom, &p.mev_kill, &p.mev_group);
            free(t);
        }
    }
    if (json) print_json(&p);
    else print_text(&p, path);
    flight_free(&p.f);
    return 0;
}

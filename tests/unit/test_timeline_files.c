/* Issue 17: the kernel's OOM-kill line and memory.events (cli/lib/oomkill.c), and the readers of
 * the flight and trace layouts (cli/lib/tlread.c) on hand-made files: torn records left out. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "oomkill.h"
#include "tlread.h"

Test(oomkill, a_6x_line_from_dmesg)
{
    struct oom_kill k;
    cr_assert(oom_parse_line("[12345.678901] Out of memory: Killed process 4242 (java) total-vm:6081532kB, "
                             "anon-rss:5937212kB, file-rss:1280kB, shmem-rss:4kB, UID:1000 pgtables:11800kB "
                             "oom_score_adj:-100",
                             &k));
    cr_assert_eq(k.pid, 4242);
    cr_assert_str_eq(k.comm, "java");
    cr_assert_eq(k.total_vm_kb, 6081532);
    cr_assert_eq(k.anon_rss_kb, 5937212);
    cr_assert_eq(k.file_rss_kb, 1280);
    cr_assert_eq(k.shmem_rss_kb, 4);
    cr_assert_eq(k.uid, 1000);
    cr_assert_eq(k.pgtables_kb, 11800);
    cr_assert_eq(k.oom_score_adj, -100);
    cr_assert_eq(k.ts_us, 12345678901LL);
    cr_assert_eq(k.cgroup, 0);
    cr_assert(!strncmp(k.line, "[12345.678901] Out of memory", 28));
}

Test(oomkill, a_kmsg_record_of_a_memory_cgroup)
{
    struct oom_kill k;
    cr_assert(oom_parse_line("3,1902,987654321,-;Memory cgroup out of memory: Killed process 77 (my prog) "
                             "total-vm:1000kB, anon-rss:900kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:40kB "
                             "oom_score_adj:0",
                             &k));
    cr_assert_eq(k.pid, 77);
    cr_assert_str_eq(k.comm, "my prog", "a command with a space");
    cr_assert_eq(k.ts_us, 987654321);
    cr_assert_eq(k.cgroup, 1);
    cr_assert_eq(k.anon_rss_kb, 900);
    cr_assert(!strncmp(k.line, "Memory cgroup", 13), "the message without the kmsg prefix: %s", k.line);
}

Test(oomkill, an_old_kernel_line_has_fewer_fields)
{
    struct oom_kill k;
    /* 3.10 (CentOS 7): no shmem-rss, UID, pgtables or oom_score_adj */
    cr_assert(oom_parse_line("Jan  1 00:00:01 box kernel: Killed process 999 (java) total-vm:4194304kB, "
                             "anon-rss:2000000kB, file-rss:1234kB",
                             &k));
    cr_assert_eq(k.pid, 999);
    cr_assert_eq(k.total_vm_kb, 4194304);
    cr_assert_eq(k.shmem_rss_kb, -1);
    cr_assert_eq(k.uid, -1);
    cr_assert_eq(k.oom_score_adj, INT64_MIN);
    cr_assert_eq(k.ts_us, -1);
}

Test(oomkill, not_a_kill_line)
{
    struct oom_kill k;
    cr_assert_not(oom_parse_line("[ 1.0] java invoked oom-killer: gfp_mask=0x100cca", &k));
    cr_assert_not(oom_parse_line("Killed process abc (x)", &k));
    cr_assert_not(oom_parse_line("", &k));
}

Test(oomkill, find_takes_the_last_line_of_that_pid_and_command)
{
    const char *log = "[1.0] Out of memory: Killed process 10 (java) total-vm:100kB, anon-rss:1kB\n"
                      "[2.0] Out of memory: Killed process 11 (java) total-vm:200kB, anon-rss:2kB\n"
                      "[3.0] Out of memory: Killed process 10 (bash) total-vm:300kB, anon-rss:3kB\n"
                      "[4.0] Out of memory: Killed process 10 (java) total-vm:400kB, anon-rss:4kB\n";
    struct oom_kill k;
    cr_assert(oom_find(log, 10, "java", &k));
    cr_assert_eq(k.total_vm_kb, 400);
    cr_assert(oom_find(log, 10, "bash", &k));
    cr_assert_eq(k.total_vm_kb, 300);
    cr_assert_not(oom_find(log, 12, "", &k));
    /* the kernel's comm is 15 characters at most */
    cr_assert(oom_find("Killed process 5 (averyveryverylo) total-vm:1kB\n", 5, "averyveryverylongname", &k));
}

Test(oomkill, memory_events)
{
    int64_t oom, kill, group;
    oom_memory_events("low 0\nhigh 12\nmax 40\noom 3\noom_kill 2\noom_group_kill 1\n", &oom, &kill, &group);
    cr_assert_eq(oom, 3);
    cr_assert_eq(kill, 2);
    cr_assert_eq(group, 1);
    oom_memory_events("low 0\n", &oom, &kill, &group);
    cr_assert_eq(kill, -1);
}

/* A flight file as the shim lays it out, made by hand. */
static char *make_flight(size_t *len)
{
    *len = OVERSHIM_FLIGHT_SIZE;
    char *b = calloc(1, *len);
    struct overshim_flight_header *h = (void *)b;
    memcpy(h->magic, OVERSHIM_FLIGHT_MAGIC, 8);
    h->version = OVERSHIM_FLIGHT_VERSION;
    h->header_size = 4096;
    h->slot_size = sizeof(struct overshim_flight_slot);
    h->nslots = OVERSHIM_FLIGHT_NSLOTS;
    h->event_size = sizeof(struct overshim_flight_event);
    h->nevents = OVERSHIM_FLIGHT_NEVENTS;
    h->sample_size = sizeof(struct overshim_flight_sample);
    h->nsamples = OVERSHIM_FLIGHT_NSAMPLES;
    h->slots_off = 4096;
    h->events_off = h->slots_off + OVERSHIM_FLIGHT_NSLOTS * sizeof(struct overshim_flight_slot);
    h->samples_off = h->events_off + OVERSHIM_FLIGHT_NEVENTS * sizeof(struct overshim_flight_event);
    h->pid = 123;
    h->slots_used = 2;
    struct overshim_flight_slot *s = (void *)(b + h->slots_off);
    s[0].seq = 4, s[0].tid = 123, s[0].committed = 1 << 20;
    s[1].seq = 7, s[1].tid = 124; /* torn: kept, counted */
    /* events: 600 written into a ring of 512; number 599 torn */
    h->event_count = 600;
    struct overshim_flight_event *e = (void *)(b + h->events_off);
    for (uint64_t n = 88; n < 600; n++) {
        e[n % OVERSHIM_FLIGHT_NEVENTS].seq = (uint32_t)(n == 599 ? 2 * n + 1 : 2 * n + 2);
        e[n % OVERSHIM_FLIGHT_NEVENTS].a = (int64_t)n;
    }
    h->sample_count = 2;
    struct overshim_flight_sample *sm = (void *)(b + h->samples_off);
    sm[0].seq = 2, sm[0].rss_kb = 10;
    sm[1].seq = 4, sm[1].rss_kb = 20;
    return b;
}

Test(tlread, flight_ring_in_order_without_torn_records)
{
    size_t len;
    char *b = make_flight(&len);
    struct flight_file f;
    char err[256];
    cr_assert_eq(flight_parse(b, len, &f, err, sizeof err), 0, "%s", err);
    cr_assert_eq(f.nslots, 2);
    cr_assert_eq(f.slots[0].committed, 1 << 20);
    cr_assert_eq(f.nevents, 511, "512 in the ring, the last one torn");
    cr_assert_eq(f.events[0].a, 88, "oldest first");
    cr_assert_eq(f.events[510].a, 598);
    cr_assert_eq(f.nsamples, 2);
    cr_assert_eq(f.samples[1].rss_kb, 20);
    cr_assert_eq(f.torn, 2);
    flight_free(&f);
    /* another version, or a layout that does not fit, is refused with a reason */
    ((struct overshim_flight_header *)b)->version = 2;
    cr_assert_neq(flight_parse(b, len, &f, err, sizeof err), 0);
    cr_assert(strstr(err, "version 2"), "%s", err);
    ((struct overshim_flight_header *)b)->version = 1;
    cr_assert_neq(flight_parse(b, len / 2, &f, err, sizeof err), 0);
    cr_assert_neq(flight_parse("OVSFLIT1", 8, &f, err, sizeof err), 0);
    free(b);
}

Test(tlread, trace_skips_unfinished_records)
{
    size_t len = 4096 + 3 * sizeof(struct overshim_trace_rec);
    char *b = calloc(1, len);
    struct overshim_trace_header *h = (void *)b;
    memcpy(h->magic, OVERSHIM_TRACE_MAGIC, 8);
    h->version = OVERSHIM_TRACE_VERSION;
    h->rec_size = sizeof(struct overshim_trace_rec);
    h->rec_count = 5; /* claimed; only 3 fit in the file */
    struct overshim_trace_rec *r = (void *)(b + 4096);
    r[0].type = OVERSHIM_TR_COMMIT, r[0].v[0] = 4096;
    r[1].type = 0; /* claimed, never finished */
    r[2].type = OVERSHIM_TR_REQUEST, r[2].call = 1;
    struct trace_file t;
    char err[256];
    cr_assert_eq(trace_parse(b, len, &t, err, sizeof err), 0, "%s", err);
    cr_assert_eq(t.n, 2);
    cr_assert_eq(t.unfinished, 1);
    cr_assert_eq(t.recs[1].type, OVERSHIM_TR_REQUEST);
    trace_free(&t);
    h->rec_size = 64;
    cr_assert_neq(trace_parse(b, len, &t, err, sizeof err), 0);
    free(b);
}

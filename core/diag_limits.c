/* The limits on mappings, address space, data and tasks (diagnose_int.h). */
#include "diagnose_int.h"

#include <errno.h>

/* --- the individual checks; each returns 1 when it explains the refusal ------ */

/* vm.max_map_count: do_mmap and do_brk_flags refuse once map_count > max (a process can
 * reach max + 1), split_vma once map_count >= max, a mremap move once map_count >= max - 3:
 * margin is what the call needs beyond the count (0, 1, 4; 2 for a thread: mmap, then the
 * split of its guard page). adds: mappings the call would add. */
int dg_check_map_count(struct diagnosis *d, const struct live_state *s, int64_t adds, int64_t margin)
{
    if (s->max_map_count <= 0 || s->map_count < 0 || s->map_count + margin <= s->max_map_count) return 0;
    d->units = "mappings";
    d->unit_kb = 0;
    d->check = margin ? "refused when map_count plus what the call must split first exceeds vm.max_map_count"
                      : "mm/mmap.c: refused when map_count > vm.max_map_count";
    memset(&d->kv, 0, sizeof d->kv);
    dg_term(d, "map_count", "mappings (VMAs) of the process", '+', s->map_count);
    if (margin) dg_term(d, "split_margin", "more the call needs first (a split, a move)", '+', margin);
    int64_t over = s->map_count + margin - s->max_map_count;
    dg_set(d, CAUSE_MAX_MAP_COUNT, "vm.max_map_count", adds, s->max_map_count, s->map_count, over);
    dg_explain(d, "the process has %lld mappings%s and vm.max_map_count is %lld: %lld more than the kernel allows "
               "for this call",
            (long long)s->map_count, margin ? " (plus the split or move this call needs first)" : "",
            (long long)s->max_map_count, (long long)over);
    int64_t want = s->map_count * 2 > 262144 ? s->map_count * 2 : 262144;
    dg_remedy(d, "raise vm.max_map_count to at least %lld (sysctl -w vm.max_map_count=%lld; persist it in "
              "/etc/sysctl.d)",
           (long long)want, (long long)want);
    if (jvm(s))
        dg_remedy(d, "or make fewer mappings: each Java thread costs 2 (stack and guard), each MappedByteBuffer one "
                  "(fewer threads, larger mapped files)");
    else
        dg_remedy(d, "or make fewer, larger mappings (each thread costs 2: its stack and its guard page)");
    return 1;
}

void dg_thread_more_remedy(struct diagnosis *d, const struct live_state *s, int64_t limit_kib, int64_t each_kib,
                               const char *ulimit_opt)
{
    if (d->call != CALL_PTHREAD_CREATE || each_kib <= 0) return;
    dg_remedy(d, "each further thread of this size needs %lld KiB more: ulimit %s %lld for 64 more threads",
           (long long)each_kib, ulimit_opt, (long long)(limit_kib + 64 * each_kib));
}

/* -Xss for a Java thread refused by an address-space or commit check; room: pages left. */
void dg_xss_remedy(struct diagnosis *d, const struct live_state *s, int64_t stack_pages, int64_t room_pages)
{
    if (!jvm(s) || d->call != CALL_PTHREAD_CREATE) return;
    int64_t now = stack_pages * pk_of(s), room = room_pages > 0 ? room_pages * pk_of(s) : 0;
    const char *asked = s->prog.xss > 0 ? ", as -Xss asks" : "";
    if (now > 2 * 1024)
        dg_remedy(d, "java: a smaller -Xss (each Java thread's stack is %lld KiB now%s): at -Xss1m %lld threads fit where "
                  "one does now, and the %lld KiB still free hold %lld (the JVM's own threads: "
                  "-XX:VMThreadStackSize, -XX:CompilerThreadStackSize)",
               (long long)now, asked, (long long)((now + 4) / (1024 + 4)), (long long)room,
               (long long)(room / (1024 + 4)));
    else
        dg_remedy(d, "java: a smaller -Xss, e.g. -Xss512k (each Java thread's stack is %lld KiB now%s)", (long long)now,
               asked);
}

void dg_stack_size_remedy(struct diagnosis *d, const struct live_state *s, int64_t largest_kib)
{
    if (jvm(s)) return; /* -Xss, from xss_remedy */
    if (python(s))
        dg_remedy(d, "smaller thread stacks: threading.stack_size(%lld * 1024) or less before the threads start "
                  "(the default is ulimit -s)",
               (long long)(largest_kib > 0 ? largest_kib : 0));
    else
        dg_remedy(d, "smaller thread stacks: at most %lld KiB would pass (pthread_attr_setstacksize; the default "
                  "stack is ulimit -s)",
               (long long)(largest_kib > 0 ? largest_kib : 0));
}

int dg_check_rlimit_as(struct diagnosis *d, const struct live_state *s, int64_t net, int64_t req)
{
    if (s->rlim_as == LS_UNLIMITED) return 0;
    int64_t limit = s->rlim_as / 1024 / pk_of(s);
    if (s->vm_size_pages + net <= limit) return 0;
    memset(&d->kv, 0, sizeof d->kv);
    dg_term(d, "total_vm", "VmSize (total_vm, every mapping counts)", '+', s->vm_size_pages);
    dg_term(d, "request", "this request (net of what it replaces)", '+', net);
    dg_set(d, CAUSE_RLIMIT_AS, "RLIMIT_AS (ulimit -v)", req, limit, s->vm_size_pages, s->vm_size_pages + net - limit);
    dg_explain(d, "VmSize %lld MiB + this request %lld MiB exceeds RLIMIT_AS %lld MiB (ulimit -v %lld); RLIMIT_AS "
               "counts every mapping, PROT_NONE reservations included",
            (long long)MiB(s->vm_size_pages, s), (long long)MiB(net, s), (long long)MiB(limit, s),
            (long long)(s->rlim_as / 1024));
    int64_t need_kib = (s->vm_size_pages + net) * pk_of(s);
    int64_t room = limit - s->vm_size_pages;
    if (jvm(s) && s->prog.jvm_starting) {
        /* the whole start, not the failing reservation alone: the next one would fail too */
        char parts[480];
        uint64_t req_b = (uint64_t)net * (uint64_t)pk_of(s) * 1024;
        int64_t arenas = s->prog.arena_max > 0 ? s->prog.arena_max : 8 * (s->in.ncpus > 0 ? s->in.ncpus : 1);
        int64_t whole = round_up_mib(dg_jvm_start_limit(s, req_b, arenas, parts, sizeof parts), 64);
        char tail[600];
        osh_snprintf(tail, sizeof tail, ": that covers the JVM's whole start, not this reservation alone: %s", parts);
        dg_limit_remedy(d, s, "-v", "RLIMIT_AS", "LimitAS", whole / KIB, 1, tail);
        if (!(s->prog.arena_max > 0 && s->prog.arena_max <= 2)) {
            char p2[480];
            int64_t whole2 = round_up_mib(dg_jvm_start_limit(s, req_b, 2, p2, sizeof p2), 64);
            dg_remedy(d, "or MALLOC_ARENA_MAX=2 in the JVM's environment (glibc's arenas reserve 64 MiB of address "
                      "space each): then ulimit -v %lld covers the start",
                   (long long)(whole2 / KIB));
        }
        dg_remedy(d, "or reserve less: java -Xmx, -XX:ReservedCodeCacheSize, -XX:CompressedClassSpaceSize");
        return 1;
    }
    dg_limit_remedy(d, s, "-v", "RLIMIT_AS", "LimitAS", need_kib, 1, "");
    dg_thread_more_remedy(d, s, need_kib, net * pk_of(s), "-v");
    if (jvm(s)) {
        dg_xss_remedy(d, s, net - 1, room);
        dg_direct_memory_remedy(d, s, room);
        if (d->call != CALL_PTHREAD_CREATE && !(is_malloc(d->call) && s->prog.java_malloc))
            dg_remedy(d, "or reserve less address space: java -Xmx, -XX:ReservedCodeCacheSize, "
                      "-XX:CompressedClassSpaceSize");
    } else if (d->call == CALL_PTHREAD_CREATE) {
        dg_stack_size_remedy(d, s, room > 1 ? (room - 1) * pk_of(s) : 0);
    } else if (is_malloc(d->call)) {
        dg_remedy(d, "or this allocation at most %lld MiB (what is left under the limit)", (long long)mib_down(s, room));
    } else {
        dg_remedy(d, "RLIMIT_AS counts reservations (PROT_NONE, MAP_NORESERVE) in full: for a program that reserves "
                  "address space up front (a runtime's heap, WebAssembly memories), limit written memory instead: "
                  "RLIMIT_DATA (ulimit -d) or a memory cgroup (systemd: MemoryMax=)");
    }
    return 1;
}

/* may_expand_vm's data check: data_vm + npages > RLIMIT_DATA, where npages is the
 * call's net growth in pages (a MAP_FIXED over mapped pages adds 0). So data_vm can
 * overshoot the limit through such a commit, and then the next data mapping fails
 * even with a net of 0 (docs/facts.md §2: "a later commit fails"). */
int dg_check_rlimit_data(struct diagnosis *d, const struct live_state *s, int64_t net, int64_t req)
{
    if (s->rlim_data == LS_UNLIMITED || net < 0) return 0;
    if (s->rlim_data == 0 && s->rlim_data_max != 0) return 0; /* the valgrind exception (4.7+) */
    int64_t limit = s->rlim_data / 1024 / pk_of(s);
    if (s->vm_data_pages + net <= limit) return 0;
    memset(&d->kv, 0, sizeof d->kv);
    dg_term(d, "data_vm", "VmData (data_vm: private writable mappings, brk heap)", '+', s->vm_data_pages);
    dg_term(d, "request", "this request's net growth (pages it does not replace)", '+', net);
    dg_set(d, CAUSE_RLIMIT_DATA, "RLIMIT_DATA (ulimit -d)", req, limit, s->vm_data_pages, s->vm_data_pages + net - limit);
    if (net == 0)
        dg_explain(d, "VmData is already %lld MiB, above RLIMIT_DATA %lld MiB (ulimit -d %lld): an earlier MAP_FIXED "
                   "commit over reserved pages grew it without a check, since only the net growth is checked; "
                   "now every new private writable mapping is refused",
                (long long)MiB(s->vm_data_pages, s), (long long)MiB(limit, s), (long long)(s->rlim_data / 1024));
    else
        dg_explain(d, "VmData %lld MiB + %lld MiB of new private writable memory exceeds RLIMIT_DATA %lld MiB "
                   "(ulimit -d %lld); since 4.7 it covers private writable mmaps, not only brk",
                (long long)MiB(s->vm_data_pages, s), (long long)MiB(net, s), (long long)MiB(limit, s),
                (long long)(s->rlim_data / 1024));
    int64_t need_kib = (s->vm_data_pages + (net > 0 ? net : req)) * pk_of(s);
    dg_limit_remedy(d, s, "-d", "RLIMIT_DATA", "LimitDATA", need_kib, 1, "");
    dg_thread_more_remedy(d, s, need_kib, net * pk_of(s), "-d");
    int64_t room = limit - s->vm_data_pages;
    dg_xss_remedy(d, s, net, room);
    dg_direct_memory_remedy(d, s, room);
    if (!jvm(s) && d->call == CALL_PTHREAD_CREATE) dg_stack_size_remedy(d, s, room > 0 ? room * pk_of(s) : 0);
    return 1;
}

/* brk's own check, before any other (mm/mmap.c brk(), every version): the heap's size
 * plus the data segment's against RLIMIT_DATA, in bytes. */
int dg_check_brk_data(struct diagnosis *d, const struct live_state *s, uint64_t new_brk)
{
    if (s->rlim_data == LS_UNLIMITED || !s->start_brk || new_brk < (uint64_t)s->start_brk) return 0;
    int64_t heap = (int64_t)new_brk - s->start_brk, data = s->end_data - s->start_data;
    if (data < 0) data = 0;
    if (heap + data <= s->rlim_data) return 0;
    memset(&d->kv, 0, sizeof d->kv);
    dg_term(d, "brk-start_brk", "the heap after this call (brk - start_brk)", '+', pages_of(s, (uint64_t)heap));
    dg_term(d, "end_data-start_data", "the program's data segment (end_data - start_data)", '+',
         pages_of(s, (uint64_t)data));
    int64_t limit = s->rlim_data / 1024 / pk_of(s);
    int64_t old = s->cur_brk > s->start_brk ? s->cur_brk : s->start_brk;
    dg_set(d, CAUSE_RLIMIT_DATA, "RLIMIT_DATA (ulimit -d), brk's heap-plus-data check", pages_of(s, new_brk - (uint64_t)old),
        limit, pages_of(s, (uint64_t)(old - s->start_brk + data)), pages_of(s, (uint64_t)(heap + data - s->rlim_data)));
    dg_explain(d, "the heap would be %lld KiB and the data segment is %lld KiB: together more than RLIMIT_DATA %lld "
               "KiB (ulimit -d %lld); brk checks this sum first, before VmData or the commit charge",
            (long long)(heap / KIB), (long long)(data / KIB), (long long)(s->rlim_data / KIB),
            (long long)(s->rlim_data / 1024));
    dg_limit_remedy(d, s, "-d", "RLIMIT_DATA", "LimitDATA", (heap + data + 1023) / 1024, 1, "");
    dg_remedy(d, "or a smaller heap: for glibc's malloc, M_MMAP_THRESHOLD (mallopt) moves large blocks out of the "
              "brk heap (they then count in VmData)");
    return 1;
}

/* HotSpot with -XX:+UseLargePages maps one huge page to see whether the pool has any
 * (os::Linux hugetlbfs_sanity_check); when it has none it warns and goes on without large
 * pages. Nothing failed that the program suffers from: a one-line note. */
int dg_jvm_large_page_probe(const struct live_state *s, uint64_t len)
{
    int64_t hp = (s->hugepagesize_kb > 0 ? s->hugepagesize_kb : 2048) * KIB;
    return jvm(s) && ((int64_t)len == hp || len == (1ull << 30) || len == (2ull << 20));
}

int dg_check_hugetlb(struct diagnosis *d, const struct live_state *s, uint64_t len)
{
    int64_t hp = s->hugepagesize_kb > 0 ? s->hugepagesize_kb : 2048;
    int64_t need = (int64_t)((len / 1024 + (uint64_t)hp - 1) / (uint64_t)hp);
    int64_t freep = s->hugepages_free > 0 ? s->hugepages_free : 0;
    memset(&d->kv, 0, sizeof d->kv);
    dg_term(d, "HugePages_Free", "HugePages_Free", '+', freep);
    dg_set(d, CAUSE_HUGETLB, "the hugetlb pool", need, freep, -1, need - freep);
    d->units = "huge pages";
    d->unit_kb = hp;
    dg_explain(d, "MAP_HUGETLB needs %lld huge pages of %lld kB; the pool has %lld free (HugePages_Free) and "
               "surplus pages are not allowed beyond nr_overcommit_hugepages",
            (long long)need, (long long)hp, (long long)freep);
    if (dg_jvm_large_page_probe(s, len)) {
        d->note = 1;
        d->note_kind = "jvm_large_page_probe";
        dg_explain(d, "HotSpot's -XX:+UseLargePages probe (one MAP_HUGETLB page of %lld KiB) found no free huge "
                   "page; the JVM goes on without large pages (-XX:-UseLargePages, or vm.nr_hugepages=N, silences "
                   "this)",
                (long long)(len / 1024));
        dg_remedy(d, "-XX:-UseLargePages, or vm.nr_hugepages large enough for the heap");
        return 1;
    }
    if (s->prog.huge_fallback) { /* PostgreSQL: huge_pages = try goes on with normal pages */
        d->note = 1;
        d->note_kind = "hugetlb_fallback";
        size_t n = strlen(d->explanation);
        osh_snprintf(d->explanation + n, sizeof d->explanation - n,
                    "; PostgreSQL's huge_pages = try (the default) then goes on with normal pages: huge_pages = off "
                    "in postgresql.conf, or vm.nr_hugepages of at least %lld more, silences this",
                    (long long)(need - freep));
        dg_remedy(d, "huge_pages = off in postgresql.conf, or vm.nr_hugepages raised by at least %lld",
               (long long)(need - freep));
        return 1;
    }
    dg_remedy(d, "raise vm.nr_hugepages by at least %lld, or vm.nr_overcommit_hugepages", (long long)(need - freep));
    if (jvm(s))
        dg_remedy(d, "or java -XX:-UseLargePages");
    else
        dg_remedy(d, "or map with MAP_NORESERVE (a fault with no free huge page then gives SIGBUS)");
    return 1;
}

void dg_task_pool_remedy(struct diagnosis *d, const struct live_state *s)
{
    int proc = d->call == CALL_FORK || d->call == CALL_CLONE || d->call == CALL_POSIX_SPAWN ||
               d->call == CALL_POSIX_SPAWNP;
    if (jvm(s))
        dg_remedy(d, "or fewer tasks: every Java thread counts (java: -XX:ParallelGCThreads, -XX:ConcGCThreads, "
                  "-XX:CICompilerCount, smaller thread pools)%s",
               proc ? ", and every child process" : "");
    else if (python(s))
        dg_remedy(d, proc ? "or fewer processes: a smaller multiprocessing or concurrent.futures pool (processes=, "
                         "max_workers=)"
                       : "or fewer threads: a smaller thread pool (ThreadPoolExecutor max_workers=)");
    else if (node(s))
        dg_remedy(d, proc ? "or fewer child processes (child_process, cluster workers)"
                       : "or fewer threads (worker_threads; UV_THREADPOOL_SIZE for libuv's pool)");
    else
        dg_remedy(d, proc ? "or fewer processes or a smaller pool of workers (threads count too)"
                       : "or fewer threads, or a smaller thread pool");
}

int dg_check_tasks(struct diagnosis *d, const struct live_state *s)
{
    memset(&d->kv, 0, sizeof d->kv);
    d->units = "tasks";
    d->unit_kb = 0;
    int exempt = s->ruid == 0 || s->cap_sys_resource || s->in.cap_sys_admin;
    if (!exempt && s->rlim_nproc != LS_UNLIMITED && s->user_tasks >= 0 && s->user_tasks >= s->rlim_nproc) {
        d->check = "kernel/fork.c: refused when the tasks of the real uid reach RLIMIT_NPROC";
        dg_term(d, "UCOUNT_RLIMIT_NPROC", "tasks (processes and threads) of this real uid", '+', s->user_tasks);
        dg_set(d, CAUSE_THREAD_LIMIT, "RLIMIT_NPROC (ulimit -u)", 1, s->rlim_nproc, s->user_tasks,
            s->user_tasks + 1 - s->rlim_nproc);
        dg_explain(d, "uid %lld already runs %lld tasks (threads count) and RLIMIT_NPROC is %lld; neither root nor "
                   "CAP_SYS_RESOURCE/CAP_SYS_ADMIN, so no exemption",
                (long long)s->ruid, (long long)s->user_tasks, (long long)s->rlim_nproc);
        int64_t want = s->user_tasks * 2 > 64 ? s->user_tasks * 2 : 64;
        char why[96];
        if (want == s->user_tasks * 2)
            osh_snprintf(why, sizeof why, "; %lld is twice the %lld tasks the uid runs now, for room to grow",
                         (long long)want, (long long)s->user_tasks);
        else
            osh_snprintf(why, sizeof why, "; 64 at the least: the uid runs %lld tasks now", (long long)s->user_tasks);
        dg_limit_remedy(d, s, "-u", "RLIMIT_NPROC counts every process and thread of the uid", "LimitNPROC", want, 0,
                        why);
        dg_task_pool_remedy(d, s);
        return 1;
    }
    if (s->pids_max >= 0 && s->pids_max != LS_UNLIMITED && s->pids_current >= s->pids_max) {
        d->check = "kernel/cgroup/pids.c: refused when pids.current reaches pids.max";
        dg_term(d, "pids.current", "pids.current of the cgroup", '+', s->pids_current);
        dg_set(d, CAUSE_THREAD_LIMIT, "the pids cgroup (pids.max)", 1, s->pids_max, s->pids_current,
            s->pids_current + 1 - s->pids_max);
        dg_explain(d, "the cgroup has %lld tasks and pids.max is %lld", (long long)s->pids_current,
                (long long)s->pids_max);
        if (s->prog.service[0])
            dg_remedy(d, "TasksMax=%lld or more in the [Service] section of %s (systemctl edit %s)",
                   (long long)(s->pids_current * 2), s->prog.service, s->prog.service);
        else
            dg_remedy(d, "raise pids.max of the cgroup (systemd: TasksMax=) to at least %lld",
                   (long long)(s->pids_current * 2));
        dg_task_pool_remedy(d, s);
        return 1;
    }
    if (s->threads_max > 0 && s->nr_tasks >= s->threads_max) {
        d->check = "kernel/fork.c: refused when nr_threads reaches kernel.threads-max";
        dg_term(d, "nr_threads", "tasks on the system", '+', s->nr_tasks);
        dg_set(d, CAUSE_THREAD_LIMIT, "kernel.threads-max", 1, s->threads_max, s->nr_tasks, s->nr_tasks + 1 - s->threads_max);
        dg_explain(d, "the system has %lld tasks and kernel.threads-max is %lld", (long long)s->nr_tasks,
                (long long)s->threads_max);
        dg_remedy(d, "raise kernel.threads-max to at least %lld", (long long)(s->nr_tasks * 2));
        dg_task_pool_remedy(d, s);
        return 1;
    }
    if (s->pid_max > 0 && s->nr_tasks >= s->pid_max - 300) {
        d->check = "kernel/pid.c: refused when no pid below kernel.pid_max is free";
        dg_term(d, "nr_threads", "tasks on the system", '+', s->nr_tasks);
        dg_set(d, CAUSE_THREAD_LIMIT, "kernel.pid_max", 1, s->pid_max, s->nr_tasks, s->nr_tasks + 1 - s->pid_max);
        dg_explain(d, "the system has %lld tasks, close to kernel.pid_max %lld: no free pid", (long long)s->nr_tasks,
                (long long)s->pid_max);
        dg_remedy(d, "raise kernel.pid_max (up to 4194304)");
        return 1;
    }
    return 0;
}


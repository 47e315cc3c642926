/* Issue 3: a real JVM whose -Xms is above RAM+swap, under the shim. */
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

Test(java, xms_above_ram_plus_swap, .timeout = 120)
{
    FILE *f = fopen("/proc/sys/vm/overcommit_memory", "r");
    int mode = f ? fgetc(f) - '0' : -1;
    if (f) fclose(f);
    if (mode != 0) cr_skip_test("vm.overcommit_memory is %d here, not 0", mode);
    /* RAM + swap + 2 GiB, rounded up to 64 MiB so that G1's region alignment keeps it as is */
    long long mib = ((meminfo_kb("MemTotal") + meminfo_kb("SwapTotal")) / 1024 + 2048 + 63) / 64 * 64;
    char xms[64], xmx[64];
    snprintf(xms, sizeof xms, "-Xms%lldm", mib);
    snprintf(xmx, sizeof xmx, "-Xmx%lldm", mib);
    char *dir = test_dir("java");
    char *argv[] = {"java", xms, xmx, "-XX:+UseG1GC", "-version", NULL};
    struct run r;
    run_cmd(&r, argv, NULL, dir, 1, 100);
    cr_expect_eq(r.status, 1, "the JVM cannot start: %s", r.err);
    cr_expect(strstr(r.out, "Native memory allocation (mmap) failed") || strstr(r.err, "errno=12"),
              "HotSpot's own message: %s %s", r.out, r.err);
    struct jval *ev[MAX_EVENTS];
    int n = events_in(dir, ev);
    const struct jval *e = json_event(ev, n, "enomem");
    cr_assert(e);
    const char *call = json_str(e, "call.name");
    cr_expect(!strcmp(call, "mmap64") || !strcmp(call, "mmap"), "%s", call);
    cr_expect_eq(json_int(e, "call.args.length", -1), mib << 20);
    cr_expect(strstr(json_str(e, "call.args.flags"), "MAP_FIXED") != NULL);
    cr_expect_str_eq(json_str(e, "verdict.cause"), "overcommit_guess");
    /* JavaMain, not the launcher's main thread */
    long long pid = json_int(e, "pid", -1), tid = json_int(e, "tid", -2);
    cr_expect_neq(tid, pid, "the heap is committed on the JavaMain thread");
    cr_expect_eq(json_int(e, "thread.parent_tid", -1), pid);
    const struct jval *st = json_at(e, "stack");
    int jvm = 0;
    for (size_t i = 0; st && i < st->n; i++) {
        const char *m = json_str(st->items[i], "module");
        const char *b = json_str(st->items[i], "build_id");
        if (m && strstr(m, "libjvm.so") && b && strlen(b) == 40 && json_int(st->items[i], "offset", 0) > 0) jvm++;
    }
    cr_expect_gt(jvm, 3, "libjvm.so frames with module, offset and build-id");
    const struct jval *ex = json_event(ev, n, "exit");
    cr_assert(ex, "an exit event");
    cr_expect_eq(json_int(ex, "status", -1), 1);
    cr_expect_str_eq(json_str(ex, "via"), "_exit", "HotSpot leaves through _exit(1)");
    const struct jval *after = json_at(ex, "after_enomem_ms");
    cr_expect(after && after->t == J_NUM && after->num >= 0, "the report was written before the exit");
    /* the report precedes HotSpot's hs_err file */
    const char *log = find_file(dir, "overshim_pid", ".log");
    const char *hs = find_file(dir, "hs_err_pid", ".log");
    if (log && hs) {
        struct stat a, b;
        stat(log, &a);
        stat(hs, &b);
        cr_expect(a.st_mtim.tv_sec <= b.st_mtim.tv_sec);
    }
    for (int i = 0; i < n; i++) json_free(ev[i]);
    run_free(&r);
    free(dir);
}

/* The -Xms the heap refusal offers starts the JVM when followed, for G1 (the commit is
 * the heap, rounded up to its region) and Parallel (the commit is the old generation,
 * two thirds of it). */
Test(java, offered_xms_starts_the_jvm, .timeout = 180)
{
    FILE *f = fopen("/proc/sys/vm/overcommit_memory", "r");
    int mode = f ? fgetc(f) - '0' : -1;
    if (f) fclose(f);
    if (mode != 0) cr_skip_test("vm.overcommit_memory is %d here, not 0", mode);
    long long mib = (meminfo_kb("MemTotal") + meminfo_kb("SwapTotal")) / 1024 * 2; /* Parallel: 2/3 of it is still too much */
    const char *gcs[] = {"-XX:+UseG1GC", "-XX:+UseParallelGC"};
    for (int g = 0; g < 2; g++) {
        char xms[64];
        snprintf(xms, sizeof xms, "-Xms%lldm", mib);
        char *dir = test_dir("java-xms");
        char *argv[] = {"java", xms, (char *)gcs[g], "-version", NULL};
        struct run r;
        run_cmd(&r, argv, NULL, dir, 1, 100);
        cr_expect_eq(r.status, 1, "%s %s starts: %s", gcs[g], xms, r.err);
        struct jval *ev[MAX_EVENTS];
        int n = events_in(dir, ev);
        const struct jval *e = json_event(ev, n, "enomem");
        cr_assert(e);
        long long offered = -1;
        const struct jval *rem = json_at(e, "verdict.remedies");
        for (size_t i = 0; rem && i < rem->n; i++) {
            const char *x = strstr(rem->items[i]->str, "-Xms");
            if (x && sscanf(x, "-Xms%lldm", &offered) == 1) break;
        }
        cr_assert_gt(offered, 0, "%s: no -Xms offered", gcs[g]);
        for (int i = 0; i < n; i++) json_free(ev[i]);
        run_free(&r);
        snprintf(xms, sizeof xms, "-Xms%lldm", offered);
        run_cmd(&r, argv, NULL, dir, 0, 100);
        cr_expect_eq(r.status, 0, "%s with the offered %s does not start: %s", gcs[g], xms, r.err);
        run_free(&r);
        free(dir);
    }
}

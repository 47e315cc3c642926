/* The shim carries its unwinder inside (a private libunwind built from Debian's source
 * package, scripts/libunwind.sh): it needs only glibc's own libraries on a target
 * machine, loads no library of its own into a process, adds only its image, its bss, its
 * report stack and its fork page to the mappings at start, and its reports still have
 * the program's stack. */
#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include "common.h"

/* Lines of a command's stdout, one at a time: f(line, arg) for each. */
static void each_line(const char *cmd, void (*f)(char *line, void *arg), void *arg)
{
    FILE *p = popen(cmd, "r");
    cr_assert(p, "popen %s", cmd);
    char line[4096];
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = 0;
        f(line, arg);
    }
    cr_assert_eq(pclose(p), 0, "%s failed", cmd);
}

struct needed {
    const char *what;
    int n, libc;
};

static void one_needed(char *line, void *arg)
{
    struct needed *nd = arg;
    if (!strstr(line, "(NEEDED)")) return;
    char *a = strchr(line, '['), *b = a ? strchr(a, ']') : NULL;
    cr_assert(a && b, "readelf line: %s", line);
    *b = 0;
    const char *lib = a + 1;
    static const char *const allowed[] = {"libc.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1",
                                          "ld-linux-x86-64.so.2"};
    int ok = 0;
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) ok |= !strcmp(lib, allowed[i]);
    cr_expect(ok, "%s needs %s: only glibc's own libraries may be needed", nd->what, lib);
    nd->libc |= !strcmp(lib, "libc.so.6");
    nd->n++;
}

Test(portable, needs_only_glibc_libraries)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "readelf -d '%s'", shim_path());
    struct needed nd = {"libovershim.so", 0, 0};
    each_line(cmd, one_needed, &nd);
    cr_expect(nd.libc, "no NEEDED libc.so.6: readelf output not understood");
}

/* The command is linked statically (libdw, libelf, their compressors, libstdc++): it
 * needs no library at all, and runs without a program interpreter. */
Test(portable, command_needs_only_glibc_libraries)
{
    char cli[4200], cmd[4300];
    snprintf(cli, sizeof cli, "%s/overshim", build_dir());
    snprintf(cmd, sizeof cmd, "readelf -d '%s'", cli);
    struct needed nd = {"overshim", 0, 0};
    each_line(cmd, one_needed, &nd);
    cr_expect_eq(nd.n, 0, "the command needs %d libraries; it is linked statically", nd.n);
    char *argv[] = {cli, "explain", "--json", "1M", NULL};
    char empty[] = "LD_LIBRARY_PATH=/nonexistent";
    char *env[] = {empty, NULL};
    struct run r;
    run_cmd(&r, argv, env, NULL, 0, 30);
    cr_expect_eq(r.status, 0, "overshim explain --json 1M: %d %s", r.status, r.err);
    cr_expect(strstr(r.out, "\"event\":\"explain\"") != NULL, "%s", r.out);
    run_free(&r);
}

static void no_unwinder_symbol(char *line, void *arg)
{
    (void)arg;
    char *name = strrchr(line, ' ');
    name = name ? name + 1 : line;
    cr_expect(strncmp(name, "unw_", 4) && strncmp(name, "_U", 2) && strncmp(name, "lzma_", 5),
              "dynamic symbol '%s': the private libunwind must be neither exported nor expected from elsewhere",
              line);
}

/* Neither defined (exported) nor undefined (expected from a libunwind.so) unwinder names. */
Test(portable, unwinder_symbols_are_private)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "nm -D '%s'", shim_path());
    each_line(cmd, no_unwinder_symbol, NULL);
}

static void no_wrapper_binding(char *line, void *arg)
{
    (void)arg;
    if (!strstr(line, "R_X86_64_JUMP_SLOT") && !strstr(line, "R_X86_64_GLOB_DAT")) return;
    char name[256] = "";
    if (sscanf(line, "%*s %*s %*s %*s %255s", name) != 1) return;
    name[strcspn(name, "@")] = 0;
    static const char *const renamed[] = {"mmap", "munmap", "malloc", "free"};
    for (size_t i = 0; i < sizeof renamed / sizeof renamed[0]; i++)
        cr_expect(strcmp(name, renamed[i]), "relocation against %s: %s", name, line);
}

/* libunwind's mmap, munmap, malloc and free are renamed (shim/libunwind.syms) to the
 * shim's raw system calls and to an allocator that always fails; the shim's own code
 * calls the real functions through pointers. So no PLT or GOT slot of the shim names
 * them: nothing inside it can bind to its own wrappers or to a program's allocator. */
Test(portable, unwinder_memory_bypasses_the_wrappers)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "readelf -rW '%s'", shim_path());
    each_line(cmd, no_wrapper_binding, NULL);
}

/* /proc/self/maps of `cat` under the shim, or bare. */
static char *maps_of_cat(int preload)
{
    char *dir = test_dir(preload ? "maps_shim" : "maps_bare");
    char *argv[] = {"cat", "/proc/self/maps", NULL};
    struct run r;
    run_cmd(&r, argv, NULL, dir, preload, 30);
    cr_assert_eq(r.status, 0, "cat /proc/self/maps: %d %s", r.status, r.err);
    char *out = r.out;
    r.out = NULL;
    run_free(&r);
    free(dir);
    return out;
}

/* Mappings in a maps text, an anonymous one that starts where the one before it (also
 * anonymous, same permissions) ends counted with it: whether the kernel merges two such
 * depends on their flags and on where the loader's blocks land (bullseye: its TLS block,
 * larger by the shim's TLS, no longer fits after libc's bss and lands beside the report
 * stack), not on how many the shim made. */
static int count_mappings(const char *s)
{
    int n = 0;
    unsigned long long prev_end = 1;
    char prev_perm[8] = "";
    int prev_anon = 0;
    for (const char *l = s; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
        unsigned long long lo, hi;
        char perm[8], path[16] = "";
        if (sscanf(l, "%llx-%llx %7s %*s %*s %*s %15s", &lo, &hi, perm, path) < 3) continue;
        const char *eol = strchr(l, '\n');
        int anon = 1;
        for (const char *c = l; c < (eol ? eol : l + strlen(l)); c++) anon &= *c != '/' && *c != '[';
        if (!(anon && prev_anon && lo == prev_end && !strcmp(perm, prev_perm))) n++;
        prev_end = hi, prev_anon = anon;
        snprintf(prev_perm, sizeof prev_perm, "%s", perm);
    }
    return n;
}

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

Test(portable, no_libunwind_or_liblzma_mapped)
{
    char *maps = maps_of_cat(1);
    cr_assert(strstr(maps, "libovershim.so"), "the shim is not loaded: %s", maps);
    for (char *l = strtok(maps, "\n"); l; l = strtok(NULL, "\n")) {
        const char *path = strchr(l, '/');
        if (!path) continue;
        const char *b = base_name(path);
        cr_expect(strncmp(b, "libunwind", 9) && strncmp(b, "liblzma", 7), "mapped under the shim: %s", l);
    }
    free(maps);
}

/* PT_LOAD segments of the shim's file and whether it has a RELRO part (which splits its
 * writable segment in two mappings). */
static void shim_segments(int *loads, int *relro, int *holes)
{
    int fd = open(shim_path(), O_RDONLY | O_CLOEXEC);
    cr_assert(fd >= 0);
    Elf64_Ehdr eh;
    cr_assert_eq(pread(fd, &eh, sizeof eh, 0), (ssize_t)sizeof eh);
    cr_assert(!memcmp(eh.e_ident, ELFMAG, SELFMAG) && eh.e_ident[EI_CLASS] == ELFCLASS64);
    *loads = *relro = *holes = 0;
    unsigned long long prev_end = 0, page = (unsigned long long)sysconf(_SC_PAGESIZE);
    for (int i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        cr_assert_eq(pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)), (ssize_t)sizeof ph);
        if (ph.p_type == PT_LOAD) {
            /* a gap between two segments: a loader before glibc 2.35 maps the whole span and
             * leaves the gap as a PROT_NONE mapping of the file */
            if (*loads && ph.p_vaddr / page * page > prev_end) ++*holes;
            prev_end = (ph.p_vaddr + ph.p_memsz + page - 1) / page * page;
            ++*loads;
        }
        *relro |= ph.p_type == PT_GNU_RELRO;
    }
    close(fd);
}

/* What the shim adds to a process at start: its image (one mapping per PT_LOAD, one more
 * for the RELRO split, one per gap between segments before glibc 2.35), its bss (one anonymous mapping right after the image), and
 * three of its own (the report stack and its guard page, the fork page). Nothing else:
 * no library of its own (before: libunwind and liblzma, 11 mappings and ~300 KiB). */
Test(portable, mappings_at_start_are_image_bss_and_three)
{
    char *bare = maps_of_cat(0), *shim = maps_of_cat(1);
    int nbare = count_mappings(bare), nshim = count_mappings(shim);
    int image = 0, bss = 0;
    unsigned long long prev_end = 0;
    int prev_image = 0;
    for (char *l = strtok(shim, "\n"); l; l = strtok(NULL, "\n")) {
        unsigned long long lo = 0, hi = 0;
        sscanf(l, "%llx-%llx", &lo, &hi);
        const char *path = strchr(l, '/');
        int mine = path && !strcmp(base_name(path), "libovershim.so");
        if (!mine && prev_image && !path && lo == prev_end) bss = 1; /* anonymous, right after the image */
        image += mine;
        prev_image = mine;
        prev_end = hi;
    }
    int loads, relro, holes;
    shim_segments(&loads, &relro, &holes);
    cr_expect_gt(image, 0, "the shim is not loaded");
    cr_expect_leq(image, loads + relro + holes, "%d mappings of the shim's file for %d PT_LOAD segments (%d gaps)",
                  image, loads, holes);
    int allowed = image + bss + 3;
    cr_expect_leq(nshim - nbare, allowed,
                  "the shim adds %d mappings at start (bare %d, shim %d); allowed: image %d + bss %d + 3", nshim - nbare,
                  nbare, nshim, image, bss);
    free(bare);
    free(shim);
}

struct symrange {
    unsigned long long lo, hi;
};

static void find_sym(char *line, void *arg)
{
    struct symrange *s = arg;
    unsigned long long v, n;
    char t, name[256];
    if (sscanf(line, "%llx %llx %c %255s", &v, &n, &t, name) == 4 && !strcmp(name, "small_stack_thread"))
        s->lo = v, s->hi = v + n;
}

/* A real refusal on a 16 KiB thread stack (hostile smallstack 16 all: an mmap, a malloc and
 * a pthread_create of twice RAM+swap): every report's stack starts in the program, goes
 * through the thread function and on into libc's thread start: the private libunwind
 * reads the program's and libc's unwind tables. */
Test(portable, real_refusal_stack_names_the_program, .timeout = 60)
{
    FILE *f = fopen("/proc/sys/vm/overcommit_memory", "r");
    int mode = f ? fgetc(f) - '0' : -1;
    if (f) fclose(f);
    if (mode == 1) cr_skip_test("vm.overcommit_memory is 1 here: nothing is refused");
    struct symrange thr = {0, 0};
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "nm -S --defined-only '%s'", prog("hostile"));
    each_line(cmd, find_sym, &thr);
    cr_assert(thr.hi > thr.lo, "no small_stack_thread in %s", prog("hostile"));

    char *dir = test_dir("portable_stack");
    char *argv[] = {(char *)prog("hostile"), "smallstack", "16", "all", NULL};
    struct run r;
    run_cmd(&r, argv, NULL, dir, 1, 60);
    cr_assert_eq(r.status, 0, "hostile smallstack 16 all: exit %d: %s %s", r.status, r.out, r.err);
    struct jval *ev[MAX_EVENTS];
    int n = events_in(dir, ev), reports = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(json_str(ev[i], "event"), "enomem")) continue;
        reports++;
        const char *call = json_str(ev[i], "call.name");
        const struct jval *st = json_at(ev[i], "stack");
        cr_assert(st && st->n > 0, "%s: no stack", call);
        const char *m0 = json_str(ev[i], "stack.0.module");
        cr_expect(m0 && !strcmp(base_name(m0), "hostile"), "%s: frame 0 is %s, not the program", call, m0);
        int in_thread = -1, libc_after = 0;
        for (int k = 0; k < (int)st->n; k++) {
            char key[64];
            snprintf(key, sizeof key, "stack.%d.module", k);
            const char *m = json_str(ev[i], key);
            snprintf(key, sizeof key, "stack.%d.offset", k);
            unsigned long long off = (unsigned long long)json_int(ev[i], key, 0);
            cr_expect(!m || !strstr(m, "libovershim"), "%s: frame %d is the shim's", call, k);
            if (m && !strcmp(base_name(m), "hostile") && off - 1 >= thr.lo && off - 1 < thr.hi && in_thread < 0)
                in_thread = k;
            if (in_thread >= 0 && k > in_thread && m && strstr(base_name(m), "libc.so")) libc_after = 1;
        }
        cr_expect_geq(in_thread, 0, "%s: no frame in small_stack_thread [%#llx, %#llx)", call, thr.lo, thr.hi);
        cr_expect(libc_after, "%s: the stack stops in the program, not in libc's thread start", call);
    }
    cr_expect_eq(reports, 3, "mmap, malloc and pthread_create each reported: %d", reports);
    for (int i = 0; i < n; i++) json_free(ev[i]);
    run_free(&r);
    free(dir);
}

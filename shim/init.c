/* Start and end of the shim's life in a process: the constructor (resolve, read
 * OVERSHIM_OPTIONS once, set up the private heap, register atfork handlers), the
 * destructor (return from main), and the fork hand-over of every lock. */
#include <dlfcn.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "elfsym.h"
#include "heap.h"
#include "ledger.h"
#include "objects.h"
#include "options.h"
#include "policy.h"
#include "rawsys.h"
#include "report.h"
#include "resolve.h"
#include "startvec.h"
#include "state.h"
#include "sysstate.h"
#include "tid.h"
#include "timeline.h"
#include "touched.h"
#include "unwind.h"

/* The library is linked without the C start files (-nostartfiles: crtbeginS.o's weak
 * references to _ITM_*, __gmon_start__ and __cxa_finalize cost a failed symbol lookup
 * each at every process start; the constructor and destructor run from .init_array and
 * .fini_array without them). What crtbeginS.o defines that is still used: the handle
 * pthread_atfork passes to __register_atfork. */
void *__dso_handle __attribute__((visibility("hidden"))) = &__dso_handle;


/* Move the locks to a page of their own that a fork child receives zeroed (see
 * state.h). Runs in the constructor before anything takes them. */
OSH_START_TEXT static void fork_page_init(void)
{
    _Static_assert(sizeof(struct osh_forkstate) <= 4096, "one page");
    /* system calls inline (raw_sc): no lazy binding of libc's syscall() at start */
    long r = raw_sc(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void *p = (unsigned long)r > -4096ul ? MAP_FAILED : (void *)r;
    if (p != MAP_FAILED && raw_sc(SYS_madvise, (long)p, 4096, MADV_WIPEONFORK, 0, 0, 0) != 0) { /* before 4.14: keep the static copy */
        raw_munmap(p, 4096);
        p = MAP_FAILED;
    }
    if (p != MAP_FAILED) {
        memcpy(p, &osh_fs_static, sizeof osh_fs_static);
        __atomic_store_n(&osh_fs, (struct osh_forkstate *)p, __ATOMIC_RELEASE);
        osh_st.fork_wiped = 1;
    }
    heap_use_lock(&osh_fs->heap_mu);
}

int fork_init(void);
void malloc_fast_enable(int live);

static void say(const char *msg)
{
    raw_write_all(2, "overshim: ", 10);
    raw_write_all(2, msg, strlen(msg));
    raw_write_all(2, "\n", 1);
}

/* Another object that defines mmap or malloc ahead of the shim (a preload listed
 * before it, like gperftools' tcmalloc with its own mmap hooks, or the program
 * itself) takes those calls: the shim cannot see them. Say so once. Only the objects
 * ahead of the shim in load order (the program and earlier preloads) are asked, each
 * with one hash lookup per name in its own symbol table, in one pass: the usual start
 * looks at the program alone. What a non-PIE program holds for a function whose address
 * it takes (python3, node) is a canonical PLT entry, an undefined symbol that dlsym
 * returns too: not a definition (elf_object_defines), so it is no warning. */
extern const char __ehdr_start __attribute__((visibility("hidden")));
/* The strings start reads are in .data with what it writes (OSH_HOT: a page of .rodata
 * fewer at start); no libc string function either (each was a page and a binding). */
static char shadow_names[][16] OSH_HOT = {"mmap", "mmap64", "munmap", "malloc", "pthread_create"};
static const uint32_t shadow_hashes[] = {ELF_GNU_HASH_LIT("mmap"), ELF_GNU_HASH_LIT("mmap64"), ELF_GNU_HASH_LIT("munmap"),
                                         ELF_GNU_HASH_LIT("malloc"), ELF_GNU_HASH_LIT("pthread_create")};
_Static_assert(sizeof shadow_hashes / sizeof shadow_hashes[0] == sizeof shadow_names / sizeof shadow_names[0], "a hash per name");
static char s_libc[] OSH_HOT = "libc.so", s_vdso[] OSH_HOT = "linux-vdso", s_options[] OSH_HOT = "OVERSHIM_OPTIONS",
            s_tmpdir[] OSH_HOT = "TMPDIR";

OSH_START_TEXT static int starts(const char *s, const char *prefix)
{
    while (*prefix && *s == *prefix) s++, prefix++;
    return !*prefix;
}
struct shadow_scan {
    uintptr_t self;
    const char *by[sizeof shadow_names / sizeof shadow_names[0]];
};

/* One object ahead of the shim: which of the names its own table defines. */
OSH_START_TEXT static void scan_one(struct shadow_scan *s, const char *name, uintptr_t base, const void *dynamic)
{
    const char *file = name;
    for (const char *p = name; *p; p++)
        if (*p == '/') file = p + 1;
    if (starts(file, s_vdso) || starts(file, s_libc)) return;
    const size_t n = sizeof shadow_names / sizeof shadow_names[0];
    const char *names[sizeof shadow_names / sizeof shadow_names[0]];
    for (size_t i = 0; i < n; i++) names[i] = shadow_names[i];
    int def[sizeof shadow_names / sizeof shadow_names[0]];
    if (elf_dynamic_defines_all(base, dynamic, names, shadow_hashes, n, def) != 0) return;
    for (size_t i = 0; i < n; i++)
        if (!s->by[i] && def[i]) s->by[i] = name;
}

static int scan_ahead(struct dl_phdr_info *info, size_t size, void *p)
{
    (void)size;
    struct shadow_scan *s = p;
    if (info->dlpi_addr == s->self) return 1; /* the objects after the shim come second */
    scan_one(s, info->dlpi_name ? info->dlpi_name : "", info->dlpi_addr, elf_phdr_dynamic(info));
    return 0;
}

/* The loader's list where the program leads to it (startvec.h): no dl_iterate_phdr, whose
 * binding and lock cost more at start than the lookups themselves. */
OSH_START_TEXT static void warn_shadowed(void)
{
    struct shadow_scan s = {(uintptr_t)&__ehdr_start, {NULL}};
    const struct link_map *m = startvec_objects();
    if (m) {
        for (; m && m->l_addr != s.self; m = m->l_next) scan_one(&s, m->l_name ? m->l_name : "", m->l_addr, m->l_ld);
    } else {
        dl_iterate_phdr(scan_ahead, &s);
    }
    for (size_t i = 0; i < sizeof shadow_names / sizeof shadow_names[0]; i++) {
        if (!s.by[i]) continue;
        char m[600];
        osh_snprintf(m, sizeof m, "%s is defined by %s ahead of overshim: its calls are not seen (list overshim first in "
                                 "LD_PRELOAD)",
                    shadow_names[i], s.by[i][0] ? s.by[i] : "the program");
        say(m);
    }
}

/* follow_exec=0: take the shim out of LD_PRELOAD (in place, in the environment the
 * program was given), so that the programs it execs run without it. */
OSH_START_TEXT static void forget_preload(void)
{
    extern char **environ;
    struct obj_info self;
    if (!obj_find((void *)forget_preload, &self) || !self.name[0]) return;
    const char *me = strrchr(self.name, '/');
    me = me ? me + 1 : self.name;
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, "LD_PRELOAD=", 11) != 0) continue;
        char *p = *e + 11;
        while (*p) { /* entries are separated by ':' or spaces */
            char *end = p + strcspn(p, ": ");
            char *base = p;
            for (char *q = p; q < end; q++)
                if (*q == '/') base = q + 1;
            if ((size_t)(end - base) == strlen(me) && !strncmp(base, me, strlen(me))) {
                char *next = *end ? end + 1 : end;
                memmove(p, next, strlen(next) + 1);
                continue;
            }
            p = *end ? end + 1 : end;
        }
        size_t n = strlen(*e);
        while (n > 11 && ((*e)[n - 1] == ':' || (*e)[n - 1] == ' ')) (*e)[--n] = 0;
    }
}

/* Bad configuration never takes the host down: one line, then pure pass-through. */
OSH_START_TEXT static void step_aside(const char *what, const char *detail)
{
    char m[600];
    osh_snprintf(m, sizeof m, "%s%s; the shim stays out of the way", what, detail);
    say(m);
}

/* OVERSHIM_OPTIONS and TMPDIR in one pass over the environment, without libc's getenv
 * (start only: one text page and a lazy binding fewer). */
OSH_START_TEXT static const char *env_value(const char *entry, const char *name)
{
    while (*name && *entry == *name) entry++, name++;
    return !*name && *entry == '=' ? entry + 1 : NULL;
}

OSH_START_TEXT static void env_read(const char **options, const char **tmpdir)
{
    extern char **environ;
    *options = *tmpdir = NULL;
    for (char **e = environ; e && *e; e++) {
        const char *v;
        if (**e == 'O' && !*options && (v = env_value(*e, s_options))) *options = v;
        else if (**e == 'T' && !*tmpdir && (v = env_value(*e, s_tmpdir))) *tmpdir = v;
    }
}

/* A required function that no object after the shim defines (resolve_all, on the first
 * call that needs one): the shim steps aside. */
void resolve_failed(const char *name)
{
    __atomic_store_n(&osh_active, 0, __ATOMIC_RELEASE);
    char m[300];
    osh_snprintf(m, sizeof m, "cannot resolve %s; the shim stays out of the way", name);
    say(m);
}

/* Everything that can refuse to start; 0 when the shim may go live. The real functions
 * are found on the first call that needs one (resolve_all), not here. */
OSH_START_TEXT static int start(void)
{
    char err[400];
    raw_std_init();
    if (osh_resolved && resolve_missing()) return -1; /* resolved before the constructor, and said so */
    osh_st.secure = startvec_secure();
    const char *env, *tmpdir;
    env_read(&env, &tmpdir);
    if (osh_st.secure) env = tmpdir = NULL;
    if (env) {
        struct osh_options o;
        options_defaults(&o);
        if (options_parse(&o, env, err, sizeof err) != 0) return step_aside("OVERSHIM_OPTIONS: ", err), -1;
        osh_st.opt = o;
    }
    if (osh_st.secure) { /* as glibc ignores dangerous variables for secure-execution programs */
        strcpy(osh_st.opt.log, "stderr");
        strcpy(osh_st.opt.json, "none");
    }
    if (osh_st.opt.help) {
        size_t cap;
        char *help = raw_scratch(&cap); /* nothing else runs yet: the constructor, on the only thread */
        options_help(help, cap);
        raw_write_all(2, help, strlen(help));
    }
    if (!osh_st.secure) out_set_tmpdir(tmpdir);
    if (!osh_st.secure) out_set_dir(osh_st.opt.dir);
    if (!osh_st.opt.follow_exec) forget_preload();
    fork_page_init();
    struct timespec now; /* raw_now_ns, inline */
    raw_sc(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&now, 0, 0, 0, 0);
    osh_st.start_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
    osh_st.pid = (pid_t)raw_sc(SYS_getpid, 0, 0, 0, 0, 0, 0);
    out_setup(&osh_st.log, osh_st.opt.log);
    out_setup(&osh_st.json, osh_st.opt.json);
    if (policy_init(err, sizeof err) != 0) return step_aside("OVERSHIM_OPTIONS: ", err), -1;
    return 0;
}

/* glibc passes a constructor the program's argc, argv and envp (the auxiliary vector
 * lies after envp). */
__attribute__((constructor(101))) static void overshim_init(int argc, char **argv, char **envp)
{
    (void)argc, (void)argv;
    startvec_init(envp);
    osh_enter();
    if (start() == 0) {
        /* what the ledger charges by (the overcommit mode, the kernel's rules) and the
         * unwinder's view of the shim: on first use; the main thread's record now (its
         * malloc counts live in its TLS, which only this thread can name) */
        ledger_init();
        timeline_init();
        if (fork_init() == 0) {
            ledger_self_main(osh_st.pid); /* the constructor runs on the main thread */
            if (osh_st.opt.verbosity >= 1) warn_shadowed();
            __atomic_store_n(&osh_active, 1, __ATOMIC_RELEASE);
        } else {
            resolve_failed("__register_atfork"); /* no fork hand-over of the locks: not safe to go live */
        }
    }
    __atomic_store_n(&osh_started, 1, __ATOMIC_RELEASE);
    if (!osh_policy) malloc_fast_enable(osh_active); /* when resolved already; else resolve_all does */
    osh_leave();
}

__attribute__((destructor)) static void overshim_fini(void)
{
    if (!osh_active || osh_guard) return;
    osh_enter();
    report_exit("destructor", 0, 0);
    if (OSH_UNLIKELY(osh_timeline)) timeline_exit("destructor", 0, 0);
    osh_leave();
}

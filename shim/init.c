/* Start and end of the shim's life in a process: the constructor (resolve, read
 * OVERSHIM_OPTIONS once, set up the private heap, register atfork handlers), the
 * destructor (return from main), and the fork hand-over of every lock. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/resource.h>

#include "common.h"
#include "elfsym.h"
#include "heap.h"
#include "kmodel.h"
#include "ledger.h"
#include "objects.h"
#include "options.h"
#include "policy.h"
#include "rawsys.h"
#include "report.h"
#include "resolve.h"
#include "rstack.h"
#include "state.h"
#include "sysstate.h"
#include "tid.h"
#include "timeline.h"
#include "touched.h"
#include "unwind.h"


/* Move the locks to a page of their own that a fork child receives zeroed (see
 * state.h). Runs in the constructor before anything takes them. */
static void fork_page_init(void)
{
    _Static_assert(sizeof(struct os_forkstate) <= 4096, "one page");
    void *p = raw_mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED && raw_madvise(p, 4096, MADV_WIPEONFORK) != 0) { /* before 4.14: keep the static copy */
        raw_munmap(p, 4096);
        p = MAP_FAILED;
    }
    if (p != MAP_FAILED) {
        memcpy(p, &os_fs_static, sizeof os_fs_static);
        __atomic_store_n(&os_fs, (struct os_forkstate *)p, __ATOMIC_RELEASE);
        os_st.fork_wiped = 1;
    }
    heap_use_lock(&os_fs->heap_mu);
}

void fork_init(void);
void malloc_fast_enable(int live);

static void say(const char *msg)
{
    raw_write_all(2, "overshim: ", 10);
    raw_write_all(2, msg, strlen(msg));
    raw_write_all(2, "\n", 1);
}

/* Another object that defines mmap or malloc ahead of the shim (a preload listed
 * before it, like gperftools' tcmalloc with its own mmap hooks, or the program
 * itself) takes those calls: the shim cannot see them. Say so once. On the usual path
 * dlsym answers with the shim or libc and nothing more is looked at. What a non-PIE
 * program holds for a function whose address it takes (python3, node) is a canonical
 * PLT entry, an undefined symbol that dlsym returns too: not a definition, so the
 * question goes to the first object that does define the name. */
static void warn_shadowed(void)
{
    static const char *const names[] = {"mmap", "mmap64", "munmap", "malloc", "pthread_create"};
    struct obj_info self, other;
    if (!obj_find((void *)warn_shadowed, &self)) return;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        /* the loaded objects' own symbol tables, as dlsym(RTLD_DEFAULT) would search them:
         * before glibc 2.34 dlsym is libdl's, which a program need not load */
        void *f = elf_next_symbol(names[i], ELFSYM_ANY, NULL);
        if (!f || !obj_find(f, &other) || other.base == self.base) continue;
        if (strstr(other.name, "/libc.so")) continue;
        if (obj_defines(f, names[i]) == 0 &&
            (!obj_next_definition(names[i], NULL, &other) || other.base == self.base || strstr(other.name, "/libc.so")))
            continue;
        char m[600];
        os_snprintf(m, sizeof m, "%s is defined by %s ahead of overshim: its calls are not seen (list overshim first in "
                                 "LD_PRELOAD)",
                    names[i], other.name[0] ? other.name : "the program");
        say(m);
    }
}

/* follow_exec=0: take the shim out of LD_PRELOAD (in place, in the environment the
 * program was given), so that the programs it execs run without it. */
static void forget_preload(void)
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
static void step_aside(const char *what, const char *detail)
{
    char m[600];
    os_snprintf(m, sizeof m, "%s%s; the shim stays out of the way", what, detail);
    say(m);
    malloc_fast_enable(0);
}

/* Everything that can refuse to start; 0 when the shim may go live. */
static int start(void)
{
    char err[400];
    raw_std_init();
    if (resolve_all() != 0) return step_aside("cannot resolve ", resolve_missing()), -1;
    options_defaults(&os_st.opt);
    os_st.secure = getauxval(AT_SECURE) != 0;
    const char *env = os_st.secure ? NULL : getenv("OVERSHIM_OPTIONS");
    if (env) {
        struct os_options o;
        options_defaults(&o);
        if (options_parse(&o, env, err, sizeof err) != 0) return step_aside("OVERSHIM_OPTIONS: ", err), -1;
        os_st.opt = o;
    }
    if (os_st.secure) { /* as glibc ignores dangerous variables for secure-execution programs */
        strcpy(os_st.opt.log, "stderr");
        strcpy(os_st.opt.json, "none");
    }
    if (os_st.opt.help) {
        static char help[8192];
        options_help(help, sizeof help);
        raw_write_all(2, help, strlen(help));
    }
    if (!os_st.secure) out_set_tmpdir(getenv("TMPDIR"));
    if (!os_st.secure) out_set_dir(os_st.opt.dir);
    if (!os_st.opt.follow_exec) forget_preload();
    fork_page_init();
    rstack_init(); /* without it, refusals are counted, not reported */
    tid_init();
    os_st.start_ns = raw_now_ns();
    struct rlimit fs;
    raw_fsize_limited = getrlimit(RLIMIT_FSIZE, &fs) == 0 && fs.rlim_cur != RLIM_INFINITY;
    os_st.pid = raw_getpid();
    sys_kernel_release(os_st.kernel_release, sizeof os_st.kernel_release);
    int64_t mode = sys_read_long("/proc/sys/vm/overcommit_memory");
    os_st.overcommit_mode = mode >= 0 && mode <= 2 ? (int)mode : 0;
    out_setup(&os_st.log, os_st.opt.log);
    out_setup(&os_st.json, os_st.opt.json);
    if (policy_init(err, sizeof err) != 0) return step_aside("OVERSHIM_OPTIONS: ", err), -1;
    return 0;
}

__attribute__((constructor(101))) static void overshim_init(void)
{
    os_enter();
    if (start() == 0) {
        struct kmodel_kernel live; /* the modelled kernel's rules when simulating, else this one's */
        const struct kmodel_kernel *mk = policy_kernel();
        if (!mk && kmodel_parse_release(os_st.kernel_release, &live) == 0) mk = &live;
        ledger_init(policy_mode(os_st.overcommit_mode), mk ? mk->mprotect_uncharge : 1);
        timeline_init();
        unwind_init();
        fork_init();
        ledger_self();
        if (os_st.opt.verbosity >= 1) warn_shadowed();
        __atomic_store_n(&os_active, 1, __ATOMIC_RELEASE);
        if (!os_policy) malloc_fast_enable(1);
    }
    os_leave();
}

__attribute__((destructor)) static void overshim_fini(void)
{
    if (!os_active || os_guard) return;
    os_enter();
    report_exit("destructor", 0, 0);
    if (OS_UNLIKELY(os_timeline)) timeline_exit("destructor", 0, 0);
    os_leave();
}

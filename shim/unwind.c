/* Stack capture (see unwind.h). */
#define UNW_LOCAL_ONLY
#include "unwind.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <libunwind.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "latefn.h"

/* The private libunwind's malloc and free (renamed by shim/libunwind.syms). Its one
 * malloc builds a "/proc/PID/root" path in unw_get_proc_name, which the shim never
 * calls, and takes a failure as "use the path as it is"; the report path allocates
 * nothing. Its mmap and munmap are raw_mmap and raw_munmap. */
void *osh_unw_malloc(size_t n);
void osh_unw_free(void *p);
void *osh_unw_malloc(size_t n)
{
    (void)n;
    return NULL;
}
void osh_unw_free(void *p) { (void)p; }

/* Its pthread mutex calls (renamed by shim/libunwind.syms): libc's, which every glibc
 * from 2.17 on has in libc.so.6 (before 2.34 as forwarders to libpthread's). Its own
 * references are weak and compared with NULL, which made each a symbol lookup at load. */
int osh_unw_mutex_lock(pthread_mutex_t *m);
int osh_unw_mutex_unlock(pthread_mutex_t *m);
int osh_unw_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a);
int osh_unw_mutex_lock(pthread_mutex_t *m) { return pthread_mutex_lock(m); }
int osh_unw_mutex_unlock(pthread_mutex_t *m) { return pthread_mutex_unlock(m); }
int osh_unw_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a) { return pthread_mutex_init(m, a); }

/* Its stat and fstat (glibc 2.33 made them real functions with new symbol versions)
 * are the system calls, whose struct stat is glibc's on x86-64; and its pipe2, the
 * pipe it probes memory with, comes out above fd 2 and close-on-exec: a program that
 * closed its standard descriptors must not find libunwind's pipe in their place. */
int osh_unw_stat(const char *path, struct stat *st);
int osh_unw_fstat(int fd, struct stat *st);
int osh_unw_pipe2(int fds[2], int flags);
int osh_unw_sigprocmask(int how, const sigset_t *set, sigset_t *old);
/* libunwind masks signals around its caches with sigprocmask; glibc's would take
 * SIGCANCEL and SIGSETXID out of the mask the report stack set (rstack.c), so that a
 * pthread_cancel could end a thread holding the report lock. The kernel's, 64 bits. */
int osh_unw_sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
    return (int)syscall(SYS_rt_sigprocmask, how, set, old, 8);
}
int osh_unw_stat(const char *path, struct stat *st) { return (int)syscall(SYS_stat, path, st); }
int osh_unw_fstat(int fd, struct stat *st) { return (int)syscall(SYS_fstat, fd, st); }
int osh_unw_pipe2(int fds[2], int flags)
{
    int r = (int)syscall(SYS_pipe2, fds, flags | O_CLOEXEC);
    if (r != 0) return r;
    for (int i = 0; i < 2; i++) {
        if (fds[i] > 2) continue;
        int high = (int)syscall(SYS_fcntl, fds[i], F_DUPFD_CLOEXEC, 3);
        if (high < 0) {
            syscall(SYS_close, fds[0]);
            syscall(SYS_close, fds[1]);
            return -1;
        }
        syscall(SYS_close, fds[i]);
        fds[i] = high;
    }
    return 0;
}

static uintptr_t self_lo, self_hi;
static char exe_path[512]; /* the main program's dlpi_name is "" */

/* The main program's path, read on the first report that names a frame in it. */
static const char *exe(void)
{
    static int read_done;
    if (!read_done) {
        long n = syscall(SYS_readlink, "/proc/self/exe", exe_path, sizeof exe_path - 1);
        exe_path[n > 0 ? n : 0] = 0;
        read_done = 1;
    }
    return exe_path[0] ? exe_path : NULL;
}

struct lookup {
    uintptr_t ip;
    struct frame *f;
    int found;
};

static int find_module(struct dl_phdr_info *info, size_t size, void *p)
{
    (void)size;
    struct lookup *l = p;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD) continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (l->ip < lo || l->ip >= hi) continue;
        l->found = 1;
        l->f->module = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name : exe();
        l->f->offset = l->ip - info->dlpi_addr;
        for (int j = 0; j < info->dlpi_phnum; j++) {
            const ElfW(Phdr) *nh = &info->dlpi_phdr[j];
            if (nh->p_type != PT_NOTE) continue;
            const uint8_t *n = (const uint8_t *)(info->dlpi_addr + nh->p_vaddr), *end = n + nh->p_memsz;
            while (n + sizeof(ElfW(Nhdr)) <= end) {
                const ElfW(Nhdr) *h = (const ElfW(Nhdr) *)n;
                const uint8_t *name = n + sizeof *h, *desc = name + ((h->n_namesz + 3) & ~3u);
                if (h->n_type == NT_GNU_BUILD_ID && h->n_namesz == 4 && !memcmp(name, "GNU", 4)) {
                    l->f->build_id = desc;
                    l->f->build_id_len = (int)h->n_descsz;
                    break;
                }
                n = desc + ((h->n_descsz + 3) & ~3u);
            }
            if (l->f->build_id) break;
        }
        return 1;
    }
    return 0;
}

/* The shim's own image from its ELF header (the linker's __ehdr_start): no loader
 * lock, no system call, so the first report may come from anywhere. */
extern const ElfW(Ehdr) __ehdr_start __attribute__((visibility("hidden")));

static void self_range_init(void)
{
    if (__atomic_load_n(&self_hi, __ATOMIC_ACQUIRE)) return;
    const ElfW(Ehdr) *eh = &__ehdr_start;
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)((const char *)eh + eh->e_phoff);
    uintptr_t bias = 0, lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0) bias = (uintptr_t)eh - ph[i].p_vaddr;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD) continue;
        uintptr_t a = bias + ph[i].p_vaddr, b = a + ph[i].p_memsz;
        if (a < lo) lo = a;
        if (b > hi) hi = b;
    }
    self_lo = lo;
    __atomic_store_n(&self_hi, hi, __ATOMIC_RELEASE);
}

void unwind_self_range(uintptr_t *lo, uintptr_t *hi)
{
    self_range_init();
    *lo = self_lo;
    *hi = self_hi;
}


int unwind_describe(uintptr_t ip, int signal_frame, struct frame *f)
{
    memset(f, 0, sizeof *f);
    f->ip = ip;
    f->offset = ip;
    f->signal_frame = signal_frame;
    /* a return address points after the call: look up ip - 1 (not for a signal frame's ip) */
    struct lookup l = {signal_frame ? ip : ip - 1, f, 0};
    dl_iterate_phdr(find_module, &l);
    if (l.found) f->offset = ip - (l.ip - f->offset);
    return l.found;
}

int unwind_ips_from(void *context, uintptr_t *out, int max)
{
    unw_cursor_t cur;
    if (unw_init_local(&cur, (unw_context_t *)context) < 0) return 0;
    int k = 0;
    for (int i = 0; k < max && i < max + 32; i++) {
        unw_word_t w = 0;
        if (unw_get_reg(&cur, UNW_REG_IP, &w) < 0 || w == 0) break;
        if ((uintptr_t)w < self_lo || (uintptr_t)w >= self_hi) out[k++] = (uintptr_t)w;
        if (unw_step(&cur) <= 0) break;
    }
    return k;
}

/* The frames above a context saved with unw_getcontext (rstack_run saves the
 * caller's before it moves to the report stack). */
LATE_SLOT(dladdr1);

int unwind_capture_from(void *context, struct frame *out, int max)
{
    if (max > UNWIND_MAX) max = UNWIND_MAX;
    unw_cursor_t cur;
    __typeof__(&dladdr1) da1;
    self_range_init();
    if (unw_init_local(&cur, (unw_context_t *)context) < 0) return 0;
    int k = 0;
    for (int i = 0; k < max && i < max + 32; i++) {
        unw_word_t w = 0;
        if (unw_get_reg(&cur, UNW_REG_IP, &w) < 0 || w == 0) break;
        uintptr_t ip = (uintptr_t)w;
        if (ip < self_lo || ip >= self_hi) { /* the shim's own frames (wrappers, switch, trampoline) are left out */
            struct frame *f = &out[k++];
            int sig = unw_is_signal_frame(&cur) > 0;
            int found = unwind_describe(ip, sig, f);
            uintptr_t at = sig ? ip : ip - 1;
            Dl_info di;
            const ElfW(Sym) *sym = NULL;
            if (found && (da1 = LATE(dladdr1)) && da1((void *)at, &di, (void **)&sym, RTLD_DL_SYMENT) && di.dli_sname &&
                sym && sym->st_size > 0 && at >= (uintptr_t)di.dli_saddr && at < (uintptr_t)di.dli_saddr + sym->st_size) {
                f->symbol = di.dli_sname;
                f->symbol_offset = ip - (uintptr_t)di.dli_saddr;
                f->symbol_from = FRAME_SYM_LOADED;
            }
        }
        if (unw_step(&cur) <= 0) break;
    }
    return k;
}

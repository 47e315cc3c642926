/* The failing call: its name and its arguments decoded (flags as names), for the
 * text report and the JSON event. */
#include <sys/mman.h>

#include "failure.h"
#include "fmt.h"
#include "report_call.h"

static const char *const names[CALL__COUNT] = {
    [CALL_MMAP] = "mmap", [CALL_MMAP64] = "mmap64", [CALL_MUNMAP] = "munmap", [CALL_MREMAP] = "mremap",
    [CALL_MPROTECT] = "mprotect", [CALL_BRK] = "brk", [CALL_SBRK] = "sbrk", [CALL_MALLOC] = "malloc",
    [CALL_CALLOC] = "calloc", [CALL_REALLOC] = "realloc", [CALL_REALLOCARRAY] = "reallocarray",
    [CALL_POSIX_MEMALIGN] = "posix_memalign", [CALL_ALIGNED_ALLOC] = "aligned_alloc", [CALL_MEMALIGN] = "memalign",
    [CALL_VALLOC] = "valloc", [CALL_PVALLOC] = "pvalloc", [CALL_CLONE] = "clone",
    [CALL_PTHREAD_CREATE] = "pthread_create", [CALL_FORK] = "fork", [CALL_POSIX_SPAWN] = "posix_spawn",
    [CALL_POSIX_SPAWNP] = "posix_spawnp", [CALL_FALLOCATE] = "fallocate",
};

const char *call_name(enum call_id id) { return id < CALL__COUNT && names[id] ? names[id] : "?"; }


struct flagname {
    int bit;
    const char *name;
};

static const struct flagname prot_names[] = {
    {PROT_READ, "PROT_READ"}, {PROT_WRITE, "PROT_WRITE"}, {PROT_EXEC, "PROT_EXEC"},
    {PROT_GROWSDOWN, "PROT_GROWSDOWN"}, {PROT_GROWSUP, "PROT_GROWSUP"}, {0, NULL}};

static const struct flagname map_names[] = {
    {MAP_FIXED, "MAP_FIXED"}, {MAP_ANONYMOUS, "MAP_ANONYMOUS"}, {MAP_NORESERVE, "MAP_NORESERVE"},
    {MAP_GROWSDOWN, "MAP_GROWSDOWN"}, {MAP_DENYWRITE, "MAP_DENYWRITE"}, {MAP_EXECUTABLE, "MAP_EXECUTABLE"},
    {MAP_LOCKED, "MAP_LOCKED"}, {MAP_POPULATE, "MAP_POPULATE"}, {MAP_NONBLOCK, "MAP_NONBLOCK"},
    {MAP_STACK, "MAP_STACK"}, {MAP_HUGETLB, "MAP_HUGETLB"}, {MAP_SYNC, "MAP_SYNC"},
    {MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE"}, {MAP_32BIT, "MAP_32BIT"}, {0, NULL}};

static const struct flagname mremap_names[] = {
    {MREMAP_MAYMOVE, "MREMAP_MAYMOVE"}, {MREMAP_FIXED, "MREMAP_FIXED"}, {MREMAP_DONTUNMAP, "MREMAP_DONTUNMAP"},
    {0, NULL}};

static void flags(struct fmtbuf *fb, int v, const struct flagname *t, const char *none)
{
    int first = 1;
    for (; t->name; t++) {
        if (!(v & t->bit)) continue;
        fb_printf(fb, "%s%s", first ? "" : "|", t->name);
        v &= ~t->bit;
        first = 0;
    }
    if (v) fb_printf(fb, "%s0x%x", first ? "" : "|", (unsigned)v);
    else if (first) fb_puts(fb, none);
}

void call_prot(struct fmtbuf *fb, int prot) { flags(fb, prot, prot_names, "PROT_NONE"); }

void call_map_flags(struct fmtbuf *fb, int f)
{
    static const char *type[] = {"0", "MAP_SHARED", "MAP_PRIVATE", "MAP_SHARED_VALIDATE"};
    int t = f & MAP_TYPE;
    fb_puts(fb, t < 4 ? type[t] : "MAP_TYPE?");
    if (f & ~MAP_TYPE) {
        fb_putc(fb, '|');
        flags(fb, f & ~MAP_TYPE, map_names, "");
    }
}

/* Decoded argument list. json=1: a JSON object body; json=0: a C-like list. */
void call_args(struct fmtbuf *fb, const struct failed_call *fc, int json)
{
    const uint64_t *a = fc->a;
    char b1[160], b2[320];
    struct fmtbuf p, f;
    fb_init(&p, b1, sizeof b1, -1);
    fb_init(&f, b2, sizeof b2, -1);
    switch (fc->id) {
    case CALL_MMAP:
    case CALL_MMAP64:
        call_prot(&p, (int)a[2]);
        call_map_flags(&f, (int)a[3]);
        if (json)
            fb_printf(fb, "\"addr\":%llu,\"length\":%llu,\"prot\":%J,\"flags\":%J,\"fd\":%d,\"offset\":%lld",
                      (unsigned long long)a[0], (unsigned long long)a[1], fb_cstr(&p), fb_cstr(&f), (int)a[4],
                      (long long)a[5]);
        else
            fb_printf(fb, "%p, %llu, %s, %s, %d, %lld", (void *)a[0], (unsigned long long)a[1], fb_cstr(&p),
                      fb_cstr(&f), (int)a[4], (long long)a[5]);
        break;
    case CALL_MUNMAP:
        fb_printf(fb, json ? "\"addr\":%llu,\"length\":%llu" : "0x%llx, %llu", (unsigned long long)a[0],
                  (unsigned long long)a[1]);
        break;
    case CALL_MPROTECT:
        call_prot(&p, (int)a[2]);
        if (json)
            fb_printf(fb, "\"addr\":%llu,\"length\":%llu,\"prot\":%J", (unsigned long long)a[0],
                      (unsigned long long)a[1], fb_cstr(&p));
        else
            fb_printf(fb, "%p, %llu, %s", (void *)a[0], (unsigned long long)a[1], fb_cstr(&p));
        break;
    case CALL_MREMAP:
        flags(&f, (int)a[3], mremap_names, "0");
        if (json)
            fb_printf(fb, "\"old_address\":%llu,\"old_size\":%llu,\"new_size\":%llu,\"flags\":%J,\"new_address\":%llu",
                      (unsigned long long)a[0], (unsigned long long)a[1], (unsigned long long)a[2], fb_cstr(&f),
                      (unsigned long long)a[4]);
        else
            fb_printf(fb, "%p, %llu, %llu, %s", (void *)a[0], (unsigned long long)a[1], (unsigned long long)a[2],
                      fb_cstr(&f));
        break;
    case CALL_BRK:
        fb_printf(fb, json ? "\"addr\":%llu,\"old_break\":%llu" : "0x%llx (break was 0x%llx)",
                  (unsigned long long)a[0], (unsigned long long)a[1]);
        break;
    case CALL_SBRK:
        fb_printf(fb, json ? "\"increment\":%lld,\"old_break\":%llu" : "%lld (break at 0x%llx)", (long long)a[0],
                  (unsigned long long)a[1]);
        break;
    case CALL_CALLOC:
    case CALL_REALLOCARRAY:
        fb_printf(fb, json ? "\"nmemb\":%llu,\"size\":%llu" : "%llu, %llu", (unsigned long long)a[0],
                  (unsigned long long)a[1]);
        break;
    case CALL_REALLOC:
        fb_printf(fb, json ? "\"ptr\":%llu,\"size\":%llu" : "0x%llx, %llu", (unsigned long long)a[0],
                  (unsigned long long)a[1]);
        break;
    case CALL_POSIX_MEMALIGN:
    case CALL_ALIGNED_ALLOC:
    case CALL_MEMALIGN:
        fb_printf(fb, json ? "\"alignment\":%llu,\"size\":%llu" : "%llu, %llu", (unsigned long long)a[0],
                  (unsigned long long)a[1]);
        break;
    case CALL_MALLOC:
    case CALL_VALLOC:
    case CALL_PVALLOC:
        fb_printf(fb, json ? "\"size\":%llu" : "%llu", (unsigned long long)a[0]);
        break;
    case CALL_PTHREAD_CREATE:
        fb_printf(fb, json ? "\"attr\":%llu,\"stack_size\":%llu" : "attr 0x%llx, stack %llu bytes",
                  (unsigned long long)a[0], (unsigned long long)a[1]);
        break;
    case CALL_CLONE:
        fb_printf(fb, json ? "\"fn\":%llu,\"stack\":%llu,\"flags\":%llu" : "fn 0x%llx, stack 0x%llx, flags 0x%llx",
                  (unsigned long long)a[0], (unsigned long long)a[1], (unsigned long long)a[2]);
        break;
    case CALL_FALLOCATE: /* a[4]: the bytes of shmem it would allocate; a[5]: made through syscall(2) */
        if (json)
            fb_printf(fb, "\"fd\":%d,\"mode\":%d,\"offset\":%lld,\"length\":%lld,\"charge\":%llu,\"via_syscall\":%s",
                      (int)a[0], (int)a[1], (long long)a[2], (long long)a[3], (unsigned long long)a[4],
                      a[5] ? "true" : "false");
        else
            fb_printf(fb, "%d, %d, %lld, %lld%s", (int)a[0], (int)a[1], (long long)a[2], (long long)a[3],
                      a[5] ? " (through syscall(2))" : "");
        break;
    case CALL_POSIX_SPAWN:
    case CALL_POSIX_SPAWNP:
        if (json) fb_printf(fb, "\"path\":%J", a[0] ? (const char *)a[0] : "");
        else fb_printf(fb, "\"%s\", ...", a[0] ? (const char *)a[0] : "");
        break;
    default:
        break;
    }
}

/* Bytes the call asked for, for the one-line summary. */
uint64_t call_request_bytes(const struct failed_call *fc)
{
    const uint64_t *a = fc->a;
    switch (fc->id) {
    case CALL_MMAP: case CALL_MMAP64: case CALL_MUNMAP: case CALL_MPROTECT: return a[1];
    case CALL_MREMAP: return a[2];
    case CALL_SBRK: return a[0];
    case CALL_BRK: return a[0] > a[1] ? a[0] - a[1] : 0;
    case CALL_MALLOC: case CALL_VALLOC: case CALL_PVALLOC: return a[0];
    case CALL_CALLOC: case CALL_REALLOCARRAY: return a[0] * a[1];
    case CALL_REALLOC: case CALL_POSIX_MEMALIGN: case CALL_ALIGNED_ALLOC: case CALL_MEMALIGN: return a[1];
    case CALL_PTHREAD_CREATE: return a[1];
    case CALL_FALLOCATE: return a[4];
    default: return 0;
    }
}

/* The failing call: its name and its arguments decoded (flags as names), for the
 * text report and the JSON event. */
#include <errno.h>
#include <sys/mman.h>

#include "failure.h"
#include "fmt.h"
#include "report_call.h"

static const char names[CALL__COUNT][24] = { /* arrays, not pointers: no relocation at load */
#define CALL(id, name, args, req, task, err) [CALL_##id] = #name,
#include "calls.def"
#undef CALL
};

static const unsigned char tasks[CALL__COUNT] = {
#define CALL(id, name, args, req, task, err) [CALL_##id] = task,
#include "calls.def"
#undef CALL
};

static const int errnos[CALL__COUNT] = {
#define CALL(id, name, args, req, task, err) [CALL_##id] = err,
#include "calls.def"
#undef CALL
};

const char *call_name(enum call_id id) { return id < CALL__COUNT && names[id][0] ? names[id] : "?"; }
int call_is_task(enum call_id id) { return id < CALL__COUNT && tasks[id]; }
int call_default_errno(enum call_id id) { return id < CALL__COUNT ? errnos[id] : ENOMEM; }


struct flagname {
    int bit;
    char name[24]; /* in the entry, not a pointer: no relocation at load */
};

static const struct flagname prot_names[] = {
    {PROT_READ, "PROT_READ"}, {PROT_WRITE, "PROT_WRITE"}, {PROT_EXEC, "PROT_EXEC"},
    {PROT_GROWSDOWN, "PROT_GROWSDOWN"}, {PROT_GROWSUP, "PROT_GROWSUP"}, {0, ""}};

static const struct flagname map_names[] = {
    {MAP_FIXED, "MAP_FIXED"}, {MAP_ANONYMOUS, "MAP_ANONYMOUS"}, {MAP_NORESERVE, "MAP_NORESERVE"},
    {MAP_GROWSDOWN, "MAP_GROWSDOWN"}, {MAP_DENYWRITE, "MAP_DENYWRITE"}, {MAP_EXECUTABLE, "MAP_EXECUTABLE"},
    {MAP_LOCKED, "MAP_LOCKED"}, {MAP_POPULATE, "MAP_POPULATE"}, {MAP_NONBLOCK, "MAP_NONBLOCK"},
    {MAP_STACK, "MAP_STACK"}, {MAP_HUGETLB, "MAP_HUGETLB"}, {MAP_SYNC, "MAP_SYNC"},
    {MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE"}, {MAP_32BIT, "MAP_32BIT"}, {0, ""}};

static const struct flagname mremap_names[] = {
    {MREMAP_MAYMOVE, "MREMAP_MAYMOVE"}, {MREMAP_FIXED, "MREMAP_FIXED"}, {MREMAP_DONTUNMAP, "MREMAP_DONTUNMAP"},
    {0, ""}};

static void flags(struct fmtbuf *fb, int v, const struct flagname *t, const char *none)
{
    int first = 1;
    for (; t->name[0]; t++) {
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
    static const char type[][24] = {"0", "MAP_SHARED", "MAP_PRIVATE", "MAP_SHARED_VALIDATE"};
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
    char b1[160], b2[320];
    struct fmtbuf p, f;
    fb_init_str(&p, b1, sizeof b1);
    fb_init_str(&f, b2, sizeof b2);
    switch (fc->id) {
    case CALL_MMAP:
    case CALL_MMAP64:
        call_prot(&p, (int)fc->mmap.prot);
        call_map_flags(&f, (int)fc->mmap.flags);
        if (json)
            fb_printf(fb, "\"addr\":%llu,\"length\":%llu,\"prot\":%pJ,\"flags\":%pJ,\"fd\":%d,\"offset\":%lld",
                      (unsigned long long)fc->mmap.addr, (unsigned long long)fc->mmap.length, fb_cstr(&p), fb_cstr(&f),
                      (int)fc->mmap.fd, (long long)fc->mmap.offset);
        else
            fb_printf(fb, "%p, %llu, %s, %s, %d, %lld", (void *)fc->mmap.addr, (unsigned long long)fc->mmap.length,
                      fb_cstr(&p), fb_cstr(&f), (int)fc->mmap.fd, (long long)fc->mmap.offset);
        break;
    case CALL_MUNMAP:
        fb_printf(fb, json ? "\"addr\":%llu,\"length\":%llu" : "0x%llx, %llu", (unsigned long long)fc->munmap.addr,
                  (unsigned long long)fc->munmap.length);
        break;
    case CALL_MPROTECT:
        call_prot(&p, (int)fc->mprotect.prot);
        if (json)
            fb_printf(fb, "\"addr\":%llu,\"length\":%llu,\"prot\":%pJ", (unsigned long long)fc->mprotect.addr,
                      (unsigned long long)fc->mprotect.length, fb_cstr(&p));
        else
            fb_printf(fb, "%p, %llu, %s", (void *)fc->mprotect.addr, (unsigned long long)fc->mprotect.length,
                      fb_cstr(&p));
        break;
    case CALL_MREMAP:
        flags(&f, (int)fc->mremap.flags, mremap_names, "0");
        if (json)
            fb_printf(fb, "\"old_address\":%llu,\"old_size\":%llu,\"new_size\":%llu,\"flags\":%pJ,\"new_address\":%llu",
                      (unsigned long long)fc->mremap.old_address, (unsigned long long)fc->mremap.old_size,
                      (unsigned long long)fc->mremap.new_size, fb_cstr(&f), (unsigned long long)fc->mremap.new_address);
        else
            fb_printf(fb, "%p, %llu, %llu, %s", (void *)fc->mremap.old_address, (unsigned long long)fc->mremap.old_size,
                      (unsigned long long)fc->mremap.new_size, fb_cstr(&f));
        break;
    case CALL_BRK:
        fb_printf(fb, json ? "\"addr\":%llu,\"old_break\":%llu" : "0x%llx (break was 0x%llx)",
                  (unsigned long long)fc->brk.addr, (unsigned long long)fc->brk.old_break);
        break;
    case CALL_SBRK:
        fb_printf(fb, json ? "\"increment\":%lld,\"old_break\":%llu" : "%lld (break at 0x%llx)",
                  (long long)fc->sbrk.increment, (unsigned long long)fc->sbrk.old_break);
        break;
    case CALL_CALLOC:
        fb_printf(fb, json ? "\"nmemb\":%llu,\"size\":%llu" : "%llu, %llu", (unsigned long long)fc->calloc.nmemb,
                  (unsigned long long)fc->calloc.size);
        break;
    case CALL_REALLOCARRAY:
        fb_printf(fb, json ? "\"nmemb\":%llu,\"size\":%llu" : "%llu, %llu",
                  (unsigned long long)fc->reallocarray.nmemb, (unsigned long long)fc->reallocarray.size);
        break;
    case CALL_REALLOC:
        fb_printf(fb, json ? "\"ptr\":%llu,\"size\":%llu" : "0x%llx, %llu", (unsigned long long)fc->realloc.ptr,
                  (unsigned long long)fc->realloc.size);
        break;
    case CALL_POSIX_MEMALIGN:
    case CALL_ALIGNED_ALLOC:
    case CALL_MEMALIGN: /* the three share one record shape */
        fb_printf(fb, json ? "\"alignment\":%llu,\"size\":%llu" : "%llu, %llu",
                  (unsigned long long)fc->memalign.alignment, (unsigned long long)fc->memalign.size);
        break;
    case CALL_MALLOC:
    case CALL_VALLOC:
    case CALL_PVALLOC: /* likewise */
        fb_printf(fb, json ? "\"size\":%llu" : "%llu", (unsigned long long)fc->malloc.size);
        break;
    case CALL_PTHREAD_CREATE:
        fb_printf(fb, json ? "\"attr\":%llu,\"stack_size\":%llu" : "attr 0x%llx, stack %llu bytes",
                  (unsigned long long)fc->pthread_create.attr, (unsigned long long)fc->pthread_create.stack_size);
        break;
    case CALL_CLONE:
        fb_printf(fb, json ? "\"fn\":%llu,\"stack\":%llu,\"flags\":%llu" : "fn 0x%llx, stack 0x%llx, flags 0x%llx",
                  (unsigned long long)fc->clone.fn, (unsigned long long)fc->clone.stack,
                  (unsigned long long)fc->clone.flags);
        break;
    case CALL_FALLOCATE:
        if (json)
            fb_printf(fb, "\"fd\":%d,\"mode\":%d,\"offset\":%lld,\"length\":%lld,\"charge\":%llu,\"via_syscall\":%s",
                      (int)fc->fallocate.fd, (int)fc->fallocate.mode, (long long)fc->fallocate.offset,
                      (long long)fc->fallocate.length, (unsigned long long)fc->fallocate.charge,
                      fc->fallocate.via_syscall ? "true" : "false");
        else
            fb_printf(fb, "%d, %d, %lld, %lld%s", (int)fc->fallocate.fd, (int)fc->fallocate.mode,
                      (long long)fc->fallocate.offset, (long long)fc->fallocate.length,
                      fc->fallocate.via_syscall ? " (through syscall(2))" : "");
        break;
    case CALL_POSIX_SPAWN:
    case CALL_POSIX_SPAWNP: {
        const char *path = (const char *)(uintptr_t)fc->posix_spawn.path;
        if (json) fb_printf(fb, "\"path\":%pJ", path ? path : "");
        else fb_printf(fb, "\"%s\", ...", path ? path : "");
        break;
    }
    default:
        break;
    }
}

/* Bytes the call asked for (calls.def), for the one-line summary. */
uint64_t call_request_bytes(const struct failed_call *fc)
{
    switch (fc->id) {
#define CALL(id, name, args, req, task, err)     \
    case CALL_##id: {                            \
        const struct call_args_##name c = fc->name; \
        (void)c;                                 \
        return (req);                            \
    }
#include "calls.def"
#undef CALL
    default: return 0;
    }
}

/* Frame names from the modules' files (see symtab.h). */
#include "symtab.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>

#include <sys/mman.h>

#include "rawsys.h"

#define SYMTAB_MAX_FRAMES 1024
#define SYMTAB_MAX_SECTIONS 128
#define SYMTAB_NAME_MAX 512
#define CHUNK 1024 /* symbols a read: 24 KiB */

/* The work area, mapped for one call and given back at its end (the shim keeps no
 * buffer of this size for the program's whole life); no mapping, no names. */
struct work {
    ElfW(Shdr) sh[SYMTAB_MAX_SECTIONS];
    ElfW(Sym) chunk[CHUNK];
    int order[SYMTAB_MAX_FRAMES];
    struct bestsym {
        uint64_t value, size;
        uint32_t name;
        int found, global;
    } best[SYMTAB_MAX_FRAMES];
    unsigned char done[SYMTAB_MAX_FRAMES];
};
static struct work *w;
#define sh (w->sh)
#define chunk (w->chunk)
#define order (w->order)
#define best (w->best)
static char *pool;
static size_t pool_used, pool_cap;

static uintptr_t at_of(const struct frame *f) { return f->signal_frame ? f->offset : f->offset - 1; }

/* 1 when the file's build-id is the loaded one (or either has none to compare) */
static int same_build(int fd, int nsec, const struct frame *f)
{
    if (!f->build_id_len) return 1;
    for (int i = 0; i < nsec; i++) {
        if (sh[i].sh_type != SHT_NOTE || sh[i].sh_size > 1024) continue;
        unsigned char n[1024];
        if (raw_pread(fd, n, sh[i].sh_size, (off_t)sh[i].sh_offset) != (ssize_t)sh[i].sh_size) continue;
        size_t at = 0;
        while (at + sizeof(ElfW(Nhdr)) <= sh[i].sh_size) {
            ElfW(Nhdr) h;
            memcpy(&h, n + at, sizeof h);
            size_t name = at + sizeof h, desc = name + ((h.n_namesz + 3) & ~3u);
            if (desc + h.n_descsz > sh[i].sh_size) break;
            if (h.n_type == NT_GNU_BUILD_ID && h.n_namesz == 4 && !memcmp(n + name, "GNU", 4))
                return (int)h.n_descsz == f->build_id_len && !memcmp(n + desc, f->build_id, h.n_descsz);
            at = desc + ((h.n_descsz + 3) & ~3u);
        }
    }
    return 1;
}

/* The first sorted frame whose address is >= a */
static int first_at_or_after(const struct frame *fr, int n, uint64_t a)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (at_of(&fr[order[mid]]) < a) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Name the n frames order[0..n) (sorted by address) of one module. */
static int name_module(struct frame *fr, int n)
{
    const struct frame *f0 = &fr[order[0]];
    int fd = raw_open(f0->module, O_RDONLY, 0);
    if (fd < 0) return 0;
    int named = 0;
    ElfW(Ehdr) eh;
    if (raw_pread(fd, &eh, sizeof eh, 0) != sizeof eh || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(ElfW(Shdr)) || eh.e_shnum == 0 ||
        eh.e_shnum > SYMTAB_MAX_SECTIONS)
        goto out;
    size_t shbytes = (size_t)eh.e_shnum * sizeof(ElfW(Shdr));
    if (raw_pread(fd, sh, shbytes, (off_t)eh.e_shoff) != (ssize_t)shbytes) goto out;
    if (!same_build(fd, eh.e_shnum, f0)) goto out;
    int tab = -1;
    for (int i = 0; i < eh.e_shnum; i++)
        if (sh[i].sh_type == SHT_SYMTAB) tab = i;
    for (int i = 0; tab < 0 && i < eh.e_shnum; i++)
        if (sh[i].sh_type == SHT_DYNSYM) tab = i;
    if (tab < 0 || sh[tab].sh_entsize != sizeof(ElfW(Sym)) || sh[tab].sh_link >= eh.e_shnum) goto out;
    const ElfW(Shdr) *st = &sh[tab], *str = &sh[st->sh_link];
    for (int i = 0; i < n; i++) best[i].found = 0;
    uint64_t nsym = st->sh_size / sizeof(ElfW(Sym));
    for (uint64_t done = 0; done < nsym;) {
        size_t want = nsym - done < CHUNK ? (size_t)(nsym - done) : CHUNK;
        ssize_t got = raw_pread(fd, chunk, want * sizeof(ElfW(Sym)), (off_t)(st->sh_offset + done * sizeof(ElfW(Sym))));
        if (got <= 0) break;
        size_t k = (size_t)got / sizeof(ElfW(Sym));
        for (size_t i = 0; i < k; i++) {
            const ElfW(Sym) *s = &chunk[i];
            int type = ELF64_ST_TYPE(s->st_info);
            if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s->st_shndx == SHN_UNDEF || s->st_size == 0) continue;
            int global = ELF64_ST_BIND(s->st_info) != STB_LOCAL;
            for (int j = first_at_or_after(fr, n, s->st_value);
                 j < n && at_of(&fr[order[j]]) < s->st_value + s->st_size; j++) {
                struct bestsym *b = &best[j];
                if (b->found && (b->global || !global)) continue; /* an alias: the first global name */
                *b = (struct bestsym){s->st_value, s->st_size, s->st_name, 1, global};
            }
        }
        done += k;
    }
    for (int j = 0; j < n; j++) {
        struct frame *f = &fr[order[j]];
        if (!best[j].found || best[j].name >= str->sh_size) continue;
        if (j > 0 && best[j - 1].found && best[j - 1].value == best[j].value && fr[order[j - 1]].symbol) {
            f->symbol = fr[order[j - 1]].symbol; /* the same function: one copy of its name */
        } else {
            size_t room = pool_cap - pool_used;
            if (room > SYMTAB_NAME_MAX) room = SYMTAB_NAME_MAX;
            if (room < 16) break; /* the pool is full: the rest stay module + offset */
            ssize_t got = raw_pread(fd, pool + pool_used, room, (off_t)(str->sh_offset + best[j].name));
            if (got <= 0) continue;
            char *nul = memchr(pool + pool_used, 0, (size_t)got);
            if (!nul) { /* longer than a name may be here: cut */
                nul = pool + pool_used + got - 1;
                *nul = 0;
            }
            f->symbol = pool + pool_used;
            pool_used += (size_t)(nul - (pool + pool_used)) + 1;
        }
        f->symbol_offset = f->offset - best[j].value;
        f->symbol_from = st->sh_type == SHT_SYMTAB ? FRAME_SYM_SYMTAB : FRAME_SYM_DYNSYM;
        named++;
    }
out:
    raw_close(fd);
    return named;
}

int symtab_name_frames(struct frame *fr, int nf, char *names, size_t cap)
{
    pool = names;
    pool_cap = cap;
    pool_used = 0;
    if (nf > SYMTAB_MAX_FRAMES) nf = SYMTAB_MAX_FRAMES;
    if (nf <= 0) return 0;
    void *m = raw_mmap(NULL, sizeof *w, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return 0; /* memory too short: module + offset only */
    w = m;
    unsigned char *done = w->done;
    for (int i = 0; i < nf; i++) done[i] = !fr[i].module || fr[i].symbol || !fr[i].module[0];
    int named = 0;
    for (int i = 0; i < nf; i++) {
        if (done[i]) continue;
        int n = 0;
        for (int j = i; j < nf; j++) {
            if (done[j] || (fr[j].module != fr[i].module && strcmp(fr[j].module, fr[i].module))) continue;
            done[j] = 1;
            /* insertion by address */
            int k = n++;
            while (k > 0 && at_of(&fr[order[k - 1]]) > at_of(&fr[j])) {
                order[k] = order[k - 1];
                k--;
            }
            order[k] = j;
        }
        named += name_module(fr, n);
    }
    raw_munmap(w, sizeof *w);
    w = NULL;
    return named;
}


/* Symbol lookup in the loaded objects' dynamic symbol tables (see elfsym.h): what
 * dlsym(RTLD_NEXT, name) answers for the names the shim interposes, without dlsym.
 * Before glibc 2.34 dlsym allocates (its error buffer, with calloc), and a program
 * whose allocator is preloaded ahead of the shim (jemalloc) then deadlocks at start:
 * jemalloc's init holds its lock and maps memory, the shim's mmap looks up the real
 * mmap, dlsym's calloc waits for jemalloc's lock. This lookup allocates nothing,
 * takes no lock of the shim's, and needs no libdl. */
#include "elfsym.h"

#include <elf.h>
#include <link.h>
#include <string.h>

struct query {
    const char *name;
    uint32_t gnu_hash; /* the SysV hash is computed only for an object without a GNU one */
    uintptr_t after; /* unused in a query of one object */
    int started;
    void *found;
    int ifunc; /* the definition is an IFUNC: its resolver must be run (dlsym does) */
    int any;   /* any definition the loader would bind to, whatever its type and version */
};

uint32_t elf_gnu_hash(const char *s)
{
    uint32_t h = 5381;
    for (; *s; s++) h = h * 33 + (uint8_t)*s;
    return h;
}

static uint32_t sysv_hash(const char *s)
{
    uint32_t h = 0;
    for (; *s; s++) {
        h = (h << 4) + (uint8_t)*s;
        uint32_t g = h & 0xf0000000u;
        if (g) h ^= g >> 24;
        h &= ~g;
    }
    return h;
}

struct dyn {
    uintptr_t base;
    const ElfW(Sym) *symtab;
    const char *strtab;
    const uint32_t *gnu, *sysv;
    const ElfW(Half) *versym;
};

/* The loader relocates these entries in place for most objects, not for the vDSO:
 * a value below the load base is still an offset. */
static uintptr_t dyn_ptr(uintptr_t base, ElfW(Addr) v) { return v < base ? base + v : v; }

const void *elf_phdr_dynamic(const struct dl_phdr_info *info)
{
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC) return (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    return NULL;
}

/* What a lookup reads of an object's dynamic section. any: a lookup of any definition
 * (usable()), which needs no versions: the walk stops once it has the GNU hash table, the
 * symbols and their names (the version table, when there is one, comes after them). */
__attribute__((section(".text.startup"))) static int read_dynamic(uintptr_t base, const ElfW(Dyn) *dyn, struct dyn *d, int any)
{
    memset(d, 0, sizeof *d);
    d->base = base;
    if (!dyn) return -1;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        switch (dyn->d_tag) {
        case DT_SYMTAB: d->symtab = (const ElfW(Sym) *)dyn_ptr(d->base, dyn->d_un.d_ptr); break;
        case DT_STRTAB: d->strtab = (const char *)dyn_ptr(d->base, dyn->d_un.d_ptr); break;
        case DT_GNU_HASH: d->gnu = (const uint32_t *)dyn_ptr(d->base, dyn->d_un.d_ptr); break;
        case DT_HASH: d->sysv = (const uint32_t *)dyn_ptr(d->base, dyn->d_un.d_ptr); break;
        case DT_VERSYM: d->versym = (const ElfW(Half) *)dyn_ptr(d->base, dyn->d_un.d_ptr); break;
        default: continue;
        }
        if (any && d->gnu && d->symtab && d->strtab) break;
    }
    return d->symtab && d->strtab && (d->gnu || d->sysv) ? 0 : -1;
}

/* strcmp == 0 without libc's (a lazy binding at process start) */
static int same(const char *a, const char *b)
{
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

/* A definition dlsym would return: defined, a function, global or weak, and its
 * default version (a hidden version is an old compatibility one, not the default). */
__attribute__((section(".text.startup"))) static int usable(const struct dyn *d, uint32_t ix, const char *name, struct query *q)
{
    const ElfW(Sym) *s = &d->symtab[ix];
    int type = ELF64_ST_TYPE(s->st_info), bind = ELF64_ST_BIND(s->st_info);
    if (q->any) { /* not SHN_UNDEF: a non-PIE program's canonical PLT entry is an undefined symbol with a value */
        if (s->st_shndx == SHN_UNDEF || (bind != STB_GLOBAL && bind != STB_WEAK)) return 0;
        if (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_OBJECT && type != STT_NOTYPE) return 0;
        if (!same(d->strtab + s->st_name, name)) return 0;
        q->found = (void *)(d->base + s->st_value);
        return 1;
    }
    if (s->st_shndx == SHN_UNDEF || s->st_value == 0) return 0;
    if (type != STT_FUNC && type != STT_GNU_IFUNC) return 0;
    if (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE) return 0;
    if (d->versym && ((d->versym[ix] & 0x8000) || d->versym[ix] == 0)) return 0;
    if (!same(d->strtab + s->st_name, name)) return 0;
    q->found = (void *)(d->base + s->st_value);
    q->ifunc = type == STT_GNU_IFUNC;
    return 1;
}

__attribute__((section(".text.startup"))) static int find_gnu(const struct dyn *d, struct query *q)
{
    const uint32_t *g = d->gnu;
    uint32_t nbuckets = g[0], symoffset = g[1], bloom_size = g[2], bloom_shift = g[3];
    if (!nbuckets || !bloom_size) return 0;
    const ElfW(Addr) *bloom = (const ElfW(Addr) *)&g[4];
    const uint32_t *buckets = (const uint32_t *)&bloom[bloom_size];
    const uint32_t *chain = &buckets[nbuckets];
    const unsigned bits = sizeof(ElfW(Addr)) * 8;
    uint32_t h = q->gnu_hash;
    ElfW(Addr) word = bloom[(h / bits) % bloom_size];
    ElfW(Addr) mask = ((ElfW(Addr))1 << (h % bits)) | ((ElfW(Addr))1 << ((h >> bloom_shift) % bits));
    if ((word & mask) != mask) return 0;
    uint32_t ix = buckets[h % nbuckets];
    if (ix < symoffset) return 0;
    for (;; ix++) {
        uint32_t h2 = chain[ix - symoffset];
        if ((h | 1) == (h2 | 1) && usable(d, ix, q->name, q)) return 1;
        if (h2 & 1) return 0;
    }
}

static int find_sysv(const struct dyn *d, struct query *q)
{
    const uint32_t *h = d->sysv;
    uint32_t nbucket = h[0];
    if (!nbucket) return 0;
    const uint32_t *bucket = &h[2], *chain = &bucket[nbucket];
    for (uint32_t ix = bucket[sysv_hash(q->name) % nbucket]; ix; ix = chain[ix])
        if (usable(d, ix, q->name, q)) return 1;
    return 0;
}

__attribute__((section(".text.startup"))) int elf_dynamic_defines_all(uintptr_t base, const void *dynamic, const char *const *names,
                                                                        const uint32_t *hashes, size_t n, int *out)
{
    struct dyn d;
    if (read_dynamic(base, dynamic, &d, 1) != 0) return -1;
    for (size_t i = 0; i < n; i++) {
        struct query q = {names[i], hashes ? hashes[i] : elf_gnu_hash(names[i]), 0, 1, NULL, 0, 1};
        out[i] = d.gnu ? find_gnu(&d, &q) : find_sysv(&d, &q);
    }
    return 0;
}

int elf_object_defines_all(const struct dl_phdr_info *info, const char *const *names, size_t n, int *out)
{
    return elf_dynamic_defines_all(info->dlpi_addr, elf_phdr_dynamic(info), names, NULL, n, out);
}

__attribute__((section(".text.startup"))) void *elf_dynamic_function(uintptr_t base, const void *dynamic, const char *name, uint32_t hash)
{
    struct dyn d;
    if (read_dynamic(base, dynamic, &d, 0) != 0) return NULL;
    struct query q = {name, hash, 0, 1, NULL, 0, 0};
    int hit = d.gnu ? find_gnu(&d, &q) : find_sysv(&d, &q);
    return hit && !q.ifunc ? q.found : NULL;
}

int elf_object_defines(const struct dl_phdr_info *info, const char *name)
{
    int r;
    return elf_object_defines_all(info, &name, 1, &r) == 0 ? r : -1;
}

/* One pass over the objects for a whole table of names (process start pays for
 * each dl_iterate_phdr: it takes the loader lock and walks every object). */
struct batch {
    const char *const *names;
    const uint32_t *hashes; /* each name's GNU hash, computed once for every object */
    void **out;
    int *ifunc;
    size_t n, left;
    uintptr_t after;
    int started;
};

static int visit(struct dl_phdr_info *info, size_t size, void *p)
{
    (void)size;
    struct batch *b = p;
    if (!b->started) {
        if (info->dlpi_addr == b->after) b->started = 1;
        return 0;
    }
    if (info->dlpi_name && strstr(info->dlpi_name, "linux-vdso")) return 0;
    struct dyn d;
    if (read_dynamic(info->dlpi_addr, elf_phdr_dynamic(info), &d, 0) != 0) return 0;
    for (size_t i = 0; i < b->n; i++) {
        if (b->out[i]) continue;
        struct query q = {b->names[i], b->hashes[i], 0, 1, NULL, 0, 0};
        if (d.gnu ? find_gnu(&d, &q) : find_sysv(&d, &q)) {
            b->out[i] = q.found;
            if (b->ifunc) b->ifunc[i] = q.ifunc;
            b->left--;
        }
    }
    return b->left == 0;
}

void elf_next_symbols(const char *const *names, size_t n, uintptr_t after_base, void **out, int *ifunc)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = NULL;
        if (ifunc) ifunc[i] = 0;
    }
    uint32_t hashes[n ? n : 1];
    for (size_t i = 0; i < n; i++) hashes[i] = elf_gnu_hash(names[i]);
    struct batch b = {names, hashes, out, ifunc, n, n, after_base, after_base == ELFSYM_ANY};
    dl_iterate_phdr(visit, &b);
}

void *elf_next_symbol(const char *name, uintptr_t after_base, int *ifunc)
{
    void *out;
    int f;
    elf_next_symbols(&name, 1, after_base, &out, &f);
    if (ifunc) *ifunc = f;
    return out;
}

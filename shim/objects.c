/* obj_find: one pass over the loaded objects' PT_LOAD segments (dl_iterate_phdr);
 * obj_defines and obj_first_definition: a hash lookup in their dynamic symbol tables. */
#include <elf.h>
#include <link.h>
#include <string.h>

#include "objects.h"

struct search {
    uintptr_t addr;
    struct obj_info *out;
    int found;
};

static int visit(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct search *s = data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD) continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (s->addr >= lo && s->addr - lo < ph->p_memsz) {
            s->out->base = info->dlpi_addr;
            s->out->name = info->dlpi_name ? info->dlpi_name : "";
            s->found = 1;
            return 1;
        }
    }
    return 0;
}

int obj_find(const void *addr, struct obj_info *out)
{
    struct search s = {(uintptr_t)addr, out, 0};
    dl_iterate_phdr(visit, &s);
    return s.found;
}

/* --- symbol definitions, from an object's own hash table --------------------- */

/* d_ptr values of the dynamic section: ld.so rewrites them to addresses for the
 * objects it relocates, not for a read-only dynamic section (the vDSO's). */
static const void *dyn_ptr(const struct dl_phdr_info *info, ElfW(Addr) v)
{
    return (const void *)(v < info->dlpi_addr ? v + info->dlpi_addr : v);
}

static uint32_t gnu_hash(const char *s)
{
    uint32_t h = 5381;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) h = h * 33 + *p;
    return h;
}

static uint32_t sysv_hash(const char *s)
{
    uint32_t h = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h = (h << 4) + *p;
        uint32_t g = h & 0xf0000000u;
        if (g) h ^= g >> 24;
        h &= ~g;
    }
    return h;
}

/* A definition the loader would bind a reference to: not SHN_UNDEF. A non-PIE
 * program that takes a function's address (python3, node on Debian) carries an
 * undefined symbol whose value is its PLT slot (a canonical PLT entry, so that the
 * address compares equal everywhere); ld.so lets it satisfy lookups, which is why
 * dlsym(RTLD_DEFAULT) returns it, but the calls themselves go to the real definition. */
static int is_definition(const ElfW(Sym) *s)
{
    int bind = s->st_info >> 4, type = s->st_info & 0xf;
    return s->st_shndx != SHN_UNDEF && (bind == STB_GLOBAL || bind == STB_WEAK) &&
           (type == STT_FUNC || type == STT_GNU_IFUNC || type == STT_OBJECT || type == STT_NOTYPE);
}

/* 1 when the object defines name, 0 when its dynamic symbol table has no definition of
 * it (absent, or only an undefined symbol), -1 when the table cannot be read. One hash
 * lookup (DT_GNU_HASH, else DT_HASH), never a walk over every symbol. */
static int defines(const struct dl_phdr_info *info, const char *name)
{
    const ElfW(Dyn) *dyn = NULL;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    if (!dyn) return -1;
    const ElfW(Sym) *sym = NULL;
    const char *str = NULL;
    const uint32_t *gnu = NULL, *sysv = NULL;
    for (const ElfW(Dyn) *d = dyn; d->d_tag != DT_NULL; d++) {
        if (d->d_tag == DT_SYMTAB) sym = dyn_ptr(info, d->d_un.d_ptr);
        else if (d->d_tag == DT_STRTAB) str = dyn_ptr(info, d->d_un.d_ptr);
        else if (d->d_tag == DT_GNU_HASH) gnu = dyn_ptr(info, d->d_un.d_ptr);
        else if (d->d_tag == DT_HASH) sysv = dyn_ptr(info, d->d_un.d_ptr);
    }
    if (!sym || !str || (!gnu && !sysv)) return -1;
    if (gnu) { /* nbuckets, symoffset, bloom words, bloom shift; bloom; buckets; chain */
        uint32_t nb = gnu[0], off = gnu[1], nbloom = gnu[2], shift = gnu[3];
        if (!nb || !nbloom) return 0;
        const ElfW(Addr) *bloom = (const ElfW(Addr) *)(gnu + 4);
        const uint32_t *buckets = (const uint32_t *)(bloom + nbloom), *chain = buckets + nb;
        const unsigned bits = sizeof(ElfW(Addr)) * 8;
        uint32_t h = gnu_hash(name);
        ElfW(Addr) word = bloom[(h / bits) % nbloom];
        ElfW(Addr) mask = ((ElfW(Addr))1 << (h % bits)) | ((ElfW(Addr))1 << ((h >> shift) % bits));
        if ((word & mask) != mask) return 0;
        uint32_t i = buckets[h % nb];
        if (i < off) return 0;
        for (;; i++) {
            uint32_t ch = chain[i - off];
            if ((ch | 1) == (h | 1) && !strcmp(str + sym[i].st_name, name) && is_definition(&sym[i])) return 1;
            if (ch & 1) return 0;
        }
    }
    uint32_t nb = sysv[0];
    if (!nb) return 0;
    const uint32_t *buckets = sysv + 2, *chain = buckets + nb;
    for (uint32_t i = buckets[sysv_hash(name) % nb]; i; i = chain[i])
        if (!strcmp(str + sym[i].st_name, name) && is_definition(&sym[i])) return 1;
    return 0;
}

struct def_search {
    const char *name;
    uintptr_t addr;     /* obj_defines: the object that holds addr */
    uintptr_t after;    /* obj_next_definition: skip objects up to the one loaded at this bias */
    int skipping;
    struct obj_info *out;
    int result;
};

static int visit_def(struct dl_phdr_info *info, size_t size, void *data)
{
    struct def_search *s = data;
    if (s->addr) {
        struct search in = {s->addr, s->out, 0};
        if (!visit(info, size, &in)) return 0;
        s->result = defines(info, s->name);
        return 1;
    }
    if (s->skipping) {
        if (info->dlpi_addr == s->after) s->skipping = 0;
        return 0;
    }
    int d = defines(info, s->name);
    if (d == 0) return 0;
    s->out->base = info->dlpi_addr;
    s->out->name = info->dlpi_name ? info->dlpi_name : "";
    s->result = d;
    return 1;
}

int obj_defines(const void *addr, const char *name)
{
    struct obj_info o;
    struct def_search s = {name, (uintptr_t)addr, 0, 0, &o, -1};
    dl_iterate_phdr(visit_def, &s);
    return s.result;
}

int obj_next_definition(const char *name, const struct obj_info *after, struct obj_info *out)
{
    struct def_search s = {name, 0, after ? after->base : 0, after != NULL, out, 0};
    dl_iterate_phdr(visit_def, &s);
    return s.result;
}

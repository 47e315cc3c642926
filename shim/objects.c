/* obj_find: one pass over the loaded objects' PT_LOAD segments (dl_iterate_phdr);
 * obj_defines and obj_first_definition: a hash lookup in their dynamic symbol tables. */
#include <elf.h>
#include <link.h>
#include <string.h>

#include "elfsym.h"
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

/* A definition the loader would bind a reference to (elfsym.c): a non-PIE program
 * that takes a function's address (python3, node on Debian) carries an undefined
 * symbol whose value is its PLT slot (a canonical PLT entry, so that the address
 * compares equal everywhere); ld.so lets it satisfy lookups, which is why
 * dlsym(RTLD_DEFAULT) returns it, but the calls themselves go to the real definition. */
static int defines(const struct dl_phdr_info *info, const char *name) { return elf_object_defines(info, name); }

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

/* obj_find: one pass over the loaded objects' PT_LOAD segments (dl_iterate_phdr). */
#include <link.h>

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

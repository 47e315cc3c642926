/* The auxiliary vector and the loader's object list at process start (startvec.h). */
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stddef.h>

#include "compiler.h"
#include "elfsym.h"
#include "rawsys.h"
#include "startvec.h"

#define AUX_MAX 64 /* Linux passes about 25 entries; AT_* types are below 64 */

static const ElfW(auxv_t) *aux OSH_HOT;
static ElfW(auxv_t) aux_copy[AUX_MAX]; /* /proc/self/auxv, when the stack has none */
/* What start asks for, taken in the one pass that checks the vector (and kept: the
 * stack's copy may be overwritten later) */
static struct {
    unsigned long secure, phdr, phnum, phent, vdso;
    int secure_known;
} av OSH_HOT;

/* An auxiliary vector (small types up to AT_NULL, the page size among them): its
 * entries taken into av; 0 when it is not one. */
OSH_START_TEXT static int take(const ElfW(auxv_t) *v, size_t max)
{
    int page = 0;
    for (size_t i = 0; i < max; i++) {
        unsigned long t = v[i].a_type, x = v[i].a_un.a_val;
        if (t == AT_NULL) return page;
        if (t >= AUX_MAX) return 0;
        switch (t) {
        case AT_PAGESZ: page = x != 0 && (x & (x - 1)) == 0; break;
        case AT_SECURE: av.secure = x, av.secure_known = 1; break;
        case AT_PHDR: av.phdr = x; break;
        case AT_PHNUM: av.phnum = x; break;
        case AT_PHENT: av.phent = x; break;
        case AT_SYSINFO_EHDR: av.vdso = x; break;
        default: break;
        }
    }
    return 0;
}

OSH_START_TEXT void startvec_init(char **envp)
{
    if (envp) {
        char **e = envp;
        while (*e) e++;
        const ElfW(auxv_t) *v = (const ElfW(auxv_t) *)(e + 1);
        if (take(v, AUX_MAX)) aux = v;
    }
    if (!aux) {
        __builtin_memset(&av, 0, sizeof av);
        int fd = raw_open("/proc/self/auxv", O_RDONLY, 0);
        if (fd >= 0) {
            ssize_t n = raw_read(fd, aux_copy, sizeof aux_copy - sizeof aux_copy[0]); /* the last entry stays AT_NULL */
            raw_close(fd);
            if (n > 0 && take(aux_copy, AUX_MAX)) aux = aux_copy;
        }
        if (!aux) __builtin_memset(&av, 0, sizeof av);
    }
}

OSH_START_TEXT int startvec_secure(void) { return av.secure_known ? av.secure != 0 : 1; }

void *startvec_vdso_function(const char *name, uint32_t hash)
{
    uintptr_t vdso_ehdr = av.vdso;
    const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)vdso_ehdr;
    if (!eh || eh->e_phentsize != sizeof(ElfW(Phdr))) return NULL;
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)(vdso_ehdr + eh->e_phoff);
    uintptr_t bias = 0;
    const ElfW(Phdr) *dynamic = NULL;
    int have_load = 0;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && !have_load) bias = vdso_ehdr + ph[i].p_offset - ph[i].p_vaddr, have_load = 1;
        if (ph[i].p_type == PT_DYNAMIC) dynamic = &ph[i];
    }
    if (!have_load || !dynamic) return NULL;
    return elf_dynamic_function(bias, (const void *)(bias + dynamic->p_vaddr), name, hash);
}

static const struct link_map *objects OSH_HOT;
static int objects_read OSH_HOT;

OSH_START_TEXT static const struct link_map *find_objects(void)
{
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)av.phdr;
    unsigned long phnum = av.phnum;
    if (!ph || !phnum || av.phent != sizeof *ph) return NULL;
    uintptr_t bias = 0;
    int have_phdr = 0;
    const ElfW(Phdr) *dynamic = NULL;
    for (unsigned long i = 0; i < phnum; i++) {
        if (ph[i].p_type == PT_PHDR) bias = (uintptr_t)ph - ph[i].p_vaddr, have_phdr = 1;
        if (ph[i].p_type == PT_DYNAMIC) dynamic = &ph[i];
    }
    if (!have_phdr || !dynamic) return NULL; /* the loader's own rules for the bias: not guessed here */
    const ElfW(Dyn) *dyn = (const ElfW(Dyn) *)(bias + dynamic->p_vaddr);
    for (const ElfW(Dyn) *d = dyn; d->d_tag != DT_NULL; d++) {
        if (d->d_tag != DT_DEBUG) continue;
        const struct r_debug *r = (const struct r_debug *)d->d_un.d_ptr;
        /* the loader fills it in before any constructor runs; its first object is the program */
        if (!r || r->r_version < 1 || !r->r_map || r->r_map->l_ld != dyn) return NULL;
        return r->r_map;
    }
    return NULL;
}

OSH_START_TEXT const struct link_map *startvec_objects(void)
{
    if (!objects_read) objects = find_objects(), objects_read = 1;
    return objects;
}

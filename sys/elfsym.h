/* dlsym(RTLD_NEXT, name) without dlsym (elfsym.c): no allocation, no libdl. */
#ifndef OVERSHIM_ELFSYM_H
#define OVERSHIM_ELFSYM_H

#include <stdint.h>

/* The first default-version function definition of name in the objects loaded
 * after the one whose load base is after_base (the shim), in load order; NULL when
 * none. *ifunc (when not NULL) is set when it is an IFUNC: the address is then its
 * resolver's, and the caller must ask dlsym instead. */
void *elf_next_symbol(const char *name, uintptr_t after_base, int *ifunc);
/* The same for n names in one pass over the objects: out[i] (and ifunc[i] when
 * ifunc is not NULL) for names[i]. */
#include <stddef.h>
void elf_next_symbols(const char *const *names, size_t n, uintptr_t after_base, void **out, int *ifunc);
/* 1 when the object's dynamic symbol table defines name (any definition the loader
 * would bind a reference to: a canonical PLT entry, an undefined symbol with a value,
 * is none), 0 when not, -1 when the table cannot be read. One hash lookup. */
struct dl_phdr_info;
int elf_object_defines(const struct dl_phdr_info *info, const char *name);
/* The same for n names, one reading of the object's dynamic section: out[i] is 1 or 0;
 * returns 0, or -1 when the table cannot be read. */
int elf_object_defines_all(const struct dl_phdr_info *info, const char *const *names, size_t n, int *out);
/* after_base for a search of every loaded object */
#define ELFSYM_ANY UINTPTR_MAX

#endif

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
/* An object's dynamic section, from its program headers (NULL when it has none). */
const void *elf_phdr_dynamic(const struct dl_phdr_info *info);
/* The same for an object given by its load bias and dynamic section (a link_map's
 * l_addr and l_ld). */
int elf_dynamic_defines_all(uintptr_t base, const void *dynamic, const char *const *names, const uint32_t *hashes, size_t n,
                            int *out);
/* The object's default-version function definition of name (not an IFUNC); NULL when
 * it has none or its table cannot be read. */
void *elf_dynamic_function(uintptr_t base, const void *dynamic, const char *name, uint32_t hash);
/* The GNU hash of a name (what DT_GNU_HASH tables are keyed by). ELF_GNU_HASH_LIT is the
 * same for a string literal of at most 24 characters, folded by the compiler (a static
 * initializer), so that process start hashes nothing: hashes[] above may be NULL, and
 * are then computed. */
uint32_t elf_gnu_hash(const char *name);
#define ELF_GH_(s, i, h)                                                                                     \
    ((h) * ((i) < sizeof(s) - 1 ? 33u : 1u) + ((i) < sizeof(s) - 1 ? (unsigned char)(s)[(i) < sizeof(s) ? (i) : 0] : 0u))
#define ELF_GH4_(s, i, h) ELF_GH_(s, i + 3, ELF_GH_(s, i + 2, ELF_GH_(s, i + 1, ELF_GH_(s, i, h))))
#define ELF_GNU_HASH_LIT(s)                                                                                  \
    (0 * sizeof(char[sizeof(s) <= 25 ? 1 : -1]) +                                                          \
     ELF_GH4_(s, 20, ELF_GH4_(s, 16, ELF_GH4_(s, 12, ELF_GH4_(s, 8, ELF_GH4_(s, 4, ELF_GH4_(s, 0, 5381u)))))))
/* after_base for a search of every loaded object */
#define ELFSYM_ANY UINTPTR_MAX

#endif

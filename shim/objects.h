/* Which loaded object an address belongs to, from the program headers: dladdr
 * answers the same but also searches the object's symbol table for the nearest
 * symbol (linear in libc's ~3,000 symbols: most of the shim's start once, README,
 * Overhead). */
#ifndef OVERSHIM_OBJECTS_H
#define OVERSHIM_OBJECTS_H

#include <stdint.h>

struct obj_info {
    uintptr_t base;   /* load bias: equal for two addresses in the same object */
    const char *name; /* its path as the loader knows it; "" for the program */
};

/* 1 and *out filled when addr lies in a loaded segment of some object, else 0. */
int obj_find(const void *addr, struct obj_info *out);
/* Whether the object that holds addr really defines name (its dynamic symbol table,
 * one hash lookup): 1 yes, 0 not (an undefined symbol such as a canonical PLT entry,
 * or none), -1 unknown (no such object, no readable table). */
int obj_defines(const void *addr, const char *name);
/* The first loaded object, in the loader's order (the program, the preloads, their
 * libraries), that defines name, after the object `after` (NULL: from the start): 1
 * and *out filled; -1 and *out filled for an object whose table cannot be read (it may
 * define it); 0 when none does. From the start, that is where the program's own calls
 * bind; after the shim, it is what dlsym(RTLD_NEXT) would find. */
int obj_next_definition(const char *name, const struct obj_info *after, struct obj_info *out);

#endif

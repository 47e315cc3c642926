/* Which loaded object an address belongs to, from the program headers: dladdr
 * answers the same but also searches the object's symbol table for the nearest
 * symbol (linear in libc's ~3,000 symbols: measured ~1.9 ms of the shim's start). */
#ifndef OVERSHIM_OBJECTS_H
#define OVERSHIM_OBJECTS_H

#include <stdint.h>

struct obj_info {
    uintptr_t base;   /* load bias: equal for two addresses in the same object */
    const char *name; /* its path as the loader knows it; "" for the program */
};

/* 1 and *out filled when addr lies in a loaded segment of some object, else 0. */
int obj_find(const void *addr, struct obj_info *out);

#endif

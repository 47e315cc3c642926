/* libc functions that a glibc before 2.34 keeps in libdl or libpthread, which a program
 * need not have loaded (glibc_compat.h): found in the loaded objects on first use
 * (latefn.c, the shim's own symbol lookup), not referenced weakly. A weak reference
 * compared with NULL is a GLOB_DAT relocation, a symbol lookup the loader makes at every
 * process start whether the function is ever called or not. */
#ifndef OVERSHIM_LATEFN_H
#define OVERSHIM_LATEFN_H

/* The next definition of name after the shim (as dlsym(RTLD_NEXT)), looked up once into
 * *slot; NULL when no loaded object has it. No allocation, no lock of the shim's. */
void *late_fn(void **slot, const char *name);

/* LATE_SLOT(name) declares the cache; LATE(name) is the function, typed, or NULL. */
#define LATE_SLOT(name) static void *late_slot_##name
#define LATE(name) ((__typeof__(&name))late_fn(&late_slot_##name, #name))

#endif

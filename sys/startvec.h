/* What the kernel and the loader hand the library's constructor: the auxiliary vector
 * (on the stack after the environment it is given) and the loader's list of objects
 * (its r_debug, which the program's DT_DEBUG entry points to). Read without a libc call:
 * getauxval and dl_iterate_phdr each cost a lazy binding (a symbol lookup through every
 * object) and a glibc symbol version at every process start. */
#ifndef OVERSHIM_STARTVEC_H
#define OVERSHIM_STARTVEC_H

#include <stdint.h>

/* envp: the third argument the loader passes a constructor (the environment array on
 * the stack, the auxiliary vector after its NULL). When what follows it is not an
 * auxiliary vector (a constructor run another way), /proc/self/auxv is read instead. */
void startvec_init(char **envp);
/* AT_SECURE: 1 for a secure-execution program (setuid, file capabilities), and when the
 * vector could not be read. */
int startvec_secure(void);

/* A function of the vDSO (found through AT_SYSINFO_EHDR); NULL when there is none (under
 * valgrind, or a kernel that maps none). */
void *startvec_vdso_function(const char *name, uint32_t hash);

/* The loaded objects in load order (the program first), as the public part of glibc's
 * link_map (link.h) holds them: l_addr, l_name, l_ld, l_next. NULL when the program has
 * no DT_DEBUG entry (the caller then asks dl_iterate_phdr). Read without the loader's
 * lock: for the constructor, while nothing loads or unloads an object. */
struct link_map;
const struct link_map *startvec_objects(void);

#endif

/* Names for captured frames at report time, from each module's own file: .symtab when
 * it has one (Debian's libjvm.so keeps 57k local functions there, .dynsym only ~450
 * exports), else .dynsym. Read with the shim's raw calls into static buffers (the
 * report lock is held: one user at a time), never from the program's allocator, so
 * it works when memory is exhausted; a file that cannot be opened or read, or whose
 * build-id is not the loaded one, leaves its frames as module + offset. */
#ifndef OVERSHIM_SYMTAB_H
#define OVERSHIM_SYMTAB_H

#include "frame.h"

/* Fill symbol/symbol_offset (symbol_from = FRAME_SYM_SYMTAB or FRAME_SYM_DYNSYM) of
 * the frames that have a module and no name yet; one pass over each module's symbol
 * table for all its frames. Names are copied into names[0..cap) (the caller's static
 * pool: each user its own). Report lock held. Returns the number of frames named. */
#include <stddef.h>
int symtab_name_frames(struct frame *fr, int nf, char *names, size_t cap);

/* "loaded" (the loaded .dynsym, dladdr), "symtab", "dynsym" (the file's), "" */

#endif

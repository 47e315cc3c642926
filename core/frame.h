/* One frame of a captured stack (plain data: shim/unwind.h captures them). */
#ifndef OVERSHIM_FRAME_H
#define OVERSHIM_FRAME_H

#include <stdint.h>

struct frame {
    uintptr_t ip;
    const char *module;      /* path of the loaded object, NULL for anonymous code (JIT) */
    uintptr_t offset;        /* ip - load base (or ip when module is NULL) */
    const uint8_t *build_id; /* in the object's PT_NOTE, mapped */
    int build_id_len;
    const char *symbol;      /* exported name covering ip, or NULL */
    uintptr_t symbol_offset;
    int symbol_from;         /* enum frame_sym: where the name came from */
    int signal_frame;        /* ip is not a return address (look up ip, not ip - 1) */
};

enum frame_sym { FRAME_SYM_NONE = 0, FRAME_SYM_LOADED = 1, FRAME_SYM_SYMTAB = 2, FRAME_SYM_DYNSYM = 3 };

/* "loaded", "symtab", "dynsym" ("" for none), for the JSON stack. */
static inline const char *frame_sym_name(int from)
{
    switch (from) {
    case FRAME_SYM_LOADED: return "loaded";
    case FRAME_SYM_SYMTAB: return "symtab";
    case FRAME_SYM_DYNSYM: return "dynsym";
    default: return "";
    }
}

#define UNWIND_MAX 256

#endif

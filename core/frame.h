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
};

#define UNWIND_MAX 256

#endif

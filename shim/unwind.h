/* Stack capture on failure only (libunwind), recorded as module + offset +
 * build-id; a symbol name only where it can be trusted (an exported symbol
 * whose size covers the address). The shim's own frames are left out. Runs
 * on the report stack under the report lock (rstack.h): libunwind and the module
 * lookup then take the loader lock, which is why rstack_run waits for the report
 * lock only so long. Everything points into loaded objects: no copy, no allocation. */
#ifndef OVERSHIM_UNWIND_H
#define OVERSHIM_UNWIND_H

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

#define UNWIND_MAX 256

/* Capture up to max frames above a libunwind context (rstack_context()). Returns
 * the count. */
int unwind_capture_from(void *context, struct frame *out, int max);
/* Module, offset and build-id of one address (no name): 1 found, 0 not in any object. */
int unwind_describe(uintptr_t ip, int signal_frame, struct frame *f);
/* Up to max return addresses above a context, without any lookup (cheap: for the
 * reservations, region_rec.c); the shim's own frames left out. */
int unwind_ips_from(void *context, uintptr_t *out, int max);
/* Base address of the shim itself (frames inside it are skipped). */
void unwind_init(void);
/* The shim's own image, [lo, hi) over its PT_LOAD segments (set by unwind_init). */
void unwind_self_range(uintptr_t *lo, uintptr_t *hi);

#endif

/* /proc/self/smaps streamed through the report path's scratch buffer (no
 * allocation, bounded stack) into the parser of core/smaps.h. */
#ifndef OVERSHIM_SMAPS_READ_H
#define OVERSHIM_SMAPS_READ_H

#include <stdint.h>

#include "smaps.h"

/* fn once per VMA; 0, or -1 when the file cannot be read. Callers are serialised
 * by the report lock (the scratch buffer is shared). */
int smaps_each(smaps_vma_fn fn, void *ctx);
/* smaps_facts_text over the live file. */
void smaps_facts(uintptr_t lo, uintptr_t hi, struct smaps_facts *out);

#endif

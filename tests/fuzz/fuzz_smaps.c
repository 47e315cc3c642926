/* libFuzzer: the /proc/self/smaps parser (VMA headers and VmFlags), as the report and
 * the simulator use it. The ledger it consults for reconciliation is stubbed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smaps.h"

int64_t osh_heap_mapped;
void ledger_settle(uintptr_t lo, uintptr_t hi, int ac);
uint64_t ledger_charged_in(uintptr_t lo, uintptr_t hi);
void ledger_settle(uintptr_t lo, uintptr_t hi, int ac) { (void)lo, (void)hi, (void)ac; }
uint64_t ledger_charged_in(uintptr_t lo, uintptr_t hi) { return (hi - lo) / 2; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    struct smaps_facts f;
    smaps_facts_text(text, 0x400000, 0x7fffffffffff, &f);
    if (f.accounted_pages > f.mapped_pages || f.ac_largest_pages > f.ac_total_pages) __builtin_trap();
    free(text);
    return 0;
}

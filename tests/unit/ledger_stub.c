/* The two ledger functions reconciliation consults, for unit tests of the smaps
 * parser (the ledger itself needs the private heap and is tested through the shim). */
#include <stdint.h>

void ledger_settle(uintptr_t lo, uintptr_t hi, int ac);
uint64_t ledger_charged_in(uintptr_t lo, uintptr_t hi);
void ledger_settle(uintptr_t lo, uintptr_t hi, int ac) { (void)lo, (void)hi, (void)ac; }
uint64_t ledger_charged_in(uintptr_t lo, uintptr_t hi) { return (hi - lo) / 2; }

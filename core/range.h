/* One range of the ledger: an address interval with what the shim knows of its
 * mapping. Plain data (the ledger, shim/ledger.h, owns and changes them). */
#ifndef OVERSHIM_RANGE_H
#define OVERSHIM_RANGE_H

#include <stdint.h>

enum range_kind { RK_MAP = 0, RK_BRK = 1, RK_STACK = 2 };

struct thread_rec; /* shim/ledger.h */

struct range {
    uintptr_t lo, hi;
    struct thread_rec *owner;
    int flags;
    uint32_t origin;   /* the mmap it came from: splits and moves keep it (the kernel's anon_vma does) */
    uint8_t prot;      /* PROT_READ|PROT_WRITE|PROT_EXEC (PROT_GROWS* only widen a call) */
    uint8_t acct;      /* VM_ACCOUNT in the running kernel's sense */
    uint8_t noreserve; /* VM_NORESERVE decided at map time */
    uint8_t kind;      /* enum range_kind */
    uint8_t anon;
    uint8_t uncertain; /* acct is a guess until smaps settles it (ledger_settle) */
    uint8_t faulted;   /* a page was seen in it, or in what it was split from: it has an anon_vma (anonvma.c) */
};

#endif

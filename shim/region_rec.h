/* The reservations' records (region.h for the kinds): each reservation the program
 * makes through the wrappers (PROT_NONE, MAP_NORESERVE, or 1 MiB and more) keeps the
 * return addresses of its stack, taken on the report stack at map time (one cheap
 * unwind, no name lookup); the names and the kind are worked out only when a report or
 * a summary needs them (region_resolve, report lock held). A commit, an uncommit or a
 * refusal inside a reservation is of the reservation's kind. A fixed table, mapped
 * at the first reservation (about 30 KiB; a program that reserves nothing pays
 * nothing): past REGION_MAX live reservations the rest get no record. */
#ifndef OVERSHIM_REGION_REC_H
#define OVERSHIM_REGION_REC_H

#include <stddef.h>
#include <stdint.h>

#define REGION_MAX 128
#define REGION_IPS 16
#define REGION_UNWINDS 2048 /* reservations a process unwinds for; later ones get no stack */

/* mmap succeeded (guard held, no shim lock): record it if it is a reservation. */
void region_note_map(uintptr_t addr, size_t len, int prot, int flags, int fd);
/* munmap succeeded: records wholly inside [addr, addr+len) go. */
void region_note_unmap(uintptr_t addr, size_t len);

struct region_info {
    int kind;            /* enum region_kind */
    const char *gc;      /* the collector seen in the frames, or NULL */
    char frame[64];      /* the frame that decided, demangled without parameters, or "" */
    uintptr_t lo, hi;    /* the reservation */
    uint64_t made_ns;    /* CLOCK_MONOTONIC when it was made */
};

/* Report lock held. Name and classify the records not yet classified. */
void region_resolve(void);
/* The record containing addr (after region_resolve): 1 and *out, or 0. */
int region_find(uintptr_t addr, struct region_info *out);
/* Live records, and the i-th of them (0 .. count-1). */
int region_count(void);
int region_get(int i, struct region_info *out);
/* The table's mapping, for the shim's footprint: 0, or -1 (none yet). */
int region_table_range(uintptr_t *lo, uintptr_t *hi);
/* After fork in the child: the spin lock may have been held by another thread. */
void region_postfork_child(void);

#endif

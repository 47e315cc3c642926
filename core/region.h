/* What memory is for: a region kind per reservation, from the names of the frames that
 * made it (HotSpot reserves with PROT_NONE|MAP_NORESERVE and commits inside with
 * MAP_FIXED: a commit's kind is its reservation's). Pure logic here (no I/O, no
 * globals of the runtime); the reservation records are region_rec.c. */
#ifndef OVERSHIM_REGION_H
#define OVERSHIM_REGION_H

#include <stddef.h>
#include <stdint.h>

enum region_kind {
#define REGION(id, json, nmt, words) REGION_##id,
#include "region.def"
#undef REGION
    REGION_NKINDS
};

const char *region_json_name(int kind); /* "java_heap" */
const char *region_nmt(int kind);   /* "Java Heap", or "" where NMT does not see it */
const char *region_words(int kind); /* "Java heap" */
/* The kind from json name, or -1 */
int region_from_json(const char *name);

struct region_class {
    int kind;          /* enum region_kind */
    const char *gc;    /* "G1", "Parallel", "Serial", "Shenandoah", "Z" or NULL: the collector seen in the frames */
    int frame;         /* index of the frame that decided, or -1 (decided from the call's arguments) */
};

/* Classify from frame names, innermost first (mangled or demangled; NULL for a frame
 * without a name), and the call: prot/flags/fd of a map (fd -1, flags 0 for a malloc),
 * is_malloc for the malloc family. */
void region_classify(const char *const *names, int n, int flags, int fd, int is_malloc, struct region_class *out);
/* Whether a successful map is a reservation whose stack is worth recording: PROT_NONE,
 * MAP_NORESERVE, or 1 MiB or more; a MAP_FIXED map is a commit (or an uncommit) when
 * inside_known says it lies in a recorded reservation. */
int region_is_reservation(size_t len, int prot, int flags, int inside_known);

#endif

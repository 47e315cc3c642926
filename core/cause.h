/* Verdict causes as a type (causes.def). */
#ifndef OVERSHIM_CAUSE_H
#define OVERSHIM_CAUSE_H

enum cause {
#define CAUSE(id, name) CAUSE_##id,
#include "causes.def"
#undef CAUSE
    CAUSE__COUNT
};

/* "overcommit_never"...; "" for CAUSE_NONE. */
const char *cause_name(enum cause c);
/* What the simulator refuses itself (the rest it leaves to the real kernel). */
static inline int cause_simulated(enum cause c)
{
    return c == CAUSE_OVERCOMMIT_GUESS || c == CAUSE_OVERCOMMIT_NEVER || c == CAUSE_MAX_MAP_COUNT;
}
/* The rlimit causes (the command's explain reports them as the cause). */
static inline int cause_is_rlimit(enum cause c) { return c == CAUSE_RLIMIT_AS || c == CAUSE_RLIMIT_DATA; }

#endif

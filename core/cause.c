/* Verdict causes' names (cause.h). */
#include "cause.h"

static const char names[CAUSE__COUNT][32] = { /* arrays, not pointers: no relocation at load */
#define CAUSE(id, name) [CAUSE_##id] = #name,
#include "causes.def"
#undef CAUSE
};

const char *cause_name(enum cause c) { return (unsigned)c < CAUSE__COUNT ? names[c] : "unknown"; }

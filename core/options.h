/* OVERSHIM_OPTIONS: parsed once, from one table (options.def). No other file
 * reads the environment. */
#ifndef OVERSHIM_OPTIONS_H
#define OVERSHIM_OPTIONS_H

#include <stddef.h>

#define OSH_OPT_STRMAX 512

struct osh_options {
#define OSH_OPT_STR(name) char name[OSH_OPT_STRMAX];
#define OSH_OPT_INT(name) long name;
#define OSH_OPT_BOOL(name) int name;
#define OSH_OPT(kind, name, def, help) OSH_OPT_##kind(name)
#include "options.def"
#undef OSH_OPT
#undef OSH_OPT_STR
#undef OSH_OPT_INT
#undef OSH_OPT_BOOL
};

/* Fill *o with the defaults. */
void options_defaults(struct osh_options *o);
/* Parse `text` ("k=v:k=v") on top of the defaults. Returns 0, or -1 with a one-line
 * message naming the bad text in err. Never allocates. */
int options_parse(struct osh_options *o, const char *text, char *err, size_t errcap);
/* The help table (for help=1 and the man page), into buf. */
void options_help(char *buf, size_t cap);

#endif

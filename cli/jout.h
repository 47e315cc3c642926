/* Writing JSON from the command: a string with its escapes. */
#ifndef OVERSHIM_JOUT_H
#define OVERSHIM_JOUT_H

#include <stdio.h>

void jout_str(FILE *f, const char *s);
/* A call's name as the reports give it (report_call.c), for the trace's call ids. */
const char *jout_call_name(int id);

#endif

/* Parsers of the kernel's /proc text (meminfo, zoneinfo, status): text in, numbers
 * out; no I/O (sys/sysstate.h reads the files). */
#ifndef OVERSHIM_PROCPARSE_H
#define OVERSHIM_PROCPARSE_H

#include <stdint.h>

/* Value of "Key:   123 kB" in meminfo-like text, in kB (or the bare number);
 * -1 when absent or malformed. */
int64_t meminfo_get(const char *text, const char *key);
/* totalreserve_pages rebuilt from /proc/zoneinfo text (docs/kernel.md §6.2):
 * Σ min(max(protection[i:]) + high - boost, managed). -1 if the text has no zone. */
int64_t zoneinfo_totalreserve(const char *text);

/* Blanks and tabs skipped; a decimal number (-1 when there is none, or on overflow). */
const char *proc_skip_ws(const char *p);
int64_t proc_parse_num(const char **pp);

#endif

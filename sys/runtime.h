/* Which program was refused, for remedies in its own terms (livestate.h, struct
 * prog_facts): a JVM (libjvm.so is loaded), Python, node, or anything else; HotSpot's
 * sizes from its command line; the systemd unit it runs in. Read at report time, on the
 * report stack (dl_iterate_phdr, /proc/self/{exe,cmdline,environ,cgroup}); no allocation. */
#ifndef OVERSHIM_RUNTIME_H
#define OVERSHIM_RUNTIME_H

#include <stddef.h>

#include "livestate.h"
#include "frame.h"

/* fr/nf: the refused call's stack (NULL, 0 when not captured). */
void runtime_facts(struct prog_facts *p, const struct frame *fr, int nf);

/* The parsers, for the unit tests: HotSpot's flags from a NUL-separated command line;
 * a systemd unit from /proc/self/cgroup text; a JVM size ("512m", "2G"): bytes or -1. */
void runtime_jvm_flags(struct prog_facts *p, const char *cmdline, size_t len);
void runtime_service(struct prog_facts *p, const char *cgroup_text);
int64_t runtime_jvm_size(const char *s);

#endif

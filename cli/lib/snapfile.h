/* A snapshot file read and parsed (core/snapshot.h), for the command's subcommands. */
#ifndef OVERSHIM_SNAPFILE_H
#define OVERSHIM_SNAPFILE_H

#include <stddef.h>

#include "snapshot.h"

/* 0, or -1 with one line in err naming the file and what is wrong ("cannot read: ...",
 * "larger than 1 MiB", the parser's message). Not reentrant (one static buffer). */
int snapshot_file_read(const char *path, struct snapshot *sn, char *err, size_t errcap);

#endif

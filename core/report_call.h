/* Decoding of a failed call's name and arguments (report_call.c). */
#ifndef OVERSHIM_REPORT_CALL_H
#define OVERSHIM_REPORT_CALL_H

#include <stdint.h>

#include "failure.h"
#include "fmt.h"

void call_prot(struct fmtbuf *fb, int prot);
void call_map_flags(struct fmtbuf *fb, int flags);
void call_args(struct fmtbuf *fb, const struct failed_call *fc, int json);

#endif

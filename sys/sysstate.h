/* Readers for the kernel's view: /proc/meminfo, /proc/sys/vm/..., /proc/zoneinfo,
 * /proc/self/status, rlimits, capabilities, uname. They read (core/procparse.h parses); they
 * never decide (that is kmodel's and diagnose's job). No allocation. */
#ifndef OVERSHIM_SYSSTATE_H
#define OVERSHIM_SYSSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "procparse.h"

/* First integer of a small /proc file; -1 on failure. */
int64_t sys_read_long(const char *path);
/* Value of "Key:\t123 kB" in /proc/self/status, in kB; -1 when absent. */
int64_t status_get_kb(const char *key);

/* The kernel release (uname -r) into buf. */
void sys_kernel_release(char *buf, size_t cap);

/* Effective CAP_SYS_ADMIN in the initial user namespace (docs/kernel.md §9):
 * 1 yes, 0 no. */
int sys_cap_sys_admin(void);
/* Count lines of /proc/self/maps (VMAs, [vsyscall] excluded). */
int64_t sys_map_count(void);

#endif

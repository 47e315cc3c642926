/* Readers for the kernel's view: /proc/meminfo, /proc/sys/vm/..., /proc/zoneinfo,
 * /proc/self/status, rlimits, capabilities, uname. They read and parse; they never
 * decide (that is kmodel's and diagnose's job). Parsers take text so that tests
 * and the snapshot reader can feed them. No allocation. */
#ifndef OVERSHIM_SYSSTATE_H
#define OVERSHIM_SYSSTATE_H

#include <stddef.h>
#include <stdint.h>

/* Value of "Key:   123 kB" in meminfo-like text, in kB (or the bare number);
 * -1 when absent or malformed. */
int64_t meminfo_get(const char *text, const char *key);
/* First integer of a small /proc file; -1 on failure. */
int64_t sys_read_long(const char *path);
/* Value of "Key:\t123 kB" in /proc/self/status, in kB; -1 when absent. */
int64_t status_get_kb(const char *key);

/* totalreserve_pages rebuilt from /proc/zoneinfo text (KERNEL.md §6.2):
 * Σ min(max(protection[i:]) + high - boost, managed). -1 if the text has no zone. */
int64_t zoneinfo_totalreserve(const char *text);

/* The kernel release (uname -r) into buf. */
void sys_kernel_release(char *buf, size_t cap);

/* Effective CAP_SYS_ADMIN in the initial user namespace (KERNEL.md §9):
 * 1 yes, 0 no. */
int sys_cap_sys_admin(void);
/* Count lines of /proc/self/maps (VMAs, [vsyscall] excluded). */
int64_t sys_map_count(void);

#endif

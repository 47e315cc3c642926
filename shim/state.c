/* The runtime's process-wide state, defined in one place (declared in state.h,
 * common.h and policy.h). The malloc wrappers' own words (interpose_malloc.c) and the
 * resolved functions (resolve.c) stay beside the code that reads them on every call. */
#include "state.h"

#include "common.h"
#include "policy.h"

OS_TLS struct os_tls os_t;
OS_HOT int os_active;
OS_HOT int os_started;
int os_shared_tls;
OS_HOT int os_policy;
/* The options' defaults are the static image (no page of it is written unless
 * OVERSHIM_OPTIONS says something). */
struct os_state os_st = {.opt = {
#define OS_OPT_STR(name, def) .name = def,
#define OS_OPT_INT(name, def) .name = def,
#define OS_OPT_BOOL(name, def) .name = def,
#define OS_OPT(kind, name, def, help) OS_OPT_##kind(name, def)
#include "options.def"
#undef OS_OPT
#undef OS_OPT_STR
#undef OS_OPT_INT
#undef OS_OPT_BOOL
}};
struct inject_set os_inject;
/* The locks until the constructor moves them to their own page (init.c). */
struct os_forkstate os_fs_static = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, 1};
struct os_forkstate *os_fs = &os_fs_static;

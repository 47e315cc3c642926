/* The runtime's process-wide state, defined in one place (declared in state.h,
 * common.h and policy.h). The malloc wrappers' own words (interpose_malloc.c) and the
 * resolved functions (resolve.c) stay beside the code that reads them on every call. */
#include "state.h"

#include "common.h"
#include "policy.h"

OSH_TLS struct osh_tls osh_t = {.tc_req = {TC_REQ_TABLE}};
OSH_HOT int osh_active;
OSH_HOT int osh_started;
int osh_shared_tls;
OSH_HOT int osh_policy;
/* The options' defaults are the static image (no page of it is written unless
 * OVERSHIM_OPTIONS says something). */
struct osh_state osh_st = {.opt = {
#define OSH_OPT_STR(name, def) .name = def,
#define OSH_OPT_INT(name, def) .name = def,
#define OSH_OPT_BOOL(name, def) .name = def,
#define OSH_OPT(kind, name, def, help) OSH_OPT_##kind(name, def)
#include "options.def"
#undef OSH_OPT
#undef OSH_OPT_STR
#undef OSH_OPT_INT
#undef OSH_OPT_BOOL
}};
struct inject_set osh_inject;
/* The locks until the constructor moves them to their own page (init.c). */
struct osh_forkstate osh_fs_static = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, 1};
struct osh_forkstate *osh_fs = &osh_fs_static;

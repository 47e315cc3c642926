/* The runtime's process-wide state, defined in one place (declared in state.h,
 * common.h and policy.h). The malloc wrappers' own words (interpose_malloc.c) and the
 * resolved functions (resolve.c) stay beside the code that reads them on every call. */
#include "state.h"

#include "common.h"
#include "policy.h"

OS_TLS struct os_tls os_t;
int os_active;
int os_shared_tls;
int os_policy;
struct os_state os_st;
struct inject_set os_inject;
/* The locks until the constructor moves them to their own page (init.c). */
struct os_forkstate os_fs_static = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, 1};
struct os_forkstate *os_fs = &os_fs_static;

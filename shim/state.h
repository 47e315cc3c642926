/* Process-wide state of the shim, filled once by the constructor (init.c). */
#ifndef OVERSHIM_STATE_H
#define OVERSHIM_STATE_H

#include <stdint.h>
#include <sys/types.h>

#include "options.h"
#include "output.h"

struct os_state {
    struct os_options opt;
    int secure;              /* AT_SECURE: options ignored, reports to stderr only */
    uint64_t start_ns;
    pid_t pid;               /* this process (updated in a fork child) */
    char kernel_release[128];
    int overcommit_mode;     /* vm.overcommit_memory read at start */
    struct out_stream log, json;
    uint64_t last_enomem_ns; /* 0 = none */
    int nreports;            /* full reports written */
    int nfailures;
    int exit_done;
    int wrote_events;        /* something went to the files: an exit event follows */
};

extern struct os_state os_st;

#endif

/* HotSpot's error file: after a refusal it cannot survive (a heap commit, a GC's
 * malloc) HotSpot writes hs_err_pid<pid>.log, with the failing thread and its Java
 * frames, and only then calls _exit. The exit wrapper reads it (raw calls, a static
 * buffer: no allocation) and adds its path, the thread and its Java frames to the
 * report and the exit event. Where HotSpot looks: -XX:ErrorFile= (with %p), else the
 * working directory, else /tmp (its fallback). Report lock held. */
#ifndef OVERSHIM_HSERR_H
#define OVERSHIM_HSERR_H

#include <stddef.h>

#include "fmt.h"

#define HSERR_FRAMES 32
#define HSERR_LINE 160

struct hserr {
    char path[512];
    char thread[HSERR_LINE]; /* "JavaThread "main" [_thread_in_vm, id=..., ...]" */
    int nframes;
    char frames[HSERR_FRAMES][HSERR_LINE]; /* "j  Advice.main([Ljava/lang/String;)V+12", ... */
};

/* 1 and *h filled when this process's hs_err file is there; 0 when not. cmdline: the
 * NUL-separated /proc/self/cmdline (n bytes) or NULL. */
int hserr_find(struct hserr *h, const char *cmdline, size_t n);
/* Pure: the thread and the Java frames from the text of an hs_err file (the first
 * part of it is enough). Returns the number of frames. */
int hserr_parse(const char *text, size_t len, struct hserr *h);
/* ,"hs_err":{"path":..,"thread":..,"java_frames":[..]} */
void hserr_json(struct fmtbuf *j, const struct hserr *h);
/* The JAVA block of the text report */
void hserr_text(struct fmtbuf *t, const struct hserr *h);

#endif

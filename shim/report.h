/* Renderers: text and JSON, written to the report destinations from
 * preallocated buffers with write(2). Never malloc, never stdio. One lock
 * serialises reports; it is handed over across fork. */
#ifndef OVERSHIM_REPORT_H
#define OVERSHIM_REPORT_H

#include "fmt.h"

/* At exit (wrappers and destructor): the summary when report_at_exit=1, then an
 * `exit` event if anything was written before. have_status=0: unknown (destructor). */
/* 1 when leaving the process has something to write (a summary asked for, events
 * written, refusals seen, a report under way). */
int report_exit_due(void);
void report_exit(const char *via, int status, int have_status);
/* The summary event and table (report_at_exit). On the report stack, lock held. */
void report_summary(const char *via, int status, int have_status);
/* The summary now, from any thread (overshim_write_summary): 0, or -1. */
int report_summary_now(void);
/* "refusals":{total, reports, brief, unreported} into a JSON object. */
void report_refusal_counts(struct fmtbuf *j);

void report_lock(void);
/* The report lock within a deadline: 0, or an error (not taken). */
int report_lock_for(int seconds);
void report_unlock(void);

/* Shared pieces for renderers. */
/* "==PID== " prefix */
void report_prefix(struct fmtbuf *fb);
/* The process and threads JSON objects (ledger lock taken inside). Also fills a
 * text table when text != NULL. */
void report_ledger(struct fmtbuf *json, struct fmtbuf *text);
/* The malloc path chosen at start (interpose_malloc.c): "tcache_fixed_tls", "tcache", "checked". */
const char *malloc_fast_path(void);

/* The two buffers a report is formatted in (JSON, text), flushed to their files as they
 * fill: one pair for every report (full, summary), which all run under the report lock. */
#define REPORT_BUF 16384
extern char report_jbuf[REPORT_BUF], report_tbuf[REPORT_BUF];

#endif

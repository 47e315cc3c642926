/* Running programs under the shim from a test: LD_PRELOAD is set only in the
 * child's environment, never in the test runner. */
#ifndef TESTS_RUN_H
#define TESTS_RUN_H

#include <stddef.h>

struct run {
    int status;      /* exit status, or 128+signal */
    int timed_out;
    char *out, *err; /* captured, NUL-terminated (malloc) */
    size_t out_len, err_len;
};

/* Build dir (absolute), from OVERSHIM_BUILD or ./build. */
const char *build_dir(void);
const char *shim_path(void);
/* A fresh private directory for one test's files. */
char *test_dir(const char *name);
/* Run argv with extra environment ("K=V" strings, NULL-terminated), in cwd,
 * with preload on or off, a timeout in seconds. Optional stdin text. */
void run_cmd(struct run *r, char *const argv[], char *const extra_env[], const char *cwd, int preload, int timeout_s);
void run_free(struct run *r);
/* Path of the first file in dir matching prefix and suffix (static buffer), or NULL. */
const char *find_file(const char *dir, const char *prefix, const char *suffix);
char *read_all(const char *path);
/* For tests that run code as another user (nobody, postgres, nginx's workers): a
 * directory every user can enter, under /tmp (the build may sit in a private home),
 * and a copy of a file in it (mode kept). Both malloc'ed; rm_public removes the dir. */
char *public_dir(const char *name);
char *public_copy(const char *src, const char *dir);
void rm_public(char *dir);

#endif

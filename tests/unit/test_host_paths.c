/* Report paths that name the program's own descriptors (output.c), the slot a
 * tcache-taking call lowers (tcache.h), and the shim's descriptors landing >= 3
 * (rawsys.c). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "output.h"
#include "rawsys.h"
#include "tcache.h"

Test(host_paths, named_descriptors)
{
    cr_expect_eq(out_named_fd("stdout"), 1);
    cr_expect_eq(out_named_fd("/dev/stdout"), 1);
    cr_expect_eq(out_named_fd("stderr"), 2);
    cr_expect_eq(out_named_fd("/dev/stderr"), 2);
    cr_expect_eq(out_named_fd("/dev/fd/0"), 0);
    cr_expect_eq(out_named_fd("/dev/fd/17"), 17);
    cr_expect_eq(out_named_fd("/proc/self/fd/5"), 5);
    static const char *const not_fds[] = {"", "none", "/dev/null", "/dev/full", "/dev/fd/", "/dev/fd/1x",
                                          "/dev/fd/-1", "/proc/self/fd/", "/proc/1/fd/1", "/dev/stdout.1",
                                          "stdout.log", "/dev/fd/99999999999", "overshim_pid%p.log"};
    for (size_t i = 0; i < sizeof not_fds / sizeof not_fds[0]; i++)
        cr_expect_eq(out_named_fd(not_fds[i]), -1, "'%s'", not_fds[i]);
}

/* Each request once, on a thread of its own: its new arena hands out chunks of exactly
 * the request's size (from the tcache or the top), where the main arena may hand out a
 * free chunk whole, larger by up to 31 bytes (trixie's Criterion: test_tcache.c). */
static void *each_taken(void *arg)
{
    size_t *bad = arg;
    for (size_t n = 0; n <= TC_MAX_REQ && *bad == (size_t)-1; n++) {
        void *p = malloc(n);
        if (!p || tc_entry_taken(n) != tc_entry_of_header(tc_header_of(p))) *bad = n;
        free(p);
    }
    return NULL;
}

/* glibc serves requests of 0..8 bytes from bin 0 too: a call that takes one lowers
 * the entry free raises for that chunk, never the uncounted entry 1. */
Test(host_paths, taken_slot_matches_glibc_chunk)
{
#if defined(__SANITIZE_ADDRESS__)
    cr_skip_test("AddressSanitizer replaces glibc's malloc");
#endif
    size_t bad = (size_t)-1;
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, each_taken, &bad), 0);
    cr_assert_eq(pthread_join(t, NULL), 0);
    cr_expect_eq(bad, (size_t)-1, "n=%zu", bad);
}

Test(host_paths, descriptors_land_at_3_or_above)
{
    int saved = dup(0);
    close(0);
    int fd = raw_open("/dev/null", O_RDONLY, 0);
    cr_expect_geq(fd, 3, "raw_open gave %d with 0 free", fd);
    cr_expect(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    cr_expect_eq(fcntl(0, F_GETFD), -1, "0 was left open");
    raw_close(fd);
    dup2(saved, 0);
    close(saved);
}

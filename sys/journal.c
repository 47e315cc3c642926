/* The journal's native protocol (see journal.h). */
#include "journal.h"

#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "rawsys.h"

static int add(char *buf, size_t cap, size_t *n, const void *p, size_t len)
{
    if (*n + len > cap) return -1;
    memcpy(buf + *n, p, len);
    *n += len;
    return 0;
}

int journal_send(const char *path, const struct journal_field *f, int nf)
{
    if (!path || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) return -1;
    char buf[4096];
    size_t n = 0;
    for (int i = 0; i < nf; i++) {
        const char *v = f[i].value ? f[i].value : "";
        size_t kl = strlen(f[i].key), vl = strlen(v);
        int bad = add(buf, sizeof buf, &n, f[i].key, kl);
        if (!memchr(v, '\n', vl)) {
            bad |= add(buf, sizeof buf, &n, "=", 1);
        } else { /* the binary form */
            uint8_t le[8];
            for (int b = 0; b < 8; b++) le[b] = (uint8_t)((uint64_t)vl >> (8 * b));
            bad |= add(buf, sizeof buf, &n, "\n", 1);
            bad |= add(buf, sizeof buf, &n, le, 8);
        }
        bad |= add(buf, sizeof buf, &n, v, vl);
        bad |= add(buf, sizeof buf, &n, "\n", 1);
        if (bad) return -1;
    }
    int fd = raw_socket(AF_UNIX, SOCK_DGRAM, 0); /* above fd 2, close-on-exec */
    if (fd < 0) return -1;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    memcpy(a.sun_path, path, strlen(path) + 1);
    long r = syscall(SYS_sendto, fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL, &a, (socklen_t)sizeof a);
    raw_close(fd);
    return r == (long)n ? 0 : -1;
}

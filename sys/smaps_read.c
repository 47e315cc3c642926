/* Streaming /proc/self/smaps (see smaps_read.h). */
#include "smaps_read.h"

#include <fcntl.h>
#include <string.h>

#include "rawsys.h"

int smaps_each(smaps_vma_fn fn, void *ctx)
{
    size_t buf_cap;
    char *buf = raw_scratch(&buf_cap); /* callers are serialised by the report lock */
    int fd = raw_open("/proc/self/smaps", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return -1;
    size_t have = 0;
    struct smaps_parser p;
    smaps_parser_init(&p, fn, ctx);
    for (;;) {
        ssize_t r = raw_read(fd, buf + have, buf_cap - 1 - have);
        if (r <= 0) break;
        have += (size_t)r;
        buf[have] = 0;
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n')) != NULL) {
            *nl = 0;
            smaps_parser_line(&p, line);
            line = nl + 1;
        }
        size_t rest = have - (size_t)(line - buf);
        memmove(buf, line, rest);
        have = rest;
        if (have >= buf_cap - 1) have = 0; /* an absurd line: drop it */
    }
    smaps_parser_finish(&p);
    raw_close(fd);
    return 0;
}

void smaps_facts(uintptr_t lo, uintptr_t hi, struct smaps_facts *out)
{
    memset(out, 0, sizeof *out);
    struct smaps_facts_ctx c = {lo, hi, out};
    out->ok = smaps_each(smaps_facts_add, &c) == 0;
}

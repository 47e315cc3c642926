/* /proc/<pid>/smaps text, parsed: one VMA at a time with its VmFlags decoded, and
 * the facts a diagnosis needs about a range and the whole process. Pure: the text
 * comes from the caller (sys/smaps_read.h streams the live file). */
#ifndef OVERSHIM_SMAPS_H
#define OVERSHIM_SMAPS_H

#include <stdint.h>

struct smaps_vma {
    uintptr_t lo, hi;
    int file, heap, stack, vsyscall;
    int ac, wr, sh, gd; /* VmFlags */
    uint64_t rss_kb;    /* Rss: */
};

typedef void (*smaps_vma_fn)(const struct smaps_vma *v, void *ctx);

/* A line-at-a-time parser: feed every line (without its newline), then finish. */
struct smaps_parser {
    struct smaps_vma cur;
    int in_vma;
    smaps_vma_fn fn;
    void *ctx;
};
void smaps_parser_init(struct smaps_parser *p, smaps_vma_fn fn, void *ctx);
void smaps_parser_line(struct smaps_parser *p, const char *line);
void smaps_parser_finish(struct smaps_parser *p);

/* What the kernel has mapped in [lo, hi), and the process's accountable VMAs. */
struct smaps_facts {
    uint64_t mapped_pages;     /* pages of [lo, hi) inside some VMA */
    uint64_t accounted_pages;  /* ... inside `ac` VMAs (what a MAP_FIXED on 6.12+ nets out) */
    uint64_t data_pages;       /* ... inside private writable non-stack VMAs (RLIMIT_DATA's data_vm) */
    uint64_t ac_total_pages;   /* the whole process: Σ `ac` VMA sizes (what fork charges the child) */
    uint64_t ac_largest_pages; /* the largest `ac` VMA */
    uint64_t ac_vmas;
    uint64_t vm_size_pages, map_count;
    int ok;
};
struct smaps_facts_ctx {
    uintptr_t lo, hi;
    struct smaps_facts *f;
};
/* An smaps_vma_fn adding one VMA to ctx (a struct smaps_facts_ctx). */
void smaps_facts_add(const struct smaps_vma *v, void *ctx);
/* The facts from smaps text (modified in place): for tests and the fuzzer. */
void smaps_facts_text(char *text, uintptr_t lo, uintptr_t hi, struct smaps_facts *out);

#endif

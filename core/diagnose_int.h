/* What the diagnosis's files share (diagnose.c: the helpers and each call; diag_limits.c:
 * the limits on mappings, address space, data and tasks; diag_commit.c: the commit
 * charge and HotSpot's start): internal to core/. */
#ifndef OVERSHIM_DIAGNOSE_INT_H
#define OVERSHIM_DIAGNOSE_INT_H

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "diagnose.h"
#include "fmt.h"

#define TASK_SIZE_BYTES 0x7ffffffff000ull /* x86-64, 4-level paging */
#define MiB(pages, s) ((pages) * (s)->in.page_kb / 1024)
#define KIB (1024ll)
#define MIB_B (1024ll * 1024)

static inline int64_t pk_of(const struct live_state *s) { return s->in.page_kb ? s->in.page_kb : 4; }
static inline int64_t pages_of(const struct live_state *s, uint64_t bytes)
{
    uint64_t ps = (uint64_t)pk_of(s) * 1024;
    return (int64_t)((bytes + ps - 1) / ps);
}
static inline int64_t mib_down(const struct live_state *s, int64_t pages) { return pages > 0 ? pages * pk_of(s) / 1024 : 0; }
static inline int64_t mib_up(const struct live_state *s, int64_t pages)
{
    return pages > 0 ? (pages * pk_of(s) + 1023) / 1024 : 0;
}
static inline int jvm(const struct live_state *s) { return s->prog.runtime == RT_JVM; }
static inline int python(const struct live_state *s) { return s->prog.runtime == RT_PYTHON; }
static inline int node(const struct live_state *s) { return s->prog.runtime == RT_NODE; }
static inline int is_malloc(enum call_id c) { return c >= CALL_MALLOC && c <= CALL_PVALLOC; }
static inline int is_mmap(enum call_id c) { return c == CALL_MMAP || c == CALL_MMAP64; }
static inline int64_t jvm_xss(const struct live_state *s) { return s->prog.xss > 0 ? s->prog.xss : 1024 * KIB; }
static inline int64_t round_up_mib(int64_t bytes, int64_t mib) { return (bytes + mib * MIB_B - 1) / (mib * MIB_B) * (mib * MIB_B); }
static inline uint64_t page_up(uint64_t x) { return (x + 4095) & ~4095ull; }

void dg_remedy(struct diagnosis *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dg_explain(struct diagnosis *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dg_explain_more(struct diagnosis *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dg_term(struct diagnosis *d, const char *key, const char *name, char op, int64_t v);
void dg_set(struct diagnosis *d, enum cause cause, const char *headline, int64_t req, int64_t limit, int64_t committed, int64_t shortfall);
void dg_limit_remedy(struct diagnosis *d, const struct live_state *s, const char *ulimit_opt, const char *rlim, const char *unit_key, int64_t value, int kib_unit, const char *tail);
int64_t dg_jvm_heap(const struct live_state *s);
int64_t dg_jvm_code_cache(const struct live_state *s);
int64_t dg_jvm_class_space(const struct live_state *s);
int64_t dg_jvm_start_limit(const struct live_state *s, uint64_t request, int64_t arenas, char *what, size_t cap);
void dg_direct_memory_remedy(struct diagnosis *d, const struct live_state *s, int64_t room_pages);
int dg_check_map_count(struct diagnosis *d, const struct live_state *s, int64_t adds, int64_t margin);
void dg_thread_more_remedy(struct diagnosis *d, const struct live_state *s, int64_t limit_kib, int64_t each_kib, const char *ulimit_opt);
void dg_xss_remedy(struct diagnosis *d, const struct live_state *s, int64_t stack_pages, int64_t room_pages);
void dg_stack_size_remedy(struct diagnosis *d, const struct live_state *s, int64_t largest_kib);
int dg_check_rlimit_as(struct diagnosis *d, const struct live_state *s, int64_t net, int64_t req);
int dg_check_rlimit_data(struct diagnosis *d, const struct live_state *s, int64_t net, int64_t req);
int dg_check_brk_data(struct diagnosis *d, const struct live_state *s, uint64_t new_brk);
void dg_release_remedy(struct diagnosis *d, const struct live_state *s, int64_t need);
int64_t dg_ratio_for(const struct live_state *s, int64_t need);
void dg_fork_remedies(struct diagnosis *d, const struct live_state *s);
void dg_overcommit_remedies(struct diagnosis *d, const struct live_state *s, int prot_write, int flags);
int dg_check_overcommit(struct diagnosis *d, const struct live_state *s, int64_t charge, int64_t req, int prot_write, int flags);
int dg_check_overcommit_vm(struct diagnosis *d, const struct live_state *s, int64_t charge, int64_t req, int prot_write, int flags, int64_t total_vm);
int dg_jvm_large_page_probe(const struct live_state *s, uint64_t len);
int dg_check_hugetlb(struct diagnosis *d, const struct live_state *s, uint64_t len);
void dg_task_pool_remedy(struct diagnosis *d, const struct live_state *s);
int dg_check_tasks(struct diagnosis *d, const struct live_state *s);

#endif

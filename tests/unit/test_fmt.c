/* The no-allocation formatter. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "fmt.h"

static const char *f(const char *fmt, ...)
{
    static char buf[512];
    struct fmtbuf fb;
    fb_init_str(&fb, buf, sizeof buf);
    va_list ap;
    va_start(ap, fmt);
    fb_vprintf(&fb, fmt, ap);
    va_end(ap);
    return fb_cstr(&fb);
}

Test(fmt, printf_subset)
{
    cr_expect_str_eq(f("%d %i %u %x", -42, 7, 3000000000u, 255), "-42 7 3000000000 ff");
    cr_expect_str_eq(f("%lld %llu", (long long)INT64_MIN, (unsigned long long)UINT64_MAX),
                     "-9223372036854775808 18446744073709551615");
    cr_expect_str_eq(f("%zu %ld", (size_t)12, -5L), "12 -5");
    cr_expect_str_eq(f("[%5d][%-5d][%05d]", 42, 42, -42), "[   42][42   ][-0042]");
    cr_expect_str_eq(f("%s|%.3s|%-6s|", "abc", "abcdef", "ab"), "abc|abc|ab    |");
    cr_expect_str_eq(f("%p %c %%", (void *)0x1000, 'z'), "0x1000 z %");
    cr_expect_str_eq(f("%s", (char *)NULL), "(null)");
    cr_expect_str_eq(f("[%.*s][%*d]", 3, "abcdef", 4, 7), "[abc][   7]");
    char unterminated[4] = {'a', 'b', 'c', 'd'};
    cr_expect_str_eq(f("%.*s", 4, unterminated), "abcd", "a precision never reads past it");
}

Test(fmt, json_strings)
{
    cr_expect_str_eq(f("%pJ", "a\"b\\c\nd\te\x01"), "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
    cr_expect_str_eq(f("%pJ", (char *)NULL), "\"\"");
}

Test(fmt, sizes)
{
    char buf[64];
    struct fmtbuf fb;
    const struct {
        uint64_t v;
        const char *s;
    } c[] = {{100, "100 B"}, {1024, "1.0 KiB"}, {536870912, "512.0 MiB"}, {253671424, "241.9 MiB"},
             {32212254720ull, "30.0 GiB"}};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        fb_init_str(&fb, buf, sizeof buf);
        fb_size(&fb, c[i].v);
        cr_expect_str_eq(fb_cstr(&fb), c[i].s);
    }
    fb_init_str(&fb, buf, sizeof buf);
    fb_ssize(&fb, -2048);
    cr_expect_str_eq(fb_cstr(&fb), "-2.0 KiB");
}

Test(fmt, truncation_is_safe)
{
    char buf[8];
    struct fmtbuf fb;
    fb_init_str(&fb, buf, sizeof buf);
    fb_puts(&fb, "0123456789abcdef");
    cr_expect(fb.truncated);
    cr_expect_str_eq(fb_cstr(&fb), "0123456");
    char small[16];
    cr_expect_eq(osh_snprintf(small, sizeof small, "%s-%d", "abcdefghijkl", 12345), 15);
    cr_expect_str_eq(small, "abcdefghijkl-12");
}

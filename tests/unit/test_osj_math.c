/* The private jemalloc's exp, log and round (shim/osj_math.c) against libm. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>

double osj_round(double x);
double osj_exp(double x);
double osj_log(double x);

static double rel(double a, double b)
{
    if (a == b) return 0;
    return fabs(a - b) / fmax(fabs(b), 1e-300);
}

Test(osj_math, round_matches_libm)
{
    const double xs[] = {0.0, -0.0, 0.3, -0.3, 0.5, -0.5, 1.5, -1.5, 2.5, 2.4999999999999996, 1e15 + 0.5,
                         4503599627370495.5, 9007199254740993.0, -7.5, 1e300, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        double a = osj_round(xs[i]), b = round(xs[i]);
        cr_expect(a == b && signbit(a) == signbit(b), "round(%.17g): %.17g, libm %.17g", xs[i], a, b);
    }
    cr_expect(isnan(osj_round(NAN)));
}

Test(osj_math, exp_and_log_within_a_few_ulp)
{
    uint64_t s = 88172645463325252ull;
    for (int i = 0; i < 200000; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        double x = ((double)(s >> 11) / 9007199254740992.0) * 1400.0 - 700.0; /* [-700, 700) */
        cr_assert_leq(rel(osj_exp(x), exp(x)), 4e-15, "exp(%.17g): %.17g, libm %.17g", x, osj_exp(x), exp(x));
        double y = ldexp((double)(s >> 11) / 9007199254740992.0 + 0.5, (int)(s % 2000) - 1000);
        cr_assert_leq(rel(osj_log(y), log(y)), 4e-15, "log(%.17g): %.17g, libm %.17g", y, osj_log(y), log(y));
    }
}

Test(osj_math, edges)
{
    cr_expect(osj_exp(800) == INFINITY);
    cr_expect(osj_exp(-800) == 0.0);
    cr_expect(osj_exp(0) == 1.0);
    cr_expect(isnan(osj_exp(NAN)));
    cr_expect(osj_log(1.0) == 0.0);
    cr_expect(osj_log(0.0) == -INFINITY);
    cr_expect(isnan(osj_log(-1.0)));
    cr_expect(osj_log(INFINITY) == INFINITY);
    cr_expect(rel(osj_log(5e-324), log(5e-324)) < 4e-15, "denormal");
}

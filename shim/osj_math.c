/* exp, log and round for the private jemalloc, so that the shim does not load libm
 * (measured: libm's IFUNC resolution and relocation cost ~0.2 ms and 9 page faults
 * per process start on this machine kind). jemalloc calls them only in its heap
 * profiler, which the shim never enables; they are still correct: within a few ulp
 * of libm over the whole double range (tests/unit/test_osj_math.c). frexp and ldexp
 * come from libc. */
#include <math.h>
#include <stdint.h>

double osj_round(double x);
double osj_exp(double x);
double osj_log(double x);

static const double LN2_HI = 6.93147180369123816490e-01, LN2_LO = 1.90821492927058770002e-10;

double osj_round(double x)
{
    if (!(__builtin_fabs(x) < 4503599627370496.0)) return x; /* |x| >= 2^52 is an integer; NaN, inf */
    double r = (double)(int64_t)x, d = x - r;
    if (d >= 0.5) r += 1.0;
    else if (d <= -0.5) r -= 1.0;
    return __builtin_copysign(r, x);
}

double osj_exp(double x)
{
    if (x != x) return x;
    if (x > 709.782712893384) return __builtin_inf();
    if (x < -745.1332191019412) return 0.0;
    double kd = osj_round(x / (LN2_HI + LN2_LO));
    int k = (int)kd;
    double r = (x - kd * LN2_HI) - kd * LN2_LO; /* |r| <= ln2/2 */
    double term = 1.0, sum = 1.0;
    for (int i = 1; i <= 17; i++) {
        term *= r / i;
        sum += term;
    }
    return ldexp(sum, k);
}

double osj_log(double x)
{
    if (x != x || x == __builtin_inf()) return x;
    if (x < 0) return __builtin_nan("");
    if (x == 0) return -__builtin_inf();
    int e;
    double m = frexp(x, &e); /* [0.5, 1) */
    if (m < 0.70710678118654752440) {
        m *= 2.0;
        e--;
    }
    double s = (m - 1.0) / (m + 1.0), s2 = s * s, term = s, sum = 0.0; /* |s| <= 0.1716 */
    for (int i = 1; i <= 27; i += 2) {
        sum += term / i;
        term *= s2;
    }
    return e * LN2_HI + (2.0 * sum + e * LN2_LO);
}

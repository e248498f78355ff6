/* Vectorisable exp, expm1, log and log1p for the kernels' elementwise loops.
 *
 * Every function here is `static inline`, branch-free (special cases are
 * selects, which GCC turns into blends) and uses only +, -, *, /, compares,
 * and integer adds/shifts on the bits of its argument: GCC vectorises the
 * loops that call them (SSE2 in the baseline build, AVX2 / AVX-512 in the
 * variants) without any vector maths library, so the extension needs no libm
 * symbol newer than glibc 2.2.5 and no libmvec (glibc >= 2.35).
 *
 * Methods (the classic ones of fdlibm / musl):
 * - exp, expm1: x = n ln2 + r with n = round(x / ln2), |r| <= ln2 / 2 (Cody-
 *   Waite: ln2 split in a short high part, so n * ln2_hi is exact, and a low
 *   part); expm1(r) = r + r^2 (1/2 + r/6 + ...), Taylor to degree 13 (double)
 *   or 8 (float), whose truncation error is below 0.02 ulp; exp(x) =
 *   2^n (1 + expm1(r)), with 2^n applied as two powers of two so that results
 *   that overflow or are subnormal round once; expm1(x) = 2^n expm1(r) +
 *   (2^n - 1) while 2^n - 1 matters, 2^n (1 + expm1(r)) beyond.
 * - log, log1p: x = 2^k m with m in [sqrt(2)/2, sqrt(2)), f = m - 1,
 *   s = f / (2 + f), log(m) = f - f^2/2 + s (f^2/2 + R(s^2)) with fdlibm's
 *   minimax R; log1p adds the rounding error of u = 1 + x back as c = (1 + x
 *   - u) / u.  Subnormal arguments of log are scaled by 2^54 (2^25) first.
 *
 * Accuracy, measured against NumPy over the whole range (tests/test_vmath.py
 * checks these bounds on ~10^6 points per function and dtype, spread over
 * every binade, plus the edge cases 0, -0, +-tiny, subnormals, huge, +-inf,
 * nan and the overflow / underflow thresholds, which give exactly NumPy's
 * result):
 *
 *                    float64    float32
 *   snf_exp          <= 1 ulp   <= 1 ulp
 *   snf_expm1        <= 2 ulp   <= 2 ulp
 *   snf_log          <= 1 ulp   <= 1 ulp
 *   snf_log1p        <= 2 ulp   <= 2 ulp
 *
 * (ulp: the spacing of the dtype at NumPy's result; on the subnormal range,
 * the spacing of the smallest normal number.)  Rounding mode: to nearest;
 * the build passes -ffp-contract=off, so no multiply-add is fused and every
 * variant rounds alike.
 *
 * With SNF_LIBM defined (SHALLOWNET_FAST_VMATH=0 at build time) the functions
 * are libm's instead: scalar loops, and symbols of the build machine's glibc.
 */
#ifndef SNF_VMATH_H
#define SNF_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* The kernels' one pow (Adam's bias correction, once a step) links pow's
 * original version, not the one glibc 2.29 added (same results; the new one
 * only skips the errno wrapper), so the extension keeps the manylinux_2_28 tag. */
#if defined(__GLIBC__) && defined(__x86_64__) && !defined(SNF_LIBM)
__asm__(".symver pow,pow@GLIBC_2.2.5");
#endif

#ifdef SNF_LIBM

static inline double snf_exp(double x) { return exp(x); }
static inline float snf_expf(float x) { return expf(x); }
static inline double snf_expm1(double x) { return expm1(x); }
static inline float snf_expm1f(float x) { return expm1f(x); }
static inline double snf_log(double x) { return log(x); }
static inline float snf_logf(float x) { return logf(x); }
static inline double snf_log1p(double x) { return log1p(x); }
static inline float snf_log1pf(float x) { return log1pf(x); }

#else

/* c + a b, fused where the instruction set has FMA (the AVX2 and AVX-512
 * variants): the polynomials then cost half the operations.  Only the
 * polynomials use it; the kernels' own arithmetic stays unfused. */
#if defined(__FMA__) && defined(__GNUC__)
#define SNF_MADD(a, b, c) __builtin_fma((a), (b), (c))
#define SNF_MADDF(a, b, c) __builtin_fmaf((a), (b), (c))
#else
#define SNF_MADD(a, b, c) ((a) * (b) + (c))
#define SNF_MADDF(a, b, c) ((a) * (b) + (c))
#endif

/* ------------------------------------------------------------ bits */

static inline uint64_t snf_bits(double x) { uint64_t u; memcpy(&u, &x, sizeof u); return u; }
static inline double snf_from_bits(uint64_t u) { double x; memcpy(&x, &u, sizeof x); return x; }
static inline uint32_t snf_bitsf(float x) { uint32_t u; memcpy(&u, &x, sizeof u); return u; }
static inline float snf_from_bitsf(uint32_t u) { float x; memcpy(&x, &u, sizeof x); return x; }

/* Adding SHIFT rounds a value below 2^51 (2^22) to an integer, which lands in
 * the low bits of the sum's mantissa (offset by 2^51, 2^22). */
#define SNF_SHIFT 0x1.8p52
#define SNF_SHIFTF 0x1.8p23f

/* round(x) for |x| < 2^51, as a double. */
static inline double snf_round(double x) { return (x + SNF_SHIFT) - SNF_SHIFT; }
static inline float snf_roundf(float x) { return (x + SNF_SHIFTF) - SNF_SHIFTF; }

/* 2^k for an integer-valued k in [-1022, 1023] ([-126, 127] for float). */
static inline double snf_pow2(double k) { return snf_from_bits((snf_bits(k + SNF_SHIFT) + 1023) << 52); }
static inline float snf_pow2f(float k) { return snf_from_bitsf((snf_bitsf(k + SNF_SHIFTF) + 127) << 23); }

/* ------------------------------------------------------------ exp, expm1 */

#define SNF_INV_LN2 0x1.71547652b82fep0
#define SNF_LN2_HI 6.93147180369123816490e-01 /* 32 significant bits */
#define SNF_LN2_LO 1.90821492927058770002e-10
#define SNF_INV_LN2F 0x1.715476p0f
#define SNF_LN2_HIF 6.9314575195e-01f /* 15 significant bits */
#define SNF_LN2_LOF 1.4286067653e-06f

/* expm1(r) for |r| <= ln2/2 (+ rounding): Taylor to degree 13 (the next term is below 2e-17 r). */
static inline double snf_expm1_reduced(double r)
{
    double p = 1.0 / 6227020800.0;            /* 1/13! */
    p = SNF_MADD(r, p, 1.0 / 479001600.0);    /* 1/12! */
    p = SNF_MADD(r, p, 1.0 / 39916800.0);
    p = SNF_MADD(r, p, 1.0 / 3628800.0);
    p = SNF_MADD(r, p, 1.0 / 362880.0);
    p = SNF_MADD(r, p, 1.0 / 40320.0);
    p = SNF_MADD(r, p, 1.0 / 5040.0);
    p = SNF_MADD(r, p, 1.0 / 720.0);
    p = SNF_MADD(r, p, 1.0 / 120.0);
    p = SNF_MADD(r, p, 1.0 / 24.0);
    p = SNF_MADD(r, p, 1.0 / 6.0);
    p = SNF_MADD(r, p, 0.5);
    return SNF_MADD(r * r, p, r);
}

/* The same to degree 8 (next term below 6e-10 r). */
static inline float snf_expm1_reducedf(float r)
{
    float p = 1.0f / 40320.0f;
    p = SNF_MADDF(r, p, 1.0f / 5040.0f);
    p = SNF_MADDF(r, p, 1.0f / 720.0f);
    p = SNF_MADDF(r, p, 1.0f / 120.0f);
    p = SNF_MADDF(r, p, 1.0f / 24.0f);
    p = SNF_MADDF(r, p, 1.0f / 6.0f);
    p = SNF_MADDF(r, p, 0.5f);
    return SNF_MADDF(r * r, p, r);
}

/* 2^n (1 + e) for integer-valued n in [-1076, 1024]: 2^n as two factors, so
 * that an overflowing or subnormal result is rounded once, at the last product. */
static inline double snf_scale(double n, double e)
{
    double n1 = snf_round(n * 0.5);
    return ((1.0 + e) * snf_pow2(n1)) * snf_pow2(n - n1);
}

static inline float snf_scalef(float n, float e)
{
    float n1 = snf_roundf(n * 0.5f);
    return ((1.0f + e) * snf_pow2f(n1)) * snf_pow2f(n - n1);
}

static inline double snf_exp(double x)
{
    /* Beyond [-746, 710] the result is 0 or inf anyway; a nan stays nan. */
    double xc = x < -746.0 ? -746.0 : (x > 710.0 ? 710.0 : x);
    double n = snf_round(xc * SNF_INV_LN2);
    double r = (xc - n * SNF_LN2_HI) - n * SNF_LN2_LO;
    return snf_scale(n, snf_expm1_reduced(r));
}

static inline float snf_expf(float x)
{
    float xc = x < -104.0f ? -104.0f : (x > 89.0f ? 89.0f : x);
    float n = snf_roundf(xc * SNF_INV_LN2F);
    float r = (xc - n * SNF_LN2_HIF) - n * SNF_LN2_LOF;
    return snf_scalef(n, snf_expm1_reducedf(r));
}

static inline double snf_expm1(double x)
{
    /* Below -60, expm1 is -1 to the last bit. */
    double xc = x < -60.0 ? -60.0 : (x > 709.8 ? 709.8 : x);
    double n = snf_round(xc * SNF_INV_LN2);
    double r = (xc - n * SNF_LN2_HI) - n * SNF_LN2_LO;
    /* 2 (s e + (s - 1/2)) with s = 2^(n-1): 2^n e + (2^n - 1) up to n = 1024 */
    double s = snf_pow2(n - 1.0);
    double y = 2.0 * (s * snf_expm1_reduced(r) + (s - 0.5));
    return (x < 0x1p-54 && x > -0x1p-54) ? x : y; /* +-0, subnormals, tiny: x itself */
}

static inline float snf_expm1f(float x)
{
    float xc = x < -30.0f ? -30.0f : (x > 88.8f ? 88.8f : x);
    float n = snf_roundf(xc * SNF_INV_LN2F);
    float r = (xc - n * SNF_LN2_HIF) - n * SNF_LN2_LOF;
    float s = snf_pow2f(n - 1.0f);
    float y = 2.0f * (s * snf_expm1_reducedf(r) + (s - 0.5f));
    return (x < 0x1p-25f && x > -0x1p-25f) ? x : y;
}

/* ------------------------------------------------------------ log, log1p */

/* k ln2 + log(1 + f) + c for f in [sqrt(2)/2 - 1, sqrt(2) - 1) (fdlibm's e_log.c). */
static inline double snf_log_reduced(double f, double k, double c)
{
    const double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01,
                 Lg3 = 2.857142874366239149e-01, Lg4 = 2.222219843214978396e-01,
                 Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
                 Lg7 = 1.479819860511658591e-01;
    double hfsq = 0.5 * f * f;
    double s = f / (2.0 + f);
    double z = s * s;
    double w = z * z;
    double t1 = w * SNF_MADD(w, SNF_MADD(w, Lg6, Lg4), Lg2);
    double t2 = z * SNF_MADD(w, SNF_MADD(w, SNF_MADD(w, Lg7, Lg5), Lg3), Lg1);
    return s * (hfsq + t2 + t1) + (k * SNF_LN2_LO + c) - hfsq + f + k * SNF_LN2_HI;
}

/* The float twin (musl's e_logf.c), with its own split of ln2. */
static inline float snf_log_reducedf(float f, float k, float c)
{
    const float Lg1 = 0xaaaaaa.0p-24f, Lg2 = 0xccce13.0p-25f, Lg3 = 0x91e9ee.0p-25f, Lg4 = 0xf89e26.0p-26f;
    const float ln2_hi = 6.9313812256e-01f, ln2_lo = 9.0580006145e-06f;
    float hfsq = 0.5f * f * f;
    float s = f / (2.0f + f);
    float z = s * s;
    float w = z * z;
    float t1 = w * SNF_MADDF(w, Lg4, Lg2);
    float t2 = z * SNF_MADDF(w, Lg3, Lg1);
    return s * (hfsq + t2 + t1) + (k * ln2_lo + c) - hfsq + f + k * ln2_hi;
}

/* Splits positive, finite, normal x into 2^k (1 + f), 1 + f in [sqrt(2)/2, sqrt(2)). */
static inline double snf_split(double x, double *k)
{
    uint64_t i = snf_bits(x) + ((uint64_t)(0x3ff00000 - 0x3fe6a09e) << 32);
    /* (i >> 52) as a double: put it in the mantissa of 2^52 */
    *k = (snf_from_bits((i >> 52) | 0x4330000000000000ULL) - 0x1p52) - 1023.0;
    return snf_from_bits((i & 0x000fffffffffffffULL) + ((uint64_t)0x3fe6a09e << 32)) - 1.0;
}

static inline float snf_splitf(float x, float *k)
{
    uint32_t i = snf_bitsf(x) + (0x3f800000 - 0x3f3504f3);
    *k = (float)(int32_t)(i >> 23) - 127.0f;
    return snf_from_bitsf((i & 0x007fffff) + 0x3f3504f3) - 1.0f;
}

static inline double snf_log(double x)
{
    int sub = x < 0x1p-1022;
    double k;
    double f = snf_split(sub ? x * 0x1p54 : x, &k);
    double y = snf_log_reduced(f, sub ? k - 54.0 : k, 0.0);
    y = x == INFINITY ? x : y;
    y = x == 0.0 ? -INFINITY : y;
    y = x < 0.0 ? NAN : y;
    return x != x ? x : y;
}

static inline float snf_logf(float x)
{
    int sub = x < 0x1p-126f;
    float k;
    float f = snf_splitf(sub ? x * 0x1p25f : x, &k);
    float y = snf_log_reducedf(f, sub ? k - 25.0f : k, 0.0f);
    y = x == INFINITY ? x : y;
    y = x == 0.0f ? -INFINITY : y;
    y = x < 0.0f ? NAN : y;
    return x != x ? x : y;
}

static inline double snf_log1p(double x)
{
    double u = 1.0 + x; /* >= 2^-53 when x > -1 */
    double k;
    double f = snf_split(u > 0.0 ? u : 1.0, &k);
    /* 1 + x - u: exact as written for k < 2, as 1 - (u - x) beyond; negligible from k = 54 */
    double c = (k >= 2.0 ? 1.0 - (u - x) : x - (u - 1.0)) / u;
    double y = snf_log_reduced(f, k, k >= 54.0 ? 0.0 : c);
    y = x == INFINITY ? x : y;
    y = x == -1.0 ? -INFINITY : y;
    y = x < -1.0 ? NAN : y;
    y = (x < 0x1p-54 && x > -0x1p-54) ? x : y; /* +-0, subnormals, tiny: x itself */
    return x != x ? x : y;
}

static inline float snf_log1pf(float x)
{
    float u = 1.0f + x;
    float k;
    float f = snf_splitf(u > 0.0f ? u : 1.0f, &k);
    float c = (k >= 2.0f ? 1.0f - (u - x) : x - (u - 1.0f)) / u;
    float y = snf_log_reducedf(f, k, k >= 25.0f ? 0.0f : c);
    y = x == INFINITY ? x : y;
    y = x == -1.0f ? -INFINITY : y;
    y = x < -1.0f ? NAN : y;
    y = (x < 0x1p-25f && x > -0x1p-25f) ? x : y;
    return x != x ? x : y;
}

#endif /* SNF_LIBM */

#endif /* SNF_VMATH_H */

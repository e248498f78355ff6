/* Vector math for the kernels' elementwise loops.
 *
 * With SNF_LIBMVEC defined (setup.py defines it after a test compile shows that
 * GCC and glibc's libmvec work together), exp/expm1/log/log1p are re-declared
 * with `simd("notinbranch")`: GCC may then call glibc's vector versions
 * (_ZGVbN2v_exp, ...) from vectorised loops.  This keeps IEEE arithmetic; it
 * needs only -fno-math-errno.  Everywhere else the plain libm functions run.
 */
#ifndef SNF_VMATH_H
#define SNF_VMATH_H

#include <math.h>

#if defined(SNF_LIBMVEC) && defined(__GNUC__) && !defined(__clang__)
#define SNF_SIMD __attribute__((simd("notinbranch")))
SNF_SIMD double exp(double);
SNF_SIMD float expf(float);
SNF_SIMD double log(double);
SNF_SIMD float logf(float);
SNF_SIMD double log1p(double);
SNF_SIMD float log1pf(float);
SNF_SIMD double expm1(double);
SNF_SIMD float expm1f(float);
#endif

#endif

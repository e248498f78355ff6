"""src/_vmath.h's exp, expm1, log, log1p on arrays, compiled with the avx2 flags of setup.py (for tests)."""

include "_vmath_impl.pxi"

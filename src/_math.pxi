# Scalar maths: float/double wrappers over the C maths of _vmath.h (exp,
# expm1, log, log1p, which GCC may vectorise through glibc's libmvec) and
# libc (fabs, copysign, sqrt), the machine epsilon, and the activations: the
# output sigmoid, the hidden g and its derivative g'.

cdef extern from "_vmath.h" nogil:
    double snf_exp(double x)
    float snf_expf(float x)
    double snf_log(double x)
    float snf_logf(float x)
    double snf_log1p(double x)
    float snf_log1pf(float x)
    double snf_expm1(double x)
    float snf_expm1f(float x)


cdef inline floating _exp(floating x) noexcept nogil:
    if floating is float:
        return snf_expf(x)
    else:
        return snf_exp(x)


cdef inline floating _expm1(floating x) noexcept nogil:
    if floating is float:
        return snf_expm1f(x)
    else:
        return snf_expm1(x)


cdef inline floating _abs(floating x) noexcept nogil:
    if floating is float:
        return fabsf(x)
    else:
        return fabs(x)


cdef inline floating _copysign(floating x, floating y) noexcept nogil:
    if floating is float:
        return copysignf(x, y)
    else:
        return copysign(x, y)


cdef inline floating _tanh(floating x) noexcept nogil:
    """tanh(x) = sign(x) * -t / (t + 2), t = expm1(-2|x|): one vector expm1, no overflow.

    Within a few ulp of NumPy's tanh (tests/test_kernels.py measures it), and
    vectorised with the expm1 of src/_vmath.h.
    """
    cdef floating t = _expm1(-2 * _abs(x))
    return _copysign(-t / (t + 2), x)


cdef inline floating _log(floating x) noexcept nogil:
    if floating is float:
        return snf_logf(x)
    else:
        return snf_log(x)


cdef inline floating _log1p(floating x) noexcept nogil:
    if floating is float:
        return snf_log1pf(x)
    else:
        return snf_log1p(x)


cdef inline floating _sqrt(floating x) noexcept nogil:
    if floating is float:
        return sqrtf(x)
    else:
        return sqrt(x)


cdef inline floating _eps(floating x) noexcept nogil:
    if floating is float:
        return FLT_EPSILON
    else:
        return DBL_EPSILON


cdef inline floating _sigmoid(floating z) noexcept nogil:
    """1/(1+e) for z >= 0, e/(1+e) otherwise, e = exp(-|z|): never overflows."""
    cdef floating e = _exp(-_abs(z))
    cdef floating f = 1 if z >= 0 else e
    return f / (1 + e)


cdef inline floating _g(floating z, int act) noexcept nogil:
    """The hidden activation g(z)."""
    if act == TANH:
        return _tanh(z)
    if act == RELU:
        return z if z > 0 else 0
    if act == LEAKY_RELU:
        return z if z > 0 else z * <floating> 0.01
    if act == IDENTITY:
        return z
    return _sigmoid(z)


cdef inline floating _dg(floating a, int act) noexcept nogil:
    """g'(z) written in terms of a = g(z)."""
    if act == TANH:
        return 1 - a * a
    if act == RELU:
        return 1 if a > 0 else 0
    if act == LEAKY_RELU:
        return 1 if a > 0 else <floating> 0.01
    if act == IDENTITY:
        return 1
    return a * (1 - a)

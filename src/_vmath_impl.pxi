# The scalar maths of src/_vmath.h (the kernels' exp, expm1, log, log1p),
# applied to arrays; included by src/_vmath.pyx, _vmath_avx2.pyx and
# _vmath_avx512.pyx, which setup.py compiles with the flags of the kernel
# variant of the same name.  For tests/test_vmath.py, which measures the
# functions' error against NumPy's.  Each loop is the kind the kernels run,
# vectorised by the compiler the same way.

from cython cimport floating

cdef extern from "_vmath.h" nogil:
    double snf_exp(double x)
    float snf_expf(float x)
    double snf_log(double x)
    float snf_logf(float x)
    double snf_log1p(double x)
    float snf_log1pf(float x)
    double snf_expm1(double x)
    float snf_expm1f(float x)

FUNCTIONS = ("exp", "expm1", "log", "log1p")


cdef void _exp(const floating* x, floating* out, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        if floating is float:
            out[i] = snf_expf(x[i])
        else:
            out[i] = snf_exp(x[i])


cdef void _expm1(const floating* x, floating* out, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        if floating is float:
            out[i] = snf_expm1f(x[i])
        else:
            out[i] = snf_expm1(x[i])


cdef void _log(const floating* x, floating* out, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        if floating is float:
            out[i] = snf_logf(x[i])
        else:
            out[i] = snf_log(x[i])


cdef void _log1p(const floating* x, floating* out, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        if floating is float:
            out[i] = snf_log1pf(x[i])
        else:
            out[i] = snf_log1p(x[i])


def apply(str name, const floating[::1] x not None, floating[::1] out not None):
    """out[i] = name(x[i]) for name in FUNCTIONS; x and out of one dtype and length."""
    cdef Py_ssize_t n = x.shape[0]
    if out.shape[0] != n:
        raise ValueError(f"out has length {out.shape[0]}, x has length {n}")
    if n == 0:
        return
    if name == "exp":
        with nogil:
            _exp(&x[0], &out[0], n)
    elif name == "expm1":
        with nogil:
            _expm1(&x[0], &out[0], n)
    elif name == "log":
        with nogil:
            _log(&x[0], &out[0], n)
    elif name == "log1p":
        with nogil:
            _log1p(&x[0], &out[0], n)
    else:
        raise ValueError(f"unknown function {name!r}; choose one of {FUNCTIONS}")

# The kernels of the shallow network, included once per instruction set by
# src/_core.pyx (any x86-64), src/_core_avx2.pyx and src/_core_avx512.pyx;
# setup.py compiles each with its own flags and shallownet_fast/_dispatch.py
# picks one at run time.
#
# Layout:
# - `def` entries take typed memoryviews, each marked # IN, # OUT or
#   # SCRATCH, release the GIL and call the workers.  They trust their
#   arguments: shallownet_fast/fast.py has already checked shapes, dtypes and
#   values, and allocated every output.
# - `cdef ... noexcept nogil` workers below them cannot fail.
# - Every array is C-contiguous and of one dtype (`floating`: float32 or
#   float64, one body, two specialisations).  Matrices are (rows, m) with one
#   example per column, so row sweeps run over contiguous memory.
#
# The formulas are those of shallownet_fast/reference.py, operation for
# operation (a sigmoid that selects 1/(1+e) or e/(1+e) with e = exp(-|z|), a
# softmax shifted by the column maximum, a clipped logarithm in the cost,
# the output delta A2 - Y), so the two implementations agree to rounding.

from cython cimport floating
from libc.float cimport FLT_EPSILON, DBL_EPSILON
from libc.math cimport copysign, copysignf, fabs, fabsf, sqrt, sqrtf
from cpython.exc cimport PyErr_CheckSignals
from cython.parallel cimport parallel, prange, threadid

from _blas cimport gemm

cdef extern from "_vmath.h" nogil:
    double snf_exp(double x)
    float snf_expf(float x)
    double snf_log(double x)
    float snf_logf(float x)
    double snf_log1p(double x)
    float snf_log1pf(float x)
    double snf_expm1(double x)
    float snf_expm1f(float x)

cdef extern from *:
    """
    #ifdef _OPENMP
    #define SNF_OPENMP 1
    #else
    #define SNF_OPENMP 0
    #endif
    #ifndef SNF_DEBUG
    #define SNF_DEBUG 0
    #endif
    """
    int SNF_OPENMP
    int SNF_DEBUG

# Mini-batch solvers of train_epoch.
cdef enum:
    SGD = 0
    ADAM = 1

SOLVER_CODES = {"gd": SGD, "sgd": SGD, "adam": ADAM}

# Hidden activations, numbered in the order of shallownet_fast._validation.ACTIVATIONS.
cdef enum:
    TANH = 0
    RELU = 1
    LEAKY_RELU = 2
    SIGMOID = 3

ACTIVATION_CODES = {"tanh": TANH, "relu": RELU, "leaky_relu": LEAKY_RELU, "sigmoid": SIGMOID}

# When a product W @ X (W of rows x K) runs in BLAS rather than in the loop
# nests here.  Measured with benches/crossover.py on the 2-core machine (AVX-512
# kernels, OpenBLAS 0.3.30 on one thread, m = 400 and 10 000): BLAS is faster
# from K = 4 on, and for K = 2 from 16 rows on; with K = 1 the loops win or tie.
cdef enum:
    _BLAS_MIN_K = 4
    _BLAS_MIN_WORK = 32

BLAS_MIN_K = _BLAS_MIN_K
BLAS_MIN_WORK = _BLAS_MIN_WORK


def openmp_enabled():
    """True when the extension was compiled with OpenMP."""
    return bool(SNF_OPENMP)


def debug_build():
    """True for a debug build (SHALLOWNET_FAST_DEBUG=1: bounds checking on)."""
    return bool(SNF_DEBUG)


# ------------------------------------------------------------ scalar maths

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
    return _sigmoid(z)


cdef inline floating _dg(floating a, int act) noexcept nogil:
    """g'(z) written in terms of a = g(z)."""
    if act == TANH:
        return 1 - a * a
    if act == RELU:
        return 1 if a > 0 else 0
    if act == LEAKY_RELU:
        return 1 if a > 0 else <floating> 0.01
    return a * (1 - a)


# ------------------------------------------------------------ reductions

cdef enum:
    LANES = 16  # partial sums of the reductions below: two AVX-512 vectors of doubles


cdef double _dot(const floating* a, const floating* b, Py_ssize_t n) noexcept nogil:
    """sum(a * b) in double: LANES partial sums (j mod LANES), combined in a fixed order."""
    cdef double acc[LANES]
    cdef Py_ssize_t j, l, n_full = n - n % LANES
    for l in range(LANES):
        acc[l] = 0
    for j in range(0, n_full, 16):  # 16 == LANES (range needs a literal step)
        for l in range(LANES):
            acc[l] += <double> a[j + l] * <double> b[j + l]
    for j in range(n_full, n):
        acc[0] += <double> a[j] * <double> b[j]
    return _combine(acc)


cdef double _sum(const floating* a, Py_ssize_t n) noexcept nogil:
    """sum(a) in double: LANES partial sums, combined in a fixed order."""
    cdef double acc[LANES]
    cdef Py_ssize_t j, l, n_full = n - n % LANES
    for l in range(LANES):
        acc[l] = 0
    for j in range(0, n_full, 16):
        for l in range(LANES):
            acc[l] += a[j + l]
    for j in range(n_full, n):
        acc[0] += a[j]
    return _combine(acc)


cdef inline double _combine(const double* acc) noexcept nogil:
    """The LANES partial sums, pairwise in a fixed order."""
    return ((((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])))
            + (((acc[8] + acc[9]) + (acc[10] + acc[11])) + ((acc[12] + acc[13]) + (acc[14] + acc[15]))))


cdef inline void _add_to(floating* target, double value, bint accumulate) noexcept nogil:
    if accumulate:
        target[0] = target[0] + <floating> value
    else:
        target[0] = <floating> value


# ------------------------------------------------------------ row sweeps

# Each sweep below is written once, as an inline loop over a hidden activation
# `act`, and called with `act` a literal constant, so that the compiler folds
# g and g' to one formula and vectorises every specialisation.

cdef inline void _activate_loop(const floating* z, floating* a, Py_ssize_t n, floating b,
                                int act) noexcept nogil:
    cdef Py_ssize_t j
    for j in range(n):
        a[j] = _g(z[j] + b, act)


# tanh runs in two sweeps: the first holds nothing but the calls to the vector
# expm1 (which clobber every vector register), the second the division, whose
# latency then overlaps from one vector to the next.  Each value is the one
# _tanh gives: with t = expm1(-2|x|) <= 0 kept as s = copysign(t, x),
# -t / (t + 2) is |s| / (2 - |s|), the same two operations.

cdef inline void _tanh_first_sweep(const floating* z, floating* s, Py_ssize_t n,
                                   floating b) noexcept nogil:
    """s := copysign(expm1(-2|z + b|), z + b); s may be z."""
    cdef Py_ssize_t j
    cdef floating x
    for j in range(n):
        x = z[j] + b
        s[j] = _copysign(_expm1(-2 * _abs(x)), x)


cdef inline floating _small_product(const floating* X, Py_ssize_t ldx, const floating* w,
                                   Py_ssize_t j, int K) noexcept nogil:
    """(w @ X)[j] for a row w of K <= 3 weights, summed in _product's order."""
    cdef floating z = w[0] * X[j]
    if K >= 2:
        z = z + w[1] * X[ldx + j]
    if K >= 3:
        z = z + w[2] * X[2 * ldx + j]
    return z


cdef inline void _tanh_first_sweep_product(const floating* X, Py_ssize_t ldx,
                                           const floating* w, floating* s, Py_ssize_t n,
                                           floating b, int K) noexcept nogil:
    """s := the first sweep of tanh on (w @ X) + b, the product (K <= 3) formed on the way."""
    cdef Py_ssize_t j
    cdef floating x
    for j in range(n):
        x = _small_product(X, ldx, w, j, K) + b
        s[j] = _copysign(_expm1(-2 * _abs(x)), x)


cdef inline floating _tanh_finish(floating s) noexcept nogil:
    cdef floating u = _abs(s)
    return _copysign(u / (2 - u), s)


cdef void _activate_row(const floating* z, floating* a, Py_ssize_t n, floating b,
                        int act) noexcept nogil:
    """a := g(z + b) over one row; a may be z."""
    cdef Py_ssize_t j
    if act == TANH:
        _tanh_first_sweep(z, a, n, b)
        for j in range(n):
            a[j] = _tanh_finish(a[j])
    elif act == RELU:
        _activate_loop(z, a, n, b, RELU)
    elif act == LEAKY_RELU:
        _activate_loop(z, a, n, b, LEAKY_RELU)
    else:
        _activate_loop(z, a, n, b, SIGMOID)


cdef inline void _activate_output_loop(const floating* z, floating* a, Py_ssize_t n,
                                       floating b, int act, floating w,
                                       floating* o) noexcept nogil:
    cdef Py_ssize_t j
    cdef floating t
    for j in range(n):
        t = _g(z[j] + b, act)
        a[j] = t
        o[j] = o[j] + w * t


cdef inline void _tanh_output_sweep(floating* a, Py_ssize_t n, floating w,
                                   floating* o) noexcept nogil:
    """a := tanh from the first sweep's a; o += w * a."""
    cdef Py_ssize_t j
    cdef floating t
    for j in range(n):
        t = _tanh_finish(a[j])
        a[j] = t
        o[j] = o[j] + w * t


cdef void _activate_output_row(const floating* z, floating* a, Py_ssize_t n, floating b,
                               int act, floating w, floating* o) noexcept nogil:
    """a := g(z + b); o += w * a (a single output unit); a may be z."""
    cdef Py_ssize_t j
    cdef floating t
    if act == TANH:
        _tanh_first_sweep(z, a, n, b)
        _tanh_output_sweep(a, n, w, o)
    elif act == RELU:
        _activate_output_loop(z, a, n, b, RELU, w, o)
    elif act == LEAKY_RELU:
        _activate_output_loop(z, a, n, b, LEAKY_RELU, w, o)
    else:
        _activate_output_loop(z, a, n, b, SIGMOID, w, o)


cdef inline void _delta_loop(const floating* a, const floating* back, floating* d,
                             Py_ssize_t n, int act) noexcept nogil:
    cdef Py_ssize_t j
    for j in range(n):
        d[j] = back[j] * _dg(a[j], act)


cdef void _delta_row(const floating* a, const floating* back, floating* d, Py_ssize_t n,
                     int act) noexcept nogil:
    """d := back * g'(z) over one row, g' written in terms of a = g(z); d may be a."""
    if act == TANH:
        _delta_loop(a, back, d, n, TANH)
    elif act == RELU:
        _delta_loop(a, back, d, n, RELU)
    elif act == LEAKY_RELU:
        _delta_loop(a, back, d, n, LEAKY_RELU)
    else:
        _delta_loop(a, back, d, n, SIGMOID)


cdef inline void _delta_output_loop(const floating* a, const floating* o, floating* d,
                                    Py_ssize_t n, floating w, int act) noexcept nogil:
    cdef Py_ssize_t j
    for j in range(n):
        d[j] = (w * o[j]) * _dg(a[j], act)


cdef void _delta_output_row(const floating* a, const floating* o, floating* d, Py_ssize_t n,
                            floating w, int act, floating* dw, bint accumulate) noexcept nogil:
    """For a single output unit with delta o and weight w into this hidden unit:
    dw (+)= sum(o * a); d := (w * o) * g'(a).  d may be a.

    Separate sweeps over a row that stays in L1: the elementwise one on its own
    vectorises cleanly, where one sweep carrying the reductions as well did not.
    """
    _add_to(dw, _dot(o, a, n), accumulate)  # before d overwrites a
    if act == TANH:
        _delta_output_loop(a, o, d, n, w, TANH)
    elif act == RELU:
        _delta_output_loop(a, o, d, n, w, RELU)
    elif act == LEAKY_RELU:
        _delta_output_loop(a, o, d, n, w, LEAKY_RELU)
    else:
        _delta_output_loop(a, o, d, n, w, SIGMOID)


cdef inline void _scaled_row(floating w, const floating* x, floating* out, Py_ssize_t n,
                             bint accumulate) noexcept nogil:
    """out := w * x, or out += w * x."""
    cdef Py_ssize_t j
    if accumulate:
        for j in range(n):
            out[j] += w * x[j]
    else:
        for j in range(n):
            out[j] = w * x[j]


# ------------------------------------------------------------ layers

cdef inline bint _use_blas(Py_ssize_t rows, Py_ssize_t K) noexcept nogil:
    return K >= _BLAS_MIN_K or (K >= 2 and rows * K >= _BLAS_MIN_WORK)


def uses_blas(Py_ssize_t rows, Py_ssize_t K):
    """True when a product of a (rows, K) matrix goes to BLAS."""
    return _use_blas(rows, K)


cdef void _product(const floating* W, const floating* X, Py_ssize_t ldx, floating* out,
                   Py_ssize_t ldo, Py_ssize_t rows, Py_ssize_t K, Py_ssize_t n,
                   bint blas) noexcept nogil:
    """out := W @ X; W is rows x K, X is K x n (row stride ldx), out is rows x n (ldo)."""
    cdef Py_ssize_t i, k
    if blas:
        gemm(False, False, <int> rows, <int> n, <int> K, <floating> 1, W, <int> K,
             X, <int> ldx, <floating> 0, out, <int> ldo)
        return
    for i in range(rows):
        for k in range(K):
            _scaled_row(W[i * K + k], X + k * ldx, out + i * ldo, n, k > 0)


cdef void _output_activation(floating* Z, floating* A, Py_ssize_t ld, const floating* b,
                             Py_ssize_t n_y, Py_ssize_t n, floating* tmp) noexcept nogil:
    """Z := Z + b; A := sigmoid(Z) (n_y = 1) or the column softmax of Z; A may be Z.

    Z and A are n_y x n with row stride ld; tmp holds n.
    """
    cdef Py_ssize_t j, k
    cdef floating* z
    cdef floating* a
    for k in range(n_y):
        z = Z + k * ld
        for j in range(n):
            z[j] = z[j] + b[k]
    if n_y == 1:
        for j in range(n):
            A[j] = _sigmoid(Z[j])
        return
    for j in range(n):
        tmp[j] = Z[j]
    for k in range(1, n_y):
        z = Z + k * ld
        for j in range(n):
            tmp[j] = z[j] if z[j] > tmp[j] else tmp[j]
    for k in range(n_y):
        z = Z + k * ld
        a = A + k * ld
        for j in range(n):
            a[j] = _exp(z[j] - tmp[j])
    for j in range(n):
        tmp[j] = A[j]
    for k in range(1, n_y):
        a = A + k * ld
        for j in range(n):
            tmp[j] = tmp[j] + a[j]
    for k in range(n_y):
        a = A + k * ld
        for j in range(n):
            a[j] = a[j] / tmp[j]


cdef void _loss_terms(const floating* A, Py_ssize_t lda, const floating* Y, Py_ssize_t ldy,
                      Py_ssize_t n_y, Py_ssize_t n, floating* tmp) noexcept nogil:
    """tmp[j] := each example's log-likelihood, y log p + (1 - y) log(1 - p) (n_y = 1)
    or sum over k of y log p, with p = A clipped to [eps, 1 - eps]."""
    cdef Py_ssize_t j, k
    cdef floating eps = _eps(A[0])
    cdef floating hi = 1 - eps
    cdef floating p
    cdef const floating* a
    cdef const floating* y
    if n_y == 1:
        for j in range(n):
            p = A[j] if A[j] > eps else eps
            p = p if p < hi else hi
            tmp[j] = Y[j] * _log(p) + (1 - Y[j]) * _log1p(-p)
        return
    for j in range(n):
        tmp[j] = 0
    for k in range(n_y):
        a = A + k * lda
        y = Y + k * ldy
        for j in range(n):
            p = a[j] if a[j] > eps else eps
            p = p if p < hi else hi
            tmp[j] = tmp[j] + y[j] * _log(p)


cdef double _loss_sum(const floating* A, Py_ssize_t lda, const floating* Y, Py_ssize_t ldy,
                      Py_ssize_t n_y, Py_ssize_t n, floating* tmp) noexcept nogil:
    """The sum of the examples' log-likelihoods (see _loss_terms)."""
    _loss_terms(A, lda, Y, ldy, n_y, n, tmp)
    return _sum(tmp, n)


cdef void _hidden_forward(const floating* X, Py_ssize_t ldx, const floating* W1,
                          const floating* b1, const floating* W2, floating* Z1, floating* A1,
                          Py_ssize_t ldh, floating* O, Py_ssize_t ldo, Py_ssize_t n_x,
                          Py_ssize_t n_h, Py_ssize_t n_y, Py_ssize_t n, int act) noexcept nogil:
    """Z1 := W1 @ X + b1 (when Z1 is not A1); A1 := g(W1 @ X + b1); O := W2 @ A1.

    X is n_x x n (row stride ldx); Z1 and A1 n_h x n (ldh); O n_y x n (ldo).
    With Z1 == A1 the hidden layer is computed in place and Z1 is not kept.
    Each hidden row is added into O while it is still in cache.
    """
    cdef Py_ssize_t i, j, k
    cdef floating* a
    cdef floating* z
    cdef bint blas = _use_blas(n_h, n_x)
    if Z1 == A1 and n_y == 1 and act == TANH and not blas and n_x <= 3:
        # the small product is formed inside tanh's first sweep
        for j in range(n):
            O[j] = 0
        for i in range(n_h):
            a = A1 + i * ldh
            if n_x == 1:
                _tanh_first_sweep_product(X, ldx, W1 + i * n_x, a, n, b1[i], 1)
            elif n_x == 2:
                _tanh_first_sweep_product(X, ldx, W1 + i * n_x, a, n, b1[i], 2)
            else:
                _tanh_first_sweep_product(X, ldx, W1 + i * n_x, a, n, b1[i], 3)
            _tanh_output_sweep(a, n, W2[i], O)
        return
    _product(W1, X, ldx, Z1, ldh, n_h, n_x, n, blas)
    if Z1 == A1 and n_y == 1:
        for j in range(n):
            O[j] = 0
        for i in range(n_h):
            a = A1 + i * ldh
            _activate_output_row(a, a, n, b1[i], act, W2[i], O)
        return
    for i in range(n_h):
        a = A1 + i * ldh
        if Z1 == A1:
            _activate_row(a, a, n, b1[i], act)
        else:
            z = Z1 + i * ldh
            for j in range(n):
                z[j] = z[j] + b1[i]
            _activate_row(z, a, n, 0, act)
        for k in range(n_y):
            _scaled_row(W2[k * n_h + i], a, O + k * ldo, n, i > 0)


cdef void _hidden_backward(const floating* X, Py_ssize_t ldx, const floating* W2,
                           const floating* A1, const floating* D2, Py_ssize_t ldd2,
                           floating* D1, Py_ssize_t ldh, floating* dW1, floating* db1,
                           floating* dW2, floating* tmp, Py_ssize_t n_x, Py_ssize_t n_h,
                           Py_ssize_t n_y, Py_ssize_t n, int act,
                           bint accumulate) noexcept nogil:
    """Gradient sums (not yet divided by m) from the output delta D2 = A2 - Y.

    dW2 (+)= D2 @ A1.T, D1 := (W2.T @ D2) * g'(A1), db1 (+)= D1.sum(1), dW1 (+)= D1 @ X.T,
    adding to the sums when `accumulate` (the later column blocks of one pass).
    X is n_x x n (row stride ldx); A1 and D1 n_h x n (ldh); D2 n_y x n (ldd2).
    D1 may be A1: each row of A1 is read for dW2 and g' before it is overwritten.
    """
    cdef Py_ssize_t i, k
    cdef const floating* a
    cdef floating* d
    cdef bint blas = _use_blas(n_h, n_x)
    for i in range(n_h):
        a = A1 + i * ldh
        d = D1 + i * ldh
        if n_y == 1:
            _delta_output_row(a, D2, d, n, W2[i], act, &dW2[i], accumulate)
        else:
            for k in range(n_y):
                _add_to(&dW2[k * n_h + i], _dot(D2 + k * ldd2, a, n), accumulate)
            for k in range(n_y):
                _scaled_row(W2[k * n_h + i], D2 + k * ldd2, tmp, n, k > 0)
            _delta_row(a, tmp, d, n, act)
        _add_to(&db1[i], _sum(d, n), accumulate)
        if not blas:
            for k in range(n_x):
                _add_to(&dW1[i * n_x + k], _dot(d, X + k * ldx, n), accumulate)
    if blas:
        gemm(False, True, <int> n_h, <int> n_x, <int> n, <floating> 1, D1, <int> ldh,
             X, <int> ldx, <floating> (1 if accumulate else 0), dW1, <int> n_x)


cdef void _output_delta(floating* O, Py_ssize_t ldo, const floating* Y, Py_ssize_t ldy,
                        const floating* w, floating* db2, Py_ssize_t n_y, Py_ssize_t n,
                        bint accumulate) noexcept nogil:
    """O := O - Y (the output delta A2 - Y), times each example's weight w[j] when w is
    not NULL; db2 (+)= its row sums."""
    cdef Py_ssize_t j, k
    cdef floating* o
    cdef const floating* y
    for k in range(n_y):
        o = O + k * ldo
        y = Y + k * ldy
        if w == NULL:
            for j in range(n):
                o[j] = o[j] - y[j]
        else:
            for j in range(n):
                o[j] = (o[j] - y[j]) * w[j]
        _add_to(&db2[k], _sum(o, n), accumulate)


cdef void _sigmoid_delta(floating* O, floating b, const floating* Y, Py_ssize_t n,
                         floating* db2, bint accumulate) noexcept nogil:
    """O := sigmoid(O + b) - Y; db2 (+)= its sum: _output_activation and _output_delta
    in one sweep, for a single output unit when the cost is not wanted."""
    cdef Py_ssize_t j
    for j in range(n):
        O[j] = _sigmoid(O[j] + b) - Y[j]
    _add_to(db2, _sum(O, n), accumulate)


cdef void _divide(floating* a, Py_ssize_t n, floating m) noexcept nogil:
    cdef Py_ssize_t j
    for j in range(n):
        a[j] = a[j] / m


cdef void _descend(floating* p, const floating* g, Py_ssize_t n, floating lr,
                   floating m) noexcept nogil:
    """p := p - lr * (g / m)."""
    cdef Py_ssize_t j
    for j in range(n):
        p[j] = p[j] - lr * (g[j] / m)


cdef void _descend_all(floating* W1, floating* b1, floating* W2, floating* b2,
                       const floating* G, Py_ssize_t n_x, Py_ssize_t n_h, Py_ssize_t n_y,
                       floating lr, floating m) noexcept nogil:
    """Each parameter := itself - lr * (its gradient sums / m), G = [dW1 | db1 | dW2 | db2]."""
    _descend(W1, G, n_h * n_x, lr, m)
    _descend(b1, G + n_h * n_x, n_h, lr, m)
    _descend(W2, G + n_h * n_x + n_h, n_y * n_h, lr, m)
    _descend(b2, G + n_h * n_x + n_h + n_y * n_h, n_y, lr, m)


# ------------------------------------------------------------ entries

def forward(const floating[:, ::1] X not None,     # IN  (n_x, m)
            const floating[:, ::1] W1 not None,    # IN  (n_h, n_x)
            const floating[::1] b1 not None,       # IN  (n_h,)
            const floating[:, ::1] W2 not None,    # IN  (n_y, n_h)
            const floating[::1] b2 not None,       # IN  (n_y,)
            int act,
            floating[:, ::1] Z1 not None,          # OUT (n_h, m)
            floating[:, ::1] A1 not None,          # OUT (n_h, m)
            floating[:, ::1] Z2 not None,          # OUT (n_y, m)
            floating[:, ::1] A2 not None,          # OUT (n_y, m)
            floating[::1] tmp not None):           # SCRATCH (m,)
    """Z1 := W1 @ X + b1; A1 := g(Z1); Z2 := W2 @ A1 + b2; A2 := sigmoid or softmax(Z2)."""
    cdef Py_ssize_t n_x = X.shape[0], m = X.shape[1], n_h = W1.shape[0], n_y = W2.shape[0]
    if m == 0:
        return
    with nogil:
        _hidden_forward(&X[0, 0], m, &W1[0, 0], &b1[0], &W2[0, 0], &Z1[0, 0], &A1[0, 0], m,
                        &Z2[0, 0], m, n_x, n_h, n_y, m, act)
        _output_activation(&Z2[0, 0], &A2[0, 0], m, &b2[0], n_y, m, &tmp[0])


def cost(const floating[:, ::1] A2 not None,       # IN  (n_y, m), m >= 1
         const floating[:, ::1] Y not None,        # IN  (n_y, m)
         floating[::1] tmp not None):              # SCRATCH (m,)
    """-mean(Y log A2 + (1 - Y) log(1 - A2)), or -mean(sum(Y log A2)) for n_y > 1."""
    cdef Py_ssize_t m = A2.shape[1]
    cdef double total
    with nogil:
        total = _loss_sum(&A2[0, 0], m, &Y[0, 0], m, A2.shape[0], m, &tmp[0])
    return -total / m


def backward(const floating[:, ::1] X not None,    # IN  (n_x, m), m >= 1
             const floating[:, ::1] Y not None,    # IN  (n_y, m)
             const floating[:, ::1] W2 not None,   # IN  (n_y, n_h)
             const floating[:, ::1] A1 not None,   # IN  (n_h, m)
             const floating[:, ::1] A2 not None,   # IN  (n_y, m)
             int act,
             floating[:, ::1] dW1 not None,        # OUT (n_h, n_x)
             floating[::1] db1 not None,           # OUT (n_h,)
             floating[:, ::1] dW2 not None,        # OUT (n_y, n_h)
             floating[::1] db2 not None,           # OUT (n_y,)
             floating[:, ::1] D2 not None,         # SCRATCH (n_y, m)
             floating[:, ::1] D1 not None,         # SCRATCH (n_h, m)
             floating[::1] tmp not None):          # SCRATCH (m,)
    """dZ2 := A2 - Y; dW2 := dZ2 @ A1.T / m; dZ1 := (W2.T @ dZ2) * g'(A1); dW1 := dZ1 @ X.T / m."""
    cdef Py_ssize_t n_x = X.shape[0], m = X.shape[1], n_h = W2.shape[1], n_y = W2.shape[0]
    cdef floating fm = <floating> m
    cdef Py_ssize_t j, k
    with nogil:
        for k in range(n_y):
            for j in range(m):
                D2[k, j] = A2[k, j]
        _output_delta(&D2[0, 0], m, &Y[0, 0], m, NULL, &db2[0], n_y, m, False)
        _hidden_backward(&X[0, 0], m, &W2[0, 0], &A1[0, 0], &D2[0, 0], m, &D1[0, 0], m,
                         &dW1[0, 0], &db1[0], &dW2[0, 0], &tmp[0], n_x, n_h, n_y, m, act, False)
        _divide(&dW1[0, 0], n_h * n_x, fm)
        _divide(&db1[0], n_h, fm)
        _divide(&dW2[0, 0], n_y * n_h, fm)
        _divide(&db2[0], n_y, fm)


def predict_proba(const floating[:, ::1] X not None,   # IN  (n_x, m)
                  const floating[:, ::1] W1 not None,  # IN  (n_h, n_x)
                  const floating[::1] b1 not None,     # IN  (n_h,)
                  const floating[:, ::1] W2 not None,  # IN  (n_y, n_h)
                  const floating[::1] b2 not None,     # IN  (n_y,)
                  int act,
                  floating[:, ::1] A2 not None,        # OUT (n_y, m)
                  floating[:, ::1] H not None):        # SCRATCH (n_h + 1, block): A1, then a row for softmax
    """A2 := output(W2 @ g(W1 @ X + b1) + b2), block of columns by block of columns.

    One scratch argument (not two) keeps the call short for a few examples.
    """
    cdef Py_ssize_t n_x = X.shape[0], m = X.shape[1], n_h = W1.shape[0], n_y = W2.shape[0]
    cdef Py_ssize_t block = H.shape[1], j0, n
    with nogil:
        j0 = 0
        while j0 < m:
            n = min(block, m - j0)
            _hidden_forward(&X[0, j0], m, &W1[0, 0], &b1[0], &W2[0, 0], &H[0, 0], &H[0, 0], block,
                            &A2[0, j0], m, n_x, n_h, n_y, n, act)
            _output_activation(&A2[0, j0], &A2[0, j0], m, &b2[0], n_y, n, &H[n_h, 0])
            j0 += block


cdef double _block_pass(const floating* X, const floating* Y, Py_ssize_t m, Py_ssize_t j0,
                        Py_ssize_t n, const floating* W1, const floating* b1,
                        const floating* W2, const floating* b2, int act, bint want_cost,
                        floating* H, floating* D, floating* O, floating* tmp, floating* G,
                        Py_ssize_t n_x, Py_ssize_t n_h, Py_ssize_t n_y,
                        bint accumulate) noexcept nogil:
    """Forward and backward over the columns j0 .. j0 + n - 1 of X and Y (row stride m).

    The gradient sums go into G = [dW1 | db1 | dW2 | db2] (added to it when
    `accumulate`); returns the columns' log-likelihood sum when want_cost, else 0.
    H, D (n_h x n), O (n_y x n) and tmp (n) are the block's scratch.
    """
    cdef floating* dW1 = G
    cdef floating* db1 = G + n_h * n_x
    cdef floating* dW2 = db1 + n_h
    cdef floating* db2 = dW2 + n_y * n_h
    cdef double total = 0
    # forward: H := g(W1 @ X + b1) in place; O := A2
    _hidden_forward(X + j0, m, W1, b1, W2, H, H, n, O, n, n_x, n_h, n_y, n, act)
    if n_y == 1 and not want_cost:
        _sigmoid_delta(O, b2[0], Y + j0, n, db2, accumulate)  # O := A2 - Y in one sweep
    else:
        _output_activation(O, O, n, b2, n_y, n, tmp)
        if want_cost:
            total = _loss_sum(O, n, Y + j0, m, n_y, n, tmp)
        _output_delta(O, n, Y + j0, m, NULL, db2, n_y, n, accumulate)  # O := A2 - Y
    # D := dZ1 (a buffer apart from H: in place, the compiler's aliasing check
    # would fall back to scalar code)
    _hidden_backward(X + j0, m, W2, H, O, n, D, n, dW1, db1, dW2, tmp, n_x, n_h, n_y, n, act,
                     accumulate)
    return total


def train(const floating[:, ::1] X not None,   # IN  (n_x, m), m >= 1
          const floating[:, ::1] Y not None,   # IN  (n_y, m)
          floating[:, ::1] W1 not None,        # IN/OUT (n_h, n_x)
          floating[::1] b1 not None,           # IN/OUT (n_h,)
          floating[:, ::1] W2 not None,        # IN/OUT (n_y, n_h)
          floating[::1] b2 not None,           # IN/OUT (n_y,)
          int act,
          double learning_rate,
          Py_ssize_t first,
          Py_ssize_t count,
          Py_ssize_t cost_every,
          double[::1] costs not None,          # OUT (count,) when cost_every > 0
          floating[:, :, ::1] H not None,      # SCRATCH (threads, n_h, block): A1
          floating[:, :, ::1] D not None,      # SCRATCH (threads, n_h, block): dZ1
          floating[:, :, ::1] O not None,      # SCRATCH (threads, n_y, block)
          floating[:, ::1] tmp not None,       # SCRATCH (threads, block)
          floating[:, ::1] G not None,         # SCRATCH (threads, n_h n_x + n_h + n_y n_h + n_y): gradient sums
          double[::1] loss not None,           # SCRATCH (threads,)
          Py_ssize_t signal_every=0):
    """Iterations first .. first + count - 1 of full-batch gradient descent, in place.

    Each: forward, the cost into costs[i - first] when i % cost_every == 0
    (taken before the update), backward, W := W - learning_rate * dW.  The
    examples are processed in column blocks of H.shape[2], so that a block's
    hidden layer stays in cache from the forward pass to the backward pass.

    With one thread (H.shape[0] == 1) the gradients are summed over the blocks
    in order.  With several, an OpenMP team shares the blocks (a static
    schedule: each thread a fixed run of consecutive blocks, and its own
    scratch and gradient sums) and then the parameters, each the sum of the
    threads' sums in thread order: results are reproducible for a given thread
    count, and differ between thread counts by summation order only.  The
    caller limits BLAS to one thread, so that no BLAS thread competes with the
    team.

    With signal_every > 0 (one thread only), Python's signal handlers run
    after every signal_every blocks (the GIL taken for that moment only), so
    that Ctrl-C interrupts a long call: KeyboardInterrupt propagates, leaving
    the parameters somewhere between two iterations.
    """
    cdef Py_ssize_t n_x = X.shape[0], m = X.shape[1], n_h = W1.shape[0], n_y = W2.shape[0]
    cdef Py_ssize_t threads = H.shape[0], block = H.shape[2], it, j0, n, blocks = 0
    cdef Py_ssize_t n_blocks = (m + block - 1) // block, b, t
    cdef Py_ssize_t p, q, p_end = n_h * n_x + n_h + n_y * n_h + n_y
    cdef floating lr = <floating> learning_rate
    cdef floating fm = <floating> m
    cdef floating g
    cdef double total
    cdef bint want_cost
    cdef floating* pW1 = &W1[0, 0]
    cdef floating* pb1 = &b1[0]
    cdef floating* pW2 = &W2[0, 0]
    cdef floating* pb2 = &b2[0]
    if threads == 1:
        with nogil:
            for it in range(first, first + count):
                want_cost = cost_every > 0 and it % cost_every == 0
                total = 0
                j0 = 0
                while j0 < m:
                    n = min(block, m - j0)
                    total += _block_pass(&X[0, 0], &Y[0, 0], m, j0, n, pW1, pb1, pW2, pb2, act,
                                         want_cost, &H[0, 0, 0], &D[0, 0, 0], &O[0, 0, 0],
                                         &tmp[0, 0], &G[0, 0], n_x, n_h, n_y, j0 > 0)
                    j0 += block
                    blocks += 1
                    if signal_every > 0 and blocks >= signal_every:
                        blocks = 0
                        with gil:
                            PyErr_CheckSignals()
                if want_cost:
                    costs[it - first] = -total / m
                _descend_all(pW1, pb1, pW2, pb2, &G[0, 0], n_x, n_h, n_y, lr, fm)
        return
    it, want_cost = first, False  # (private in the team; set here for the compiler's sake)
    with nogil:
        for t in range(threads):
            loss[t] = 0
            for p in range(p_end):
                G[t, p] = 0
        with parallel(num_threads=threads):
            for it in range(first, first + count):
                want_cost = cost_every > 0 and it % cost_every == 0
                for b in prange(n_blocks, schedule="static"):
                    t = threadid()
                    j0 = b * block
                    loss[t] += _block_pass(&X[0, 0], &Y[0, 0], m, j0, min(block, m - j0), pW1, pb1,
                                           pW2, pb2, act, want_cost, &H[t, 0, 0], &D[t, 0, 0],
                                           &O[t, 0, 0], &tmp[t, 0], &G[t, 0], n_x, n_h, n_y, True)
                # (every block done: prange ends with a barrier) the threads' sums,
                # in thread order, into G[0]
                for p in prange(p_end, schedule="static"):
                    g = G[0, p]
                    for t in range(1, threads):
                        g = g + G[t, p]
                        G[t, p] = 0
                    G[0, p] = g
                for b in prange(1, schedule="static"):  # one thread: the update, and the cost
                    _descend_all(pW1, pb1, pW2, pb2, &G[0, 0], n_x, n_h, n_y, lr, fm)
                    for q in range(p_end):
                        G[0, q] = 0
                    if want_cost:
                        total = loss[0]
                        loss[0] = 0
                        for t in range(1, threads):
                            total = total + loss[t]
                            loss[t] = 0
                        costs[it - first] = -total / m


def gemm_check(bint trans_a, bint trans_b,
               const floating[:, ::1] A not None,  # IN  op(A) is (M, K)
               const floating[:, ::1] B not None,  # IN  op(B) is (K, N)
               floating alpha, floating beta,
               floating[:, ::1] C not None):       # IN/OUT (M, N)
    """C := alpha * op(A) @ op(B) + beta * C through the BLAS wrapper (for tests)."""
    cdef int M = C.shape[0], N = C.shape[1]
    cdef int K = A.shape[0] if trans_a else A.shape[1]
    with nogil:
        gemm(trans_a, trans_b, M, N, K, alpha, &A[0, 0], <int> A.shape[1],
             &B[0, 0], <int> B.shape[1], beta, &C[0, 0], N)


def product_check(const floating[:, ::1] W not None,   # IN  (rows, K)
                  const floating[:, ::1] X not None,   # IN  (K, m)
                  floating[:, ::1] out not None,       # OUT (rows, m)
                  bint blas):
    """out := W @ X through BLAS or through the loop nest (for tests and benches/crossover.py)."""
    cdef Py_ssize_t m = X.shape[1]
    with nogil:
        _product(&W[0, 0], &X[0, 0], m, &out[0, 0], m, W.shape[0], W.shape[1], m, blas)


cdef bint _row_finite(const floating* x, Py_ssize_t n) noexcept nogil:
    """True when no x[j] is NaN or infinite: x * 0 is 0 for finite x, NaN otherwise."""
    cdef floating acc[LANES]
    cdef Py_ssize_t j, l, n_full = n - n % LANES
    for l in range(LANES):
        acc[l] = 0
    for j in range(0, n_full, 16):  # 16 == LANES
        for l in range(LANES):
            acc[l] += x[j + l] * 0
    for j in range(n_full, n):
        acc[0] += x[j] * 0
    return _combine_f(acc) == 0


cdef inline floating _combine_f(const floating* acc) noexcept nogil:
    return ((((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])))
            + (((acc[8] + acc[9]) + (acc[10] + acc[11])) + ((acc[12] + acc[13]) + (acc[14] + acc[15]))))


def all_finite(const floating[:, :] a not None):   # IN  any strides
    """True when no element of `a` is NaN or infinite (input validation, no temporary)."""
    cdef bint ok
    with nogil:
        ok = _view_finite(a)
    return ok


def network_finite(const floating[:, :] X not None,    # IN  any strides
                   const floating[:, :] W1 not None,   # IN
                   const floating[:, :] b1 not None,   # IN
                   const floating[:, :] W2 not None,   # IN
                   const floating[:, :] b2 not None):  # IN
    """all_finite of each of X, W1, b1, W2, b2 of one dtype, in one call (prediction latency)."""
    cdef bint ok
    with nogil:
        ok = (_view_finite(X) and _view_finite(W1) and _view_finite(b1) and _view_finite(W2)
              and _view_finite(b2))
    return ok


cdef bint _view_finite(const floating[:, :] a) noexcept nogil:
    cdef Py_ssize_t i, j
    cdef floating x
    if a.shape[1] > 0 and a.strides[1] == sizeof(floating):
        for i in range(a.shape[0]):
            if not _row_finite(&a[i, 0], a.shape[1]):
                return False
        return True
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            x = a[i, j]
            if x - x != 0:
                return False
    return True


# ------------------------------------------------------------ mini-batches

cdef void _gather_columns(const floating* A, Py_ssize_t lda, Py_ssize_t rows,
                          const Py_ssize_t* idx, Py_ssize_t n, floating* out) noexcept nogil:
    """out[r, c] := A[r, idx[c]] for a rows x n out."""
    cdef Py_ssize_t r, c
    cdef const floating* a
    cdef floating* o
    for r in range(rows):
        a = A + r * lda
        o = out + r * n
        for c in range(n):
            o[c] = a[idx[c]]


cdef double _squares(const floating* a, Py_ssize_t n) noexcept nogil:
    return _dot(a, a, n)


cdef void _step(floating* p, const floating* g_sum, Py_ssize_t n, floating* m1, floating* m2,
                floating sw, floating alpha, int solver, floating lr, floating lr_t,
                floating momentum, bint nesterov, floating beta_1, floating beta_2,
                floating epsilon) noexcept nogil:
    """One solver step for one parameter array, its gradient (g_sum + alpha * p) / sw.

    sgd: m1 := momentum * m1 - lr * g; p += momentum * m1 - lr * g (Nesterov) or m1.
    adam: m1 := b1 m1 + (1 - b1) g; m2 := b2 m2 + (1 - b2) g^2; p += -lr_t m1 / (sqrt(m2) + eps).
    """
    cdef Py_ssize_t j
    cdef floating g, vel
    for j in range(n):
        g = (g_sum[j] + alpha * p[j]) / sw
        if solver == ADAM:
            m1[j] = beta_1 * m1[j] + (1 - beta_1) * g
            m2[j] = beta_2 * m2[j] + (1 - beta_2) * (g * g)
            p[j] = p[j] + -(lr_t * m1[j]) / (_sqrt(m2[j]) + epsilon)
        else:
            vel = momentum * m1[j] - lr * g
            m1[j] = vel
            if nesterov:
                p[j] = p[j] + (momentum * vel - lr * g)
            else:
                p[j] = p[j] + vel


def train_epoch(const floating[:, ::1] X not None,     # IN  (n_x, m)
                const floating[:, ::1] Y not None,     # IN  (n_y, m)
                const floating[::1] sw not None,       # IN  (m,) sample weights
                const Py_ssize_t[::1] order not None,  # IN  (m,) permutation, or (0,): natural order
                Py_ssize_t batch_size,
                floating[:, ::1] W1 not None,          # IN/OUT (n_h, n_x)
                floating[::1] b1 not None,             # IN/OUT (n_h,)
                floating[:, ::1] W2 not None,          # IN/OUT (n_y, n_h)
                floating[::1] b2 not None,             # IN/OUT (n_y,)
                floating[:, ::1] mW1 not None,         # IN/OUT first moments / velocities
                floating[::1] mb1 not None,
                floating[:, ::1] mW2 not None,
                floating[::1] mb2 not None,
                floating[:, ::1] vW1 not None,         # IN/OUT second moments (adam)
                floating[::1] vb1 not None,
                floating[:, ::1] vW2 not None,
                floating[::1] vb2 not None,
                long long[::1] t not None,             # IN/OUT (1,) updates so far
                int act, int solver, double learning_rate, double momentum, bint nesterov,
                double beta_1, double beta_2, double epsilon, double alpha,
                floating[:, ::1] Xb not None,          # SCRATCH (n_x, batch_size)
                floating[:, ::1] Yb not None,          # SCRATCH (n_y, batch_size)
                floating[::1] swb not None,            # SCRATCH (batch_size,)
                floating[:, ::1] H not None,           # SCRATCH (n_h, batch_size): A1
                floating[:, ::1] D not None,           # SCRATCH (n_h, batch_size): dZ1, apart from A1 so the sweep vectorises
                floating[:, ::1] O not None,           # SCRATCH (n_y, batch_size)
                floating[::1] tmp not None,            # SCRATCH (batch_size,)
                floating[:, ::1] dW1 not None,         # SCRATCH (n_h, n_x)
                floating[::1] db1 not None,            # SCRATCH (n_h,)
                floating[:, ::1] dW2 not None,         # SCRATCH (n_y, n_h)
                floating[::1] db2 not None,            # SCRATCH (n_y,)
                Py_ssize_t signal_every=0):
    """One epoch of mini-batch training, in place; returns sum over batches of loss_b * len(b).

    For a batch b (columns order[j0:j0 + batch_size]) with weights w, sw = sum(w):
    loss_b = -sum(w * log-likelihood) / sw + alpha / 2 * (|W1|^2 + |W2|^2) / sw;
    the output delta is (A2 - Y) * w; weight gradients are (sums + alpha * W) / sw and
    bias gradients sums / sw, as in scikit-learn's MLP; then one sgd or adam step.
    """
    cdef Py_ssize_t n_x = X.shape[0], m = X.shape[1], n_h = W1.shape[0], n_y = W2.shape[0]
    cdef Py_ssize_t j0 = 0, n, k, batches = 0
    cdef bint shuffled = order.shape[0] > 0
    cdef const floating* xb
    cdef const floating* yb
    cdef const floating* wb
    cdef Py_ssize_t ld
    cdef double total = 0, sw_sum, data, l2
    cdef floating lr = <floating> learning_rate, lr_t = 0, fsw
    cdef floating fa = <floating> alpha, zero = 0
    with nogil:
        while j0 < m:
            n = min(batch_size, m - j0)
            if shuffled:
                _gather_columns(&X[0, 0], m, n_x, &order[j0], n, &Xb[0, 0])
                _gather_columns(&Y[0, 0], m, n_y, &order[j0], n, &Yb[0, 0])
                for k in range(n):
                    swb[k] = sw[order[j0 + k]]
                xb, yb, wb, ld = &Xb[0, 0], &Yb[0, 0], &swb[0], n
            else:
                xb, yb, wb, ld = &X[0, j0], &Y[0, j0], &sw[j0], m
            sw_sum = _sum(wb, n)
            fsw = <floating> sw_sum
            _hidden_forward(xb, ld, &W1[0, 0], &b1[0], &W2[0, 0], &H[0, 0], &H[0, 0], n,
                            &O[0, 0], n, n_x, n_h, n_y, n, act)
            _output_activation(&O[0, 0], &O[0, 0], n, &b2[0], n_y, n, &tmp[0])
            _loss_terms(&O[0, 0], n, yb, ld, n_y, n, &tmp[0])
            data = -_dot(&tmp[0], wb, n) / sw_sum
            l2 = 0.5 * alpha * (_squares(&W1[0, 0], n_h * n_x) + _squares(&W2[0, 0], n_y * n_h)) / sw_sum
            total += (data + l2) * n
            _output_delta(&O[0, 0], n, yb, ld, wb, &db2[0], n_y, n, False)
            _hidden_backward(xb, ld, &W2[0, 0], &H[0, 0], &O[0, 0], n, &D[0, 0], n,
                             &dW1[0, 0], &db1[0], &dW2[0, 0], &tmp[0], n_x, n_h, n_y, n,
                             act, False)
            t[0] += 1
            if solver == ADAM:
                lr_t = <floating> (learning_rate * sqrt(1 - beta_2 ** t[0]) / (1 - beta_1 ** t[0]))
            _step(&W1[0, 0], &dW1[0, 0], n_h * n_x, &mW1[0, 0], &vW1[0, 0], fsw, fa, solver,
                  lr, lr_t, <floating> momentum, nesterov, <floating> beta_1, <floating> beta_2,
                  <floating> epsilon)
            _step(&b1[0], &db1[0], n_h, &mb1[0], &vb1[0], fsw, zero, solver, lr, lr_t,
                  <floating> momentum, nesterov, <floating> beta_1, <floating> beta_2,
                  <floating> epsilon)
            _step(&W2[0, 0], &dW2[0, 0], n_y * n_h, &mW2[0, 0], &vW2[0, 0], fsw, fa, solver,
                  lr, lr_t, <floating> momentum, nesterov, <floating> beta_1, <floating> beta_2,
                  <floating> epsilon)
            _step(&b2[0], &db2[0], n_y, &mb2[0], &vb2[0], fsw, zero, solver, lr, lr_t,
                  <floating> momentum, nesterov, <floating> beta_1, <floating> beta_2,
                  <floating> epsilon)
            j0 += batch_size
            batches += 1
            if signal_every > 0 and batches >= signal_every:
                batches = 0
                with gil:
                    PyErr_CheckSignals()
    return total

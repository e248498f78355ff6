# Checks: the shapes of the entries' arguments (raising ValueError before a
# kernel runs), finiteness of inputs (all_finite, network_finite), and the test
# hooks that reach the BLAS wrapper and the product loops directly
# (gemm_check, product_check).

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
    return _combine(acc) == 0


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

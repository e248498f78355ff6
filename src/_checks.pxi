# Checks: the shapes of the entries' arguments (raising ValueError before a
# kernel runs), finiteness of inputs (all_finite, network_finite), and the test
# hooks that reach the BLAS wrapper and the product loops directly
# (gemm_check, product_check).

cdef bint _row_finite(const floating* x, Py_ssize_t n) noexcept nogil:
    """True when no x[j] is NaN or infinite: x * 0 is 0 for finite x, NaN otherwise."""
    cdef floating acc[LANES]
    cdef Py_ssize_t j, lane, n_full = n - n % LANES
    for lane in range(LANES):
        acc[lane] = 0
    for j in range(0, n_full, 16):  # 16 == LANES
        for lane in range(LANES):
            acc[lane] += x[j + lane] * 0
    for j in range(n_full, n):
        acc[0] += x[j] * 0
    return _combine(acc) == 0


def all_finite(const floating[:, :] a not None):   # IN  any strides
    """True when no element of `a` is NaN or infinite (input validation, no temporary): all(a - a == 0).

    Parameters
    ----------
    a : floating[:, :], any shape and strides
        IN.

    Returns
    -------
    bool
    """
    cdef bint ok
    with nogil:
        ok = _view_finite(a)
    return ok


def network_finite(const floating[:, :] X not None,    # IN  any strides
                   const floating[:, :] W1 not None,   # IN
                   const floating[:, :] b1 not None,   # IN
                   const floating[:, :] W2 not None,   # IN
                   const floating[:, :] b2 not None):  # IN
    """all_finite of each of X, W1, b1, W2, b2 of one dtype, in one call (prediction latency).

    Parameters
    ----------
    X, W1, b1, W2, b2 : floating[:, :], any shapes and strides
        IN: the arrays of a prediction, of one dtype.

    Returns
    -------
    bool
        True when no element of any of them is NaN or infinite.
    """
    cdef bint ok
    with nogil:
        ok = (_view_finite(X) and _view_finite(W1) and _view_finite(b1) and _view_finite(W2)
              and _view_finite(b2))
    return ok


cdef bint _view_finite(const floating[:, :] a) noexcept nogil:
    """True when no a[i, j] is NaN or infinite: rows through _row_finite when contiguous."""
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
    """C := alpha * op(A) @ op(B) + beta * C through the BLAS wrapper (for tests).

    Parameters
    ----------
    trans_a, trans_b : bool
        op(A) is A.T when trans_a, else A; likewise op(B).
    A : floating[:, ::1], op(A) is (M, K), K >= 1
        IN.
    B : floating[:, ::1], op(B) is (K, N)
        IN.
    alpha, beta : float
        The scale factors.
    C : floating[:, ::1], (M, N)
        IN/OUT.

    Returns
    -------
    None

    Raises
    ------
    ValueError
        The shapes of op(A), op(B) and C do not fit a product, or K is 0.
    """
    cdef Py_ssize_t M = C.shape[0], N = C.shape[1]
    cdef Py_ssize_t K = A.shape[0] if trans_a else A.shape[1]
    _check_positive("K, the inner size of op(A) @ op(B) from A", K)
    _check_2d("A", A.shape, K if trans_a else M, M if trans_a else K,
              "op(A) of shape (M, K), M = C.shape[0]")
    _check_2d("B", B.shape, N if trans_b else K, K if trans_b else N,
              "op(B) of shape (K, N), K from A, N = C.shape[1]")
    _need_blas()
    with nogil:
        gemm(trans_a, trans_b, <int> M, <int> N, <int> K, alpha, &A[0, 0], <int> A.shape[1],
             &B[0, 0], <int> B.shape[1], beta, &C[0, 0], <int> N)


def product_check(const floating[:, ::1] W not None,   # IN  (rows, K)
                  const floating[:, ::1] X not None,   # IN  (K, m)
                  floating[:, ::1] out not None,       # OUT (rows, m)
                  bint blas):
    """out := W @ X through BLAS or through the loop nest (for tests and benches/crossover.py).

    Parameters
    ----------
    W : floating[:, ::1], (rows, K), K >= 1
        IN.
    X : floating[:, ::1], (K, m)
        IN.
    out : floating[:, ::1], (rows, m)
        OUT.
    blas : bool
        Through BLAS, or through the loop nest of the kernels.

    Returns
    -------
    None

    Raises
    ------
    ValueError
        The shapes of W, X and out do not fit a product, or K is 0.
    """
    cdef Py_ssize_t m = X.shape[1]
    _check_positive("K = W.shape[1]", W.shape[1])
    _check_2d("X", X.shape, W.shape[1], m, "(K, m), K = W.shape[1]")
    _check_2d("out", out.shape, W.shape[0], m, "(rows, m), rows = W.shape[0], m = X.shape[1]")
    _need_blas()
    with nogil:
        _product(&W[0, 0], &X[0, 0], m, &out[0, 0], m, W.shape[0], W.shape[1], m, blas)


# ------------------------------------------------------------ argument shapes
# Each `def` entry checks, before anything is written, that its buffers'
# shapes agree with the sizes it reads off X and the weights: a buffer too small
# would be read or written past its end.  `rule` says where each expected size
# comes from; only on failure is a message built.

cdef int _check_1d(str name, Py_ssize_t n, Py_ssize_t want, str rule) except -1:
    """Raise ValueError unless the vector `name` has length `want`."""
    if n != want:
        raise ValueError(f"{name} has shape ({n},); expected ({want},) = {rule}")
    return 0


cdef int _check_2d(str name, const Py_ssize_t* shape, Py_ssize_t rows, Py_ssize_t cols,
                   str rule) except -1:
    """Raise ValueError unless the matrix `name` has shape (rows, cols)."""
    if shape[0] != rows or shape[1] != cols:
        raise ValueError(f"{name} has shape ({shape[0]}, {shape[1]}); expected ({rows}, {cols}) = {rule}")
    return 0


cdef int _check_3d(str name, const Py_ssize_t* shape, Py_ssize_t n0, Py_ssize_t n1,
                   Py_ssize_t n2, str rule) except -1:
    """Raise ValueError unless the array `name` has shape (n0, n1, n2)."""
    if shape[0] != n0 or shape[1] != n1 or shape[2] != n2:
        raise ValueError(f"{name} has shape ({shape[0]}, {shape[1]}, {shape[2]}); "
                         f"expected ({n0}, {n1}, {n2}) = {rule}")
    return 0


cdef int _check_positive(str what, Py_ssize_t n) except -1:
    """Raise ValueError unless n >= 1 (a size that a loop steps by, or divides by)."""
    if n < 1:
        raise ValueError(f"{what} is {n}; it must be at least 1")
    return 0


cdef int _check_code(str name, int code, int n_codes, str table) except -1:
    """Raise ValueError unless 0 <= code < n_codes."""
    if code < 0 or code >= n_codes:
        raise ValueError(f"{name} = {code} is none of the codes of {table} (0 to {n_codes - 1})")
    return 0


cdef int _check_like_parameters(str prefix, const Py_ssize_t* W1, Py_ssize_t b1,
                                const Py_ssize_t* W2, Py_ssize_t b2, Py_ssize_t n_x, Py_ssize_t n_h,
                                Py_ssize_t n_y) except -1:
    """prefix + W1, b1, W2, b2 are shaped like the parameters: (n_h, n_x), (n_h,), (n_y, n_h), (n_y,)."""
    if W1[0] != n_h or W1[1] != n_x:
        _check_2d(prefix + "W1", W1, n_h, n_x, "(n_h, n_x), the shape of W1")
    if b1 != n_h:
        _check_1d(prefix + "b1", b1, n_h, "(n_h,), the shape of b1")
    if W2[0] != n_y or W2[1] != n_h:
        _check_2d(prefix + "W2", W2, n_y, n_h, "(n_y, n_h), the shape of W2")
    if b2 != n_y:
        _check_1d(prefix + "b2", b2, n_y, "(n_y,), the shape of b2")
    return 0


cdef Py_ssize_t _first_outside(const Py_ssize_t* idx, Py_ssize_t n,
                               Py_ssize_t m) noexcept nogil:
    """The first j with idx[j] outside [0, m), or -1."""
    cdef Py_ssize_t j
    for j in range(n):
        if idx[j] < 0 or idx[j] >= m:
            return j
    return -1


cdef int _check_network(const Py_ssize_t* X, const Py_ssize_t* W1, Py_ssize_t b1,
                        const Py_ssize_t* W2, Py_ssize_t b2, int act) except -1:
    """The shapes of X (n_x, m), W1 (n_h, n_x), b1 (n_h,), W2 (n_y, n_h), b2 (n_y,) agree; act is known."""
    _check_2d("W1", W1, W1[0], X[0], "(n_h, n_x), n_x = X.shape[0]")
    _check_1d("b1", b1, W1[0], "(n_h,), n_h = W1.shape[0]")
    _check_2d("W2", W2, W2[0], W1[0], "(n_y, n_h), n_h = W1.shape[0]")
    _check_1d("b2", b2, W2[0], "(n_y,), n_y = W2.shape[0]")
    _check_code("act", act, N_ACTIVATIONS, "ACTIVATION_CODES")
    return 0

# Layers over a block of columns: the products (BLAS or loop nests), the
# hidden layer forward and backward, the output activation, the loss, the
# output delta, and the full-batch parameter update.

cdef inline bint _use_blas(Py_ssize_t rows, Py_ssize_t K) noexcept nogil:
    """K >= _BLAS_MIN_K or (K >= 2 and rows * K >= _BLAS_MIN_WORK)."""
    return K >= _BLAS_MIN_K or (K >= 2 and rows * K >= _BLAS_MIN_WORK)


def uses_blas(Py_ssize_t rows, Py_ssize_t K):
    """True when a product of a (rows, K) matrix goes to BLAS: K >= BLAS_MIN_K or (K >= 2 and rows K >= BLAS_MIN_WORK).

    Parameters
    ----------
    rows, K : int
        The shape of the matrix on the left of the product.

    Returns
    -------
    bool
    """
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
    cdef Py_ssize_t i, j
    cdef floating* a
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
    _hidden_activate(Z1, A1, ldh, b1, W2, O, ldo, n_h, n_y, n, act)


cdef void _hidden_activate(floating* Z1, floating* A1, Py_ssize_t ldh, const floating* b1,
                           const floating* W2, floating* O, Py_ssize_t ldo, Py_ssize_t n_h,
                           Py_ssize_t n_y, Py_ssize_t n, int act) noexcept nogil:
    """_hidden_forward after the product W1 @ X, which Z1 holds: A1 := g(Z1 + b1); O := W2 @ A1.

    Z1 := Z1 + b1 when Z1 is not A1; with Z1 == A1 the layer is activated in place.
    """
    cdef Py_ssize_t i, j, k
    cdef floating* a
    cdef floating* z
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
    """a := a / m."""
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

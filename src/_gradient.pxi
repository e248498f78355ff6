# The full-batch loss and gradient of scikit-learn's MLP (the entries
# loss_gradient and loss_gradient_csr, which shallownet_fast/_lbfgs.py hands to
# L-BFGS-B), the output modes they take, and the first layer over a sparse X
# given as CSR (one example per row): Z1 = W1 @ X.T and dW1 = dZ1 @ X over
# the stored entries only (predict_csr, loss_gradient_csr).

cdef int _check_output(int output, Py_ssize_t n_y) except -1:
    """The output mode of code `output` (OUTPUT_CODES; OUT_AUTO: logistic for one unit, softmax for
    more); ValueError unless it is a known code, softmax with n_y >= 2."""
    _check_code("output", output, N_OUTPUTS, "OUTPUT_CODES")
    if output == OUT_AUTO:
        return OUT_LOGISTIC if n_y == 1 else OUT_SOFTMAX
    if output == OUT_SOFTMAX and n_y < 2:
        raise ValueError(f"the softmax output needs at least 2 output units, W2 has {n_y}")
    return output


cdef void _output_mode(floating* O, Py_ssize_t ld, const floating* b2, Py_ssize_t n_y,
                       Py_ssize_t n, int output, floating* tmp) noexcept nogil:
    """O := out(O + b2) in place for the output mode; O is n_y x n (row stride ld), tmp holds n."""
    cdef Py_ssize_t j, k
    cdef floating* o
    if output == OUT_SOFTMAX:
        _output_activation(O, O, ld, b2, n_y, n, tmp)
    elif output == OUT_LOGISTIC:
        for k in range(n_y):
            _output_activation(O + k * ld, O + k * ld, ld, b2 + k, 1, n, tmp)
    else:
        for k in range(n_y):
            o = O + k * ld
            for j in range(n):
                o[j] = o[j] + b2[k]


cdef double _output_loss(const floating* A, Py_ssize_t lda, const floating* Y, Py_ssize_t ldy,
                         const floating* w, Py_ssize_t n_y, Py_ssize_t n, int output,
                         floating* tmp) noexcept nogil:
    """sum over the n examples of w[j] times the example's loss, for the output mode.

    softmax: -sum_k y log p; logistic: -sum_k (y log p + (1 - y) log(1 - p)), p
    clipped as in _loss_terms; identity: sum_k (p - y)^2 / (2 n_y).
    """
    cdef Py_ssize_t j, k
    cdef double total = 0
    cdef const floating* a
    cdef const floating* y
    cdef floating r
    if output == OUT_SOFTMAX:
        _loss_terms(A, lda, Y, ldy, n_y, n, tmp)
        return -_dot(tmp, w, n)
    if output == OUT_LOGISTIC:
        for k in range(n_y):
            _loss_terms(A + k * lda, lda, Y + k * ldy, ldy, 1, n, tmp)
            total -= _dot(tmp, w, n)
        return total
    for j in range(n):
        tmp[j] = 0
    for k in range(n_y):
        a = A + k * lda
        y = Y + k * ldy
        for j in range(n):
            r = a[j] - y[j]
            tmp[j] = tmp[j] + r * r
    return 0.5 * _dot(tmp, w, n) / n_y


cdef double _output_backward(floating* O, Py_ssize_t ldo, const floating* Y, Py_ssize_t ldy,
                             const floating* w, const floating* X, Py_ssize_t ldx,
                             const floating* W2, const floating* b2, floating* H,
                             floating* D, Py_ssize_t ldh, floating* dW1, floating* db1,
                             floating* dW2, floating* db2, floating* tmp, Py_ssize_t n_x,
                             Py_ssize_t n_h, Py_ssize_t n_y, Py_ssize_t n, int act, int output,
                             bint accumulate) noexcept nogil:
    """One block after its forward pass (H = A1, O = W2 @ A1): output, weighted loss, gradient sums.

    O := out(O + b2), then the delta (A2 - Y) * w; returns sum_j w_j loss_j;
    dW2, db2, db1 (+)= their sums, D := dZ1, and dW1 (+)= dZ1 @ X.T unless n_x is 0
    (a sparse X, whose product the caller forms from D).
    """
    cdef double total
    _output_mode(O, ldo, b2, n_y, n, output, tmp)
    total = _output_loss(O, ldo, Y, ldy, w, n_y, n, output, tmp)
    _output_delta(O, ldo, Y, ldy, w, db2, n_y, n, accumulate)
    _hidden_backward(X, ldx, W2, H, O, ldo, D, ldh, dW1, db1, dW2, tmp, n_x, n_h, n_y, n, act,
                     accumulate)
    return total


cdef double _penalised(double weighted, const floating* W1, const floating* W2, floating* dW1,
                       floating* db1, floating* dW2, floating* db2,
                       Py_ssize_t n_x, Py_ssize_t n_h, Py_ssize_t n_y, double alpha,
                       double sw_sum) noexcept nogil:
    """The loss weighted / sw + alpha / 2 (|W1|^2 + |W2|^2) / sw; gradients := (sums + alpha W) / sw, sums / sw."""
    cdef floating fa = <floating> alpha, fsw = <floating> sw_sum
    cdef Py_ssize_t j
    for j in range(n_h * n_x):
        dW1[j] = (dW1[j] + fa * W1[j]) / fsw
    for j in range(n_y * n_h):
        dW2[j] = (dW2[j] + fa * W2[j]) / fsw
    _divide(db1, n_h, fsw)
    _divide(db2, n_y, fsw)
    return weighted / sw_sum + _l2_penalty(W1, W2, n_x, n_h, n_y, alpha, sw_sum)


def loss_gradient(const floating[:, ::1] X not None,    # IN  (n_x, m), m >= 1
                  const floating[:, ::1] Y not None,    # IN  (n_y, m)
                  const floating[::1] sw not None,      # IN  (m,) sample weights
                  const floating[:, ::1] W1 not None,   # IN  (n_h, n_x)
                  const floating[::1] b1 not None,      # IN  (n_h,)
                  const floating[:, ::1] W2 not None,   # IN  (n_y, n_h)
                  const floating[::1] b2 not None,      # IN  (n_y,)
                  int act, int output, double alpha,
                  floating[:, ::1] dW1 not None,        # OUT (n_h, n_x)
                  floating[::1] db1 not None,           # OUT (n_h,)
                  floating[:, ::1] dW2 not None,        # OUT (n_y, n_h)
                  floating[::1] db2 not None,           # OUT (n_y,)
                  floating[:, ::1] H not None,          # SCRATCH (n_h, block), block >= 1: A1
                  floating[:, ::1] D not None,          # SCRATCH (n_h, block): dZ1
                  floating[:, ::1] O not None,          # SCRATCH (n_y, block)
                  floating[::1] tmp not None):          # SCRATCH (block,)
    """The full-batch loss of scikit-learn's MLP and its gradient, block of columns by block of columns.

    loss = sum(w * loss_j) / sw + alpha / 2 * (|W1|^2 + |W2|^2) / sw, sw = sum(w),
    loss_j the example's cross-entropy (logistic, softmax) or squared error halved
    and averaged over the outputs (identity); gradients from the output delta
    (A2 - Y) * w: weights (sums + alpha * W) / sw, biases sums / sw.

    Parameters
    ----------
    X : floating[:, ::1], (n_x, m), m >= 1
        IN: the examples, one per column.
    Y : floating[:, ::1], (n_y, m)
        IN: the targets (0/1 for logistic and softmax, one-hot for softmax).
    sw : floating[::1], (m,)
        IN: the sample weights.
    W1, b1, W2, b2 : floating, (n_h, n_x), (n_h,), (n_y, n_h), (n_y,)
        IN: the parameters.
    act : int
        The hidden activation g, a value of ACTIVATION_CODES.
    output : int
        The output mode, a value of OUTPUT_CODES (softmax needs n_y >= 2).
    alpha : float
        The L2 penalty.
    dW1, db1, dW2, db2 : floating, shaped as W1, b1, W2, b2
        OUT: the gradient.
    H, D : floating[:, ::1], (n_h, block), block >= 1
        SCRATCH: a block's A1 and dZ1; their number of columns sets the block.
    O : floating[:, ::1], (n_y, block)
        SCRATCH.
    tmp : floating[::1], (block,)
        SCRATCH.

    Returns
    -------
    float
        The loss.

    Raises
    ------
    ValueError
        A shape disagrees with X's and the weights', m is 0, or act or output is unknown.
    """
    cdef Py_ssize_t n_x = X.shape[0], m = X.shape[1], n_h = W1.shape[0], n_y = W2.shape[0]
    cdef Py_ssize_t block = H.shape[1], j0, n
    cdef double weighted = 0, loss
    _check_network(X.shape, W1.shape, b1.shape[0], W2.shape, b2.shape[0], act)
    output = _check_output(output, n_y)
    _need_blas()
    _check_positive("m = X.shape[1]", m)
    _check_2d("Y", Y.shape, n_y, m, "(n_y, m), n_y = W2.shape[0], m = X.shape[1]")
    _check_1d("sw", sw.shape[0], m, "(m,), m = X.shape[1]")
    _check_like_parameters("d", dW1.shape, db1.shape[0], dW2.shape, db2.shape[0], n_x, n_h, n_y)
    _check_block_scratch(H.shape, D.shape, O.shape, tmp.shape[0], n_h, n_y)
    with nogil:
        j0 = 0
        while j0 < m:
            n = min(block, m - j0)
            _hidden_forward(&X[0, j0], m, &W1[0, 0], &b1[0], &W2[0, 0], &H[0, 0], &H[0, 0], block,
                            &O[0, 0], block, n_x, n_h, n_y, n, act)
            weighted += _output_backward(&O[0, 0], block, &Y[0, j0], m, &sw[j0], &X[0, j0], m,
                                         &W2[0, 0], &b2[0], &H[0, 0], &D[0, 0], block, &dW1[0, 0],
                                         &db1[0], &dW2[0, 0], &db2[0], &tmp[0], n_x, n_h, n_y, n,
                                         act, output, j0 > 0)
            j0 += block
        loss = _penalised(weighted, &W1[0, 0], &W2[0, 0], &dW1[0, 0], &db1[0], &dW2[0, 0], &db2[0],
                          n_x, n_h, n_y, alpha, _sum(&sw[0], m))
    return loss


cdef int _check_block_scratch(const Py_ssize_t* H, const Py_ssize_t* D, const Py_ssize_t* O,
                              Py_ssize_t tmp, Py_ssize_t n_h, Py_ssize_t n_y) except -1:
    """H and D are (n_h, block), block >= 1; O (n_y, block); tmp (block,)."""
    cdef Py_ssize_t block = H[1]
    _check_2d("H", H, n_h, max(block, 1), "(n_h, block >= 1), n_h = W1.shape[0]")
    _check_2d("D", D, n_h, block, "(n_h, block), the shape of H")
    _check_2d("O", O, n_y, block, "(n_y, block), n_y = W2.shape[0], block = H.shape[1]")
    _check_1d("tmp", tmp, block, "(block,), block = H.shape[1]")
    return 0


# ------------------------------------------------------------ a sparse first layer
# X is CSR with one example per row: row j holds the entries data[p] at columns
# indices[p] for indptr[j] <= p < indptr[j + 1].  The products run over the
# stored entries with W1 transposed (WT, n_x x n_h), so that each entry adds a
# contiguous row of n_h values.

cdef int _check_csr(const floating[::1] data, const Py_ssize_t[::1] indices,
                    const Py_ssize_t[::1] indptr, Py_ssize_t n_x) except -1:
    """A valid CSR structure of n_x columns: indptr from 0 to nnz, non-decreasing; indices in [0, n_x)."""
    cdef Py_ssize_t m = indptr.shape[0] - 1, nnz = data.shape[0], bad
    _check_positive("indptr.shape[0] (m + 1)", indptr.shape[0])
    _check_1d("indices", indices.shape[0], nnz, "(nnz,), nnz = data.shape[0]")
    if indptr[0] != 0 or indptr[m] != nnz:
        raise ValueError(f"indptr runs from {indptr[0]} to {indptr[m]}; it must run from 0 to nnz = {nnz}")
    with nogil:
        bad = _first_decrease(&indptr[0], m + 1)
    if bad >= 0:
        raise ValueError(f"indptr decreases at {bad}: indptr[{bad}] = {indptr[bad]} > "
                         f"indptr[{bad + 1}] = {indptr[bad + 1]}")
    if nnz > 0:
        with nogil:
            bad = _first_outside(&indices[0], nnz, n_x)
        if bad >= 0:
            raise ValueError(f"indices[{bad}] = {indices[bad]} is not a column of X (0 <= index < n_x = {n_x})")
    return 0


cdef Py_ssize_t _first_decrease(const Py_ssize_t* a, Py_ssize_t n) noexcept nogil:
    """The first j with a[j] > a[j + 1], or -1."""
    cdef Py_ssize_t j
    for j in range(n - 1):
        if a[j] > a[j + 1]:
            return j
    return -1


cdef void _transpose(const floating* A, Py_ssize_t lda, Py_ssize_t rows, Py_ssize_t cols,
                     floating* T) noexcept nogil:
    """T := A.T; A is rows x cols (row stride lda), T cols x rows (contiguous)."""
    cdef Py_ssize_t i, j
    for j in range(cols):
        for i in range(rows):
            T[j * rows + i] = A[i * lda + j]


cdef inline Py_ssize_t _row(const Py_ssize_t* rows, Py_ssize_t j0, Py_ssize_t j) noexcept nogil:
    """The row of X of a block's example j: rows[j] for gathered rows, else j0 + j."""
    return rows[j] if rows != NULL else j0 + j


cdef void _csr_product(const floating* data, const Py_ssize_t* indices, const Py_ssize_t* indptr,
                       const Py_ssize_t* rows, Py_ssize_t j0, Py_ssize_t n, const floating* WT,
                       Py_ssize_t n_h, floating* ZT, floating* Z, Py_ssize_t ldz) noexcept nogil:
    """Z := W1 @ X[block].T (n_h x n, row stride ldz), through ZT (n x n_h); the block is the
    rows j0 .. j0 + n - 1 of X, or rows[0 .. n - 1] when rows is not NULL."""
    cdef Py_ssize_t i, j, p, r
    cdef floating v
    cdef floating* z
    cdef const floating* w
    for j in range(n):
        z = ZT + j * n_h
        r = _row(rows, j0, j)
        for i in range(n_h):
            z[i] = 0
        for p in range(indptr[r], indptr[r + 1]):
            v = data[p]
            w = WT + indices[p] * n_h
            for i in range(n_h):
                z[i] = z[i] + v * w[i]
    for i in range(n_h):
        for j in range(n):
            Z[i * ldz + j] = ZT[j * n_h + i]


cdef void _csr_gradient(const floating* data, const Py_ssize_t* indices, const Py_ssize_t* indptr,
                        const Py_ssize_t* rows, Py_ssize_t j0, Py_ssize_t n, const floating* D,
                        Py_ssize_t ldd, Py_ssize_t n_h, floating* DT, floating* GT) noexcept nogil:
    """GT += (D @ X[block]).T, GT n_x x n_h, the block as in _csr_product; D is n_h x n (row
    stride ldd), DT n x n_h scratch."""
    cdef Py_ssize_t i, j, p, r
    cdef floating v
    cdef floating* g
    cdef const floating* d
    _transpose(D, ldd, n_h, n, DT)
    for j in range(n):
        d = DT + j * n_h
        r = _row(rows, j0, j)
        for p in range(indptr[r], indptr[r + 1]):
            v = data[p]
            g = GT + indices[p] * n_h
            for i in range(n_h):
                g[i] = g[i] + v * d[i]


def loss_gradient_csr(const floating[::1] data not None,      # IN  (nnz,) X's stored values
                      const Py_ssize_t[::1] indices not None,  # IN  (nnz,) their columns, in [0, n_x)
                      const Py_ssize_t[::1] indptr not None,   # IN  (m + 1,) row j: indptr[j] .. indptr[j + 1]
                      const floating[:, ::1] Y not None,       # IN  (n_y, m)
                      const floating[::1] sw not None,         # IN  (m,) sample weights
                      const floating[:, ::1] W1 not None,      # IN  (n_h, n_x)
                      const floating[::1] b1 not None,         # IN  (n_h,)
                      const floating[:, ::1] W2 not None,      # IN  (n_y, n_h)
                      const floating[::1] b2 not None,         # IN  (n_y,)
                      int act, int output, double alpha,
                      floating[:, ::1] dW1 not None,           # OUT (n_h, n_x)
                      floating[::1] db1 not None,              # OUT (n_h,)
                      floating[:, ::1] dW2 not None,           # OUT (n_y, n_h)
                      floating[::1] db2 not None,              # OUT (n_y,)
                      floating[:, ::1] H not None,             # SCRATCH (n_h, block), block >= 1: A1
                      floating[:, ::1] D not None,             # SCRATCH (n_h, block): dZ1
                      floating[:, ::1] O not None,             # SCRATCH (n_y, block)
                      floating[::1] tmp not None,              # SCRATCH (block,)
                      floating[:, ::1] WT not None,            # SCRATCH (n_x, n_h): W1.T
                      floating[:, ::1] GT not None,            # SCRATCH (n_x, n_h): dW1.T
                      floating[:, ::1] ZT not None):           # SCRATCH (block, n_h)
    """loss_gradient for X given as CSR (m, n_x), one example per row, over its stored entries.

    The same loss and gradient as loss_gradient on the dense X.T; memory beyond
    the arguments: none.

    Parameters
    ----------
    data, indices, indptr : (nnz,), (nnz,), (m + 1,)
        IN: X in CSR form (np.intp indices), m >= 1 rows, n_x = W1.shape[1] columns.
    Y, sw, W1, b1, W2, b2, act, output, alpha, dW1, db1, dW2, db2, H, D, O, tmp
        As for loss_gradient.
    WT, GT : floating[:, ::1], (n_x, n_h)
        SCRATCH: W1.T and the sums of dW1.T.
    ZT : floating[:, ::1], (block, n_h)
        SCRATCH: a block's layer, transposed.

    Returns
    -------
    float
        The loss.

    Raises
    ------
    ValueError
        The CSR structure is not valid, a shape disagrees, m is 0, or act or output is unknown.
    """
    cdef Py_ssize_t n_x = W1.shape[1], m = indptr.shape[0] - 1, n_h = W1.shape[0], n_y = W2.shape[0]
    cdef Py_ssize_t block = H.shape[1], j0, n
    cdef double weighted = 0, loss
    cdef Py_ssize_t x_shape[2]
    cdef floating* g
    x_shape[:] = [n_x, m]
    _check_csr(data, indices, indptr, n_x)
    _check_network(x_shape, W1.shape, b1.shape[0], W2.shape, b2.shape[0], act)
    output = _check_output(output, n_y)
    _need_blas()
    _check_positive("m = indptr.shape[0] - 1", m)
    _check_2d("Y", Y.shape, n_y, m, "(n_y, m), n_y = W2.shape[0], m = indptr.shape[0] - 1")
    _check_1d("sw", sw.shape[0], m, "(m,), m = indptr.shape[0] - 1")
    _check_like_parameters("d", dW1.shape, db1.shape[0], dW2.shape, db2.shape[0], n_x, n_h, n_y)
    _check_block_scratch(H.shape, D.shape, O.shape, tmp.shape[0], n_h, n_y)
    _check_2d("WT", WT.shape, n_x, n_h, "(n_x, n_h), the shape of W1.T")
    _check_2d("GT", GT.shape, n_x, n_h, "(n_x, n_h), the shape of W1.T")
    _check_2d("ZT", ZT.shape, block, n_h, "(block, n_h), block = H.shape[1], n_h = W1.shape[0]")
    with nogil:
        _transpose(&W1[0, 0], n_x, n_h, n_x, &WT[0, 0])
        g = &GT[0, 0]
        for j0 in range(n_x * n_h):
            g[j0] = 0
        j0 = 0
        while j0 < m:
            n = min(block, m - j0)
            _csr_product(&data[0] if data.shape[0] else NULL, &indices[0] if data.shape[0] else NULL,
                         &indptr[0], NULL, j0, n, &WT[0, 0], n_h, &ZT[0, 0], &H[0, 0], block)
            _hidden_activate(&H[0, 0], &H[0, 0], block, &b1[0], &W2[0, 0], &O[0, 0], block, n_h, n_y,
                             n, act)
            # n_x = 0: _hidden_backward leaves dW1 alone; its sums come from the stored entries
            weighted += _output_backward(&O[0, 0], block, &Y[0, j0], m, &sw[j0], NULL, 0,
                                         &W2[0, 0], &b2[0], &H[0, 0], &D[0, 0], block, NULL,
                                         &db1[0], &dW2[0, 0], &db2[0], &tmp[0], 0, n_h, n_y, n,
                                         act, output, j0 > 0)
            _csr_gradient(&data[0] if data.shape[0] else NULL, &indices[0] if data.shape[0] else NULL,
                          &indptr[0], NULL, j0, n, &D[0, 0], block, n_h, &ZT[0, 0], &GT[0, 0])
            j0 += block
        _transpose(&GT[0, 0], n_h, n_x, n_h, &dW1[0, 0])
        loss = _penalised(weighted, &W1[0, 0], &W2[0, 0], &dW1[0, 0], &db1[0], &dW2[0, 0], &db2[0],
                          n_x, n_h, n_y, alpha, _sum(&sw[0], m))
    return loss


def predict_csr(const floating[::1] data not None,      # IN  (nnz,) X's stored values
                const Py_ssize_t[::1] indices not None,  # IN  (nnz,) their columns, in [0, n_x)
                const Py_ssize_t[::1] indptr not None,   # IN  (m + 1,)
                const floating[:, ::1] W1 not None,      # IN  (n_h, n_x)
                const floating[::1] b1 not None,         # IN  (n_h,)
                const floating[:, ::1] W2 not None,      # IN  (n_y, n_h)
                const floating[::1] b2 not None,         # IN  (n_y,)
                int act, int output,
                floating[:, ::1] A2 not None,            # OUT (n_y, m)
                floating[:, ::1] H not None,             # SCRATCH (n_h + 1, block), block >= 1
                floating[:, ::1] WT not None,            # SCRATCH (n_x, n_h): W1.T
                floating[:, ::1] ZT not None):           # SCRATCH (block, n_h)
    """A2 := out(W2 @ g(W1 @ X.T + b1) + b2) for X given as CSR (m, n_x), block by block of rows.

    Parameters
    ----------
    data, indices, indptr : (nnz,), (nnz,), (m + 1,)
        IN: X in CSR form (np.intp indices), n_x = W1.shape[1] columns.
    W1, b1, W2, b2 : floating, (n_h, n_x), (n_h,), (n_y, n_h), (n_y,)
        IN: the parameters.
    act : int
        The hidden activation g, a value of ACTIVATION_CODES.
    output : int
        The output mode, a value of OUTPUT_CODES.
    A2 : floating[:, ::1], (n_y, m)
        OUT: the outputs.
    H : floating[:, ::1], (n_h + 1, block), block >= 1
        SCRATCH: a block's hidden layer, then a row for the softmax.
    WT : floating[:, ::1], (n_x, n_h)
        SCRATCH.
    ZT : floating[:, ::1], (block, n_h)
        SCRATCH.

    Returns
    -------
    None

    Raises
    ------
    ValueError
        The CSR structure is not valid, a shape disagrees, or act or output is unknown.
    """
    cdef Py_ssize_t n_x = W1.shape[1], m = indptr.shape[0] - 1, n_h = W1.shape[0], n_y = W2.shape[0]
    cdef Py_ssize_t block = H.shape[1], j0, n
    cdef Py_ssize_t x_shape[2]
    x_shape[:] = [n_x, m]
    _check_csr(data, indices, indptr, n_x)
    _check_network(x_shape, W1.shape, b1.shape[0], W2.shape, b2.shape[0], act)
    output = _check_output(output, n_y)
    _need_blas()
    _check_2d("A2", A2.shape, n_y, m, "(n_y, m), n_y = W2.shape[0], m = indptr.shape[0] - 1")
    _check_2d("H", H.shape, n_h + 1, max(block, 1), "(n_h + 1, block >= 1), n_h = W1.shape[0]")
    _check_2d("WT", WT.shape, n_x, n_h, "(n_x, n_h), the shape of W1.T")
    _check_2d("ZT", ZT.shape, block, n_h, "(block, n_h), block = H.shape[1], n_h = W1.shape[0]")
    if m == 0:
        return
    with nogil:
        _transpose(&W1[0, 0], n_x, n_h, n_x, &WT[0, 0])
        j0 = 0
        while j0 < m:
            n = min(block, m - j0)
            _csr_product(&data[0] if data.shape[0] else NULL, &indices[0] if data.shape[0] else NULL,
                         &indptr[0], NULL, j0, n, &WT[0, 0], n_h, &ZT[0, 0], &H[0, 0], block)
            _hidden_activate(&H[0, 0], &H[0, 0], block, &b1[0], &W2[0, 0], &A2[0, j0], m, n_h, n_y,
                             n, act)
            _output_mode(&A2[0, j0], m, &b2[0], n_y, n, output, &H[n_h, 0])
            j0 += block


def train_epoch_csr(const floating[::1] data not None,      # IN  (nnz,) X's stored values
                    const Py_ssize_t[::1] indices not None,  # IN  (nnz,) their columns, in [0, n_x)
                    const Py_ssize_t[::1] indptr not None,   # IN  (m + 1,) row j: indptr[j] .. indptr[j + 1]
                    const floating[:, ::1] Y not None,       # IN  (n_y, m)
                    const floating[::1] sw not None,         # IN  (m,) sample weights
                    const Py_ssize_t[::1] order not None,    # IN  (m,) permutation, or (0,): natural order
                    Py_ssize_t batch_size,
                    floating[:, ::1] W1 not None,            # IN/OUT (n_h, n_x)
                    floating[::1] b1 not None,               # IN/OUT (n_h,)
                    floating[:, ::1] W2 not None,            # IN/OUT (n_y, n_h)
                    floating[::1] b2 not None,               # IN/OUT (n_y,)
                    floating[:, ::1] mW1 not None,           # IN/OUT first moments / velocities
                    floating[::1] mb1 not None,
                    floating[:, ::1] mW2 not None,
                    floating[::1] mb2 not None,
                    floating[:, ::1] vW1 not None,           # IN/OUT second moments (adam)
                    floating[::1] vb1 not None,
                    floating[:, ::1] vW2 not None,
                    floating[::1] vb2 not None,
                    long long[::1] t not None,               # IN/OUT (1,) updates so far
                    int act, int output, int solver, double learning_rate, double momentum,
                    bint nesterov, double beta_1, double beta_2, double epsilon, double alpha,
                    floating[:, ::1] Yb not None,            # SCRATCH (n_y, batch_size)
                    floating[::1] swb not None,              # SCRATCH (batch_size,)
                    floating[:, ::1] H not None,             # SCRATCH (n_h, batch_size): A1
                    floating[:, ::1] D not None,             # SCRATCH (n_h, batch_size): dZ1
                    floating[:, ::1] O not None,             # SCRATCH (n_y, batch_size)
                    floating[::1] tmp not None,              # SCRATCH (batch_size,)
                    floating[:, ::1] dW1 not None,           # SCRATCH (n_h, n_x)
                    floating[::1] db1 not None,              # SCRATCH (n_h,)
                    floating[:, ::1] dW2 not None,           # SCRATCH (n_y, n_h)
                    floating[::1] db2 not None,              # SCRATCH (n_y,)
                    floating[:, ::1] WT not None,            # SCRATCH (n_x, n_h): W1.T
                    floating[:, ::1] GT not None,            # SCRATCH (n_x, n_h): dW1.T
                    floating[:, ::1] ZT not None,            # SCRATCH (batch_size, n_h)
                    Py_ssize_t signal_every=0):
    """train_epoch for X given as CSR (m, n_x), one example per row; a batch is a list of rows.

    The same batches, loss and steps as train_epoch on the dense X.T, with an
    output mode (OUTPUT_CODES); the first layer's product and gradient run over
    the stored entries.  Returns sum over batches of loss_b * len(b).
    """
    cdef Py_ssize_t n_x = W1.shape[1], m = indptr.shape[0] - 1, n_h = W1.shape[0], n_y = W2.shape[0]
    cdef Py_ssize_t j0 = 0, n, k, q, batches = 0, ld
    cdef bint shuffled = order.shape[0] > 0
    cdef const Py_ssize_t* rows
    cdef const floating* yb
    cdef const floating* wb
    cdef const floating* xd = &data[0] if data.shape[0] else NULL
    cdef const Py_ssize_t* xi = &indices[0] if data.shape[0] else NULL
    cdef double total = 0, sw_sum, weighted
    cdef floating lr = <floating> learning_rate, lr_t = 0, fsw, fa = <floating> alpha, zero = 0
    cdef floating* g = &GT[0, 0]
    cdef floating* params[4]
    cdef floating* grads[4]
    cdef floating* firsts[4]
    cdef floating* seconds[4]
    cdef Py_ssize_t sizes[4]
    cdef Py_ssize_t x_shape[2]
    x_shape[:] = [n_x, m]
    _check_csr(data, indices, indptr, n_x)
    _check_network(x_shape, W1.shape, b1.shape[0], W2.shape, b2.shape[0], act)
    output = _check_output(output, n_y)
    _need_blas()
    _check_code("solver", solver, N_SOLVERS, "SOLVER_CODES")
    _check_2d("Y", Y.shape, n_y, m, "(n_y, m), n_y = W2.shape[0], m = indptr.shape[0] - 1")
    _check_1d("sw", sw.shape[0], m, "(m,), m = indptr.shape[0] - 1")
    if shuffled:
        _check_1d("order", order.shape[0], m, "(m,), m = indptr.shape[0] - 1 (or (0,): the natural order)")
        with nogil:
            bad = _first_outside(&order[0], m, m)
        if bad >= 0:
            raise ValueError(f"order[{bad}] = {order[bad]} is not a row of X (0 <= order[j] < m = {m})")
    _check_positive("batch_size", batch_size)
    _check_like_parameters("m", mW1.shape, mb1.shape[0], mW2.shape, mb2.shape[0], n_x, n_h, n_y)
    _check_like_parameters("v", vW1.shape, vb1.shape[0], vW2.shape, vb2.shape[0], n_x, n_h, n_y)
    _check_1d("t", t.shape[0], 1, "(1,)")
    _check_2d("Yb", Yb.shape, n_y, batch_size, "(n_y, batch_size), n_y = W2.shape[0]")
    _check_1d("swb", swb.shape[0], batch_size, "(batch_size,)")
    _check_block_scratch(H.shape, D.shape, O.shape, tmp.shape[0], n_h, n_y)
    _check_2d("H", H.shape, n_h, batch_size, "(n_h, batch_size), n_h = W1.shape[0]")
    _check_like_parameters("d", dW1.shape, db1.shape[0], dW2.shape, db2.shape[0], n_x, n_h, n_y)
    _check_2d("WT", WT.shape, n_x, n_h, "(n_x, n_h), the shape of W1.T")
    _check_2d("GT", GT.shape, n_x, n_h, "(n_x, n_h), the shape of W1.T")
    _check_2d("ZT", ZT.shape, batch_size, n_h, "(batch_size, n_h), n_h = W1.shape[0]")
    params[:] = [&W1[0, 0], &b1[0], &W2[0, 0], &b2[0]]
    grads[:] = [&dW1[0, 0], &db1[0], &dW2[0, 0], &db2[0]]
    firsts[:] = [&mW1[0, 0], &mb1[0], &mW2[0, 0], &mb2[0]]
    seconds[:] = [&vW1[0, 0], &vb1[0], &vW2[0, 0], &vb2[0]]
    sizes[:] = [n_h * n_x, n_h, n_y * n_h, n_y]
    with nogil:
        while j0 < m:
            n = min(batch_size, m - j0)
            if shuffled:
                rows = &order[j0]
                _gather_columns(&Y[0, 0], m, n_y, rows, n, &Yb[0, 0])
                for k in range(n):
                    swb[k] = sw[rows[k]]
                yb, wb, ld = &Yb[0, 0], &swb[0], n
            else:
                rows = NULL
                yb, wb, ld = &Y[0, j0], &sw[j0], m
            sw_sum = _sum(wb, n)
            fsw = <floating> sw_sum
            _transpose(&W1[0, 0], n_x, n_h, n_x, &WT[0, 0])
            _csr_product(xd, xi, &indptr[0], rows, j0, n, &WT[0, 0], n_h, &ZT[0, 0], &H[0, 0], n)
            _hidden_activate(&H[0, 0], &H[0, 0], n, &b1[0], &W2[0, 0], &O[0, 0], n, n_h, n_y, n, act)
            weighted = _output_backward(&O[0, 0], n, yb, ld, wb, NULL, 0, &W2[0, 0], &b2[0], &H[0, 0],
                                        &D[0, 0], n, NULL, &db1[0], &dW2[0, 0], &db2[0], &tmp[0], 0,
                                        n_h, n_y, n, act, output, False)
            total += (weighted / sw_sum + _l2_penalty(&W1[0, 0], &W2[0, 0], n_x, n_h, n_y, alpha, sw_sum)) * n
            for k in range(n_x * n_h):
                g[k] = 0
            _csr_gradient(xd, xi, &indptr[0], rows, j0, n, &D[0, 0], n, n_h, &ZT[0, 0], g)
            _transpose(g, n_h, n_x, n_h, &dW1[0, 0])
            t[0] += 1
            if solver == ADAM:
                lr_t = <floating> _adam_rate(learning_rate, beta_1, beta_2, t[0])
            for q in range(4):  # W1, b1, W2, b2: the weights (even q) decay, the biases do not
                _step(params[q], grads[q], sizes[q], firsts[q], seconds[q], fsw, fa if q % 2 == 0 else zero,
                      solver, lr, lr_t, <floating> momentum, nesterov, <floating> beta_1,
                      <floating> beta_2, <floating> epsilon)
            j0 += batch_size
            batches += 1
            if signal_every > 0 and batches >= signal_every:
                batches = 0
                with gil:
                    PyErr_CheckSignals()
    return total

# The `def` entries of one pass each: forward, cost, backward, predict_proba
# (shallownet_fast/fast.py's forward_propagation, compute_cost,
# backward_propagation and predict).

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

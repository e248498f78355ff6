# The `def` entries of one pass each: forward, cost, backward
# (shallownet_fast/fast.py's forward_propagation, compute_cost and
# backward_propagation; prediction is in _predict.pxi).

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
    """Z1 := W1 @ X + b1; A1 := g(Z1); Z2 := W2 @ A1 + b2; A2 := sigmoid or softmax(Z2).

    Parameters
    ----------
    X : floating[:, ::1], (n_x, m)
        IN: the examples, one per column.
    W1 : floating[:, ::1], (n_h, n_x)
        IN: hidden weights.
    b1 : floating[::1], (n_h,)
        IN: hidden biases.
    W2 : floating[:, ::1], (n_y, n_h)
        IN: output weights.
    b2 : floating[::1], (n_y,)
        IN: output biases.
    act : int
        The hidden activation g, a value of ACTIVATION_CODES.
    Z1, A1 : floating[:, ::1], (n_h, m)
        OUT: the hidden layer before and after g.
    Z2, A2 : floating[:, ::1], (n_y, m)
        OUT: the output layer before and after sigmoid (n_y = 1) or softmax.
    tmp : floating[::1], (m,)
        SCRATCH.

    Returns
    -------
    None

    Raises
    ------
    ValueError
        A shape disagrees with X's and the weights', or act is unknown.
    """
    cdef Py_ssize_t n_x = X.shape[0], m = X.shape[1], n_h = W1.shape[0], n_y = W2.shape[0]
    _check_network(X.shape, W1.shape, b1.shape[0], W2.shape, b2.shape[0], act)
    _check_2d("Z1", Z1.shape, n_h, m, "(n_h, m), n_h = W1.shape[0], m = X.shape[1]")
    _check_2d("A1", A1.shape, n_h, m, "(n_h, m), n_h = W1.shape[0], m = X.shape[1]")
    _check_2d("Z2", Z2.shape, n_y, m, "(n_y, m), n_y = W2.shape[0], m = X.shape[1]")
    _check_2d("A2", A2.shape, n_y, m, "(n_y, m), n_y = W2.shape[0], m = X.shape[1]")
    _check_1d("tmp", tmp.shape[0], m, "(m,), m = X.shape[1]")
    if m == 0:
        return
    _need_blas()
    with nogil:
        _hidden_forward(&X[0, 0], m, &W1[0, 0], &b1[0], &W2[0, 0], &Z1[0, 0], &A1[0, 0], m,
                        &Z2[0, 0], m, n_x, n_h, n_y, m, act)
        _output_activation(&Z2[0, 0], &A2[0, 0], m, &b2[0], n_y, m, &tmp[0])


def cost(const floating[:, ::1] A2 not None,       # IN  (n_y, m), m >= 1
         const floating[:, ::1] Y not None,        # IN  (n_y, m)
         floating[::1] tmp not None):              # SCRATCH (m,)
    """-mean(Y log A2 + (1 - Y) log(1 - A2)), or -mean(sum(Y log A2)) for n_y > 1.

    A2 is clipped to [eps, 1 - eps] inside the logarithms.

    Parameters
    ----------
    A2 : floating[:, ::1], (n_y, m), m >= 1
        IN: the predicted probabilities.
    Y : floating[:, ::1], (n_y, m)
        IN: the labels (0/1, one-hot for n_y > 1).
    tmp : floating[::1], (m,)
        SCRATCH.

    Returns
    -------
    float
        The cross-entropy cost, a mean over the m examples.

    Raises
    ------
    ValueError
        A shape disagrees with A2's, or A2 has no column.
    """
    cdef Py_ssize_t m = A2.shape[1]
    _check_positive("m = A2.shape[1]", m)
    _check_2d("Y", Y.shape, A2.shape[0], m, "(n_y, m), the shape of A2")
    _check_1d("tmp", tmp.shape[0], m, "(m,), m = A2.shape[1]")
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
    """dZ2 := A2 - Y; dW2 := dZ2 @ A1.T / m; dZ1 := (W2.T @ dZ2) * g'(A1); dW1 := dZ1 @ X.T / m.

    Also db2 := dZ2.sum(1) / m and db1 := dZ1.sum(1) / m.

    Parameters
    ----------
    X : floating[:, ::1], (n_x, m), m >= 1
        IN: the examples, one per column.
    Y : floating[:, ::1], (n_y, m)
        IN: the labels.
    W2 : floating[:, ::1], (n_y, n_h)
        IN: output weights.
    A1 : floating[:, ::1], (n_h, m)
        IN: the hidden activations of the forward pass.
    A2 : floating[:, ::1], (n_y, m)
        IN: the output probabilities of the forward pass.
    act : int
        The hidden activation g, a value of ACTIVATION_CODES.
    dW1 : floating[:, ::1], (n_h, n_x)
        OUT: the gradient of the cost in W1.
    db1 : floating[::1], (n_h,)
        OUT: in b1.
    dW2 : floating[:, ::1], (n_y, n_h)
        OUT: in W2.
    db2 : floating[::1], (n_y,)
        OUT: in b2.
    D2 : floating[:, ::1], (n_y, m)
        SCRATCH: dZ2.
    D1 : floating[:, ::1], (n_h, m)
        SCRATCH: dZ1.
    tmp : floating[::1], (m,)
        SCRATCH.

    Returns
    -------
    None

    Raises
    ------
    ValueError
        A shape disagrees with X's and W2's, m is 0, or act is unknown.
    """
    cdef Py_ssize_t n_x = X.shape[0], m = X.shape[1], n_h = W2.shape[1], n_y = W2.shape[0]
    _check_positive("m = X.shape[1]", m)
    _check_code("act", act, N_ACTIVATIONS, "ACTIVATION_CODES")
    _check_2d("Y", Y.shape, n_y, m, "(n_y, m), n_y = W2.shape[0], m = X.shape[1]")
    _check_2d("A1", A1.shape, n_h, m, "(n_h, m), n_h = W2.shape[1], m = X.shape[1]")
    _check_2d("A2", A2.shape, n_y, m, "(n_y, m), n_y = W2.shape[0], m = X.shape[1]")
    _check_2d("dW1", dW1.shape, n_h, n_x, "(n_h, n_x), n_h = W2.shape[1], n_x = X.shape[0]")
    _check_1d("db1", db1.shape[0], n_h, "(n_h,), n_h = W2.shape[1]")
    _check_2d("dW2", dW2.shape, n_y, n_h, "(n_y, n_h), the shape of W2")
    _check_1d("db2", db2.shape[0], n_y, "(n_y,), n_y = W2.shape[0]")
    _check_2d("D2", D2.shape, n_y, m, "(n_y, m), n_y = W2.shape[0], m = X.shape[1]")
    _check_2d("D1", D1.shape, n_h, m, "(n_h, m), n_h = W2.shape[1], m = X.shape[1]")
    _check_1d("tmp", tmp.shape[0], m, "(m,), m = X.shape[1]")
    cdef floating fm = <floating> m
    cdef Py_ssize_t j, k
    _need_blas()
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

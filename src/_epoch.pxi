# One epoch of mini-batch training (the `train_epoch` entry of
# shallownet_fast/_minibatch.py): gathered batches, sample weights, L2
# penalty, sgd (momentum, Nesterov) or adam steps, as scikit-learn's MLP.

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


cdef void _epoch_output(floating* O, Py_ssize_t ld, const floating* b, Py_ssize_t n_y,
                        Py_ssize_t n, int out, floating* tmp) noexcept nogil:
    """O := the output layer's A2 from O = W2 @ A1: OUT_AUTO a sigmoid (n_y = 1) or the
    column softmax of O + b; OUT_LOGISTIC a sigmoid per entry; OUT_IDENTITY O + b."""
    cdef Py_ssize_t j, k
    cdef floating* o
    if out == OUT_AUTO or out == OUT_SOFTMAX:
        _output_activation(O, O, ld, b, n_y, n, tmp)
        return
    for k in range(n_y):
        o = O + k * ld
        if out == OUT_IDENTITY:
            for j in range(n):
                o[j] = o[j] + b[k]
        else:
            for j in range(n):
                o[j] = _sigmoid(o[j] + b[k])


cdef void _epoch_loss_terms(const floating* A, Py_ssize_t lda, const floating* Y, Py_ssize_t ldy,
                            Py_ssize_t n_y, Py_ssize_t n, int out, floating* tmp,
                            floating* row) noexcept nogil:
    """tmp[j] := each example's log-likelihood under the output layer `out`.

    OUT_AUTO: _loss_terms.  OUT_LOGISTIC: the sum over the rows of _loss_terms of one row
    (`row` holds n).  OUT_IDENTITY: -sum over k of (y - a)^2 / (2 n_y), so that the loss is
    scikit-learn's halved squared error averaged over the outputs.
    """
    cdef Py_ssize_t j, k
    cdef const floating* a
    cdef const floating* y
    cdef floating d
    if out == OUT_AUTO or out == OUT_SOFTMAX:
        _loss_terms(A, lda, Y, ldy, n_y, n, tmp)
        return
    for j in range(n):
        tmp[j] = 0
    for k in range(n_y):
        a = A + k * lda
        y = Y + k * ldy
        if out == OUT_IDENTITY:
            for j in range(n):
                d = y[j] - a[j]
                tmp[j] = tmp[j] - d * d
        else:
            _loss_terms(a, lda, y, ldy, 1, n, row)
            for j in range(n):
                tmp[j] = tmp[j] + row[j]
    if out == OUT_IDENTITY:
        for j in range(n):
            tmp[j] = tmp[j] / (2 * <floating> n_y)


cdef inline double _l2_penalty(const floating* W1, const floating* W2, Py_ssize_t n_x, Py_ssize_t n_h,
                               Py_ssize_t n_y, double alpha, double sw_sum) noexcept nogil:
    """MLP's L2 term of the loss: alpha / 2 * (|W1|^2 + |W2|^2) / sw."""
    return 0.5 * alpha * (_squares(W1, n_h * n_x) + _squares(W2, n_y * n_h)) / sw_sum


cdef inline double _adam_rate(double learning_rate, double beta_1, double beta_2,
                              long long t) noexcept nogil:
    """Adam's step size after t updates: lr sqrt(1 - beta_2^t) / (1 - beta_1^t)."""
    return learning_rate * sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)


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
                floating[:, ::1] D not None,           # SCRATCH (n_h, batch_size): dZ1
                floating[:, ::1] O not None,           # SCRATCH (n_y, batch_size)
                floating[::1] tmp not None,            # SCRATCH (batch_size,)
                floating[:, ::1] dW1 not None,         # SCRATCH (n_h, n_x)
                floating[::1] db1 not None,            # SCRATCH (n_h,)
                floating[:, ::1] dW2 not None,         # SCRATCH (n_y, n_h)
                floating[::1] db2 not None,            # SCRATCH (n_y,)
                Py_ssize_t signal_every=0,
                int out=OUT_AUTO):                     # the output layer, a value of OUTPUT_CODES
    """One epoch of mini-batch training, in place; returns sum over batches of loss_b * len(b).

    For a batch b (columns order[j0:j0 + batch_size]) with weights w, sw = sum(w):
    loss_b = -sum(w * log-likelihood) / sw + alpha / 2 * (|W1|^2 + |W2|^2) / sw;
    the output delta is (A2 - Y) * w; weight gradients are (sums + alpha * W) / sw and
    bias gradients sums / sw, as in scikit-learn's MLP; then one sgd or adam step.
    The output layer `out` (OUTPUT_CODES): a sigmoid or softmax by n_y (the default),
    a sigmoid per row (multilabel), or the identity with the squared error
    sum((y - a)^2) / (2 n_y) as the negative log-likelihood (regression).
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
    cdef floating* params[4]
    cdef floating* grads[4]
    cdef floating* firsts[4]
    cdef floating* seconds[4]
    cdef Py_ssize_t sizes[4]
    cdef Py_ssize_t q
    _check_network(X.shape, W1.shape, b1.shape[0], W2.shape, b2.shape[0], act)
    _check_code("solver", solver, N_SOLVERS, "SOLVER_CODES")
    _check_code("out", out, N_OUTPUTS, "OUTPUT_CODES")
    _check_2d("Y", Y.shape, n_y, m, "(n_y, m), n_y = W2.shape[0], m = X.shape[1]")
    _check_1d("sw", sw.shape[0], m, "(m,), m = X.shape[1]")
    if shuffled:
        _check_1d("order", order.shape[0], m, "(m,), m = X.shape[1] (or (0,): the natural order)")
        with nogil:
            bad = _first_outside(&order[0], m, m)
        if bad >= 0:
            raise ValueError(f"order[{bad}] = {order[bad]} is not a column of X (0 <= order[j] < m = {m})")
    _check_positive("batch_size", batch_size)
    _check_like_parameters("m", mW1.shape, mb1.shape[0], mW2.shape, mb2.shape[0], n_x, n_h, n_y)
    _check_like_parameters("v", vW1.shape, vb1.shape[0], vW2.shape, vb2.shape[0], n_x, n_h, n_y)
    _check_1d("t", t.shape[0], 1, "(1,)")
    _check_2d("Xb", Xb.shape, n_x, batch_size, "(n_x, batch_size), n_x = X.shape[0]")
    _check_2d("Yb", Yb.shape, n_y, batch_size, "(n_y, batch_size), n_y = W2.shape[0]")
    _check_1d("swb", swb.shape[0], batch_size, "(batch_size,)")
    _check_2d("H", H.shape, n_h, batch_size, "(n_h, batch_size), n_h = W1.shape[0]")
    _check_2d("D", D.shape, n_h, batch_size, "(n_h, batch_size), n_h = W1.shape[0]")
    _check_2d("O", O.shape, n_y, batch_size, "(n_y, batch_size), n_y = W2.shape[0]")
    _check_1d("tmp", tmp.shape[0], batch_size, "(batch_size,)")
    _check_like_parameters("d", dW1.shape, db1.shape[0], dW2.shape, db2.shape[0], n_x, n_h, n_y)
    _need_blas()
    params[:] = [&W1[0, 0], &b1[0], &W2[0, 0], &b2[0]]
    grads[:] = [&dW1[0, 0], &db1[0], &dW2[0, 0], &db2[0]]
    firsts[:] = [&mW1[0, 0], &mb1[0], &mW2[0, 0], &mb2[0]]
    seconds[:] = [&vW1[0, 0], &vb1[0], &vW2[0, 0], &vb2[0]]
    sizes[:] = [n_h * n_x, n_h, n_y * n_h, n_y]
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
            _epoch_output(&O[0, 0], n, &b2[0], n_y, n, out, &tmp[0])
            # D (dZ1) is not written before _hidden_backward: its first row serves as scratch here.
            _epoch_loss_terms(&O[0, 0], n, yb, ld, n_y, n, out, &tmp[0], &D[0, 0])
            data = -_dot(&tmp[0], wb, n) / sw_sum
            l2 = _l2_penalty(&W1[0, 0], &W2[0, 0], n_x, n_h, n_y, alpha, sw_sum)
            total += (data + l2) * n
            _output_delta(&O[0, 0], n, yb, ld, wb, &db2[0], n_y, n, False)
            _hidden_backward(xb, ld, &W2[0, 0], &H[0, 0], &O[0, 0], n, &D[0, 0], n,
                             &dW1[0, 0], &db1[0], &dW2[0, 0], &tmp[0], n_x, n_h, n_y, n,
                             act, False)
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

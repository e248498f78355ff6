# Full-batch gradient descent (the `train` entry of fast.nn_model): column
# blocks of forward and backward, summed serially or by an OpenMP team, then
# one update per iteration.

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

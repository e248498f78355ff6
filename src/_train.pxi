# Full-batch gradient descent (the `train` entry of fast.nn_model): column
# blocks of forward and backward, summed serially or by a team of threads of
# the call's own (src/_team.h), then one update per iteration.

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


cdef void _train_blocks(const floating* X, const floating* Y, Py_ssize_t m, Py_ssize_t block,
                        Py_ssize_t start, Py_ssize_t stop, const floating* W1, const floating* b1,
                        const floating* W2, const floating* b2, int act, bint want_cost,
                        floating* H, floating* D, floating* O, floating* tmp, floating* G,
                        Py_ssize_t n_x, Py_ssize_t n_h, Py_ssize_t n_y, bint accumulate,
                        double* loss) noexcept nogil:
    """Blocks start .. stop - 1 of one iteration: loss[0] += each block's log-likelihood sum; G (+)= its gradient sums.

    Block b is the columns b * block .. min((b + 1) * block, m) - 1.  G is
    overwritten by block `start` unless `accumulate`, then added to.  The one loop
    body of both paths of `train`: the serial path runs a run of blocks at a
    time, a thread of the team one block at a time.
    """
    cdef Py_ssize_t b, j0
    for b in range(start, stop):
        j0 = b * block
        loss[0] += _block_pass(X, Y, m, j0, min(block, m - j0), W1, b1, W2, b2, act, want_cost,
                               H, D, O, tmp, G, n_x, n_h, n_y, accumulate or b > start)


cdef void _finish_iteration(floating* W1, floating* b1, floating* W2, floating* b2, floating* G,
                            double* loss, Py_ssize_t threads, Py_ssize_t n_x, Py_ssize_t n_h,
                            Py_ssize_t n_y, floating lr, Py_ssize_t m, bint want_cost,
                            double* costs, Py_ssize_t i) noexcept nogil:
    """W := W - lr * (G / m); costs[i] := -(loss[0] + ... + loss[threads - 1]) / m when want_cost; G, loss := 0.

    The end of an iteration of `train`, serial or (run by one thread) team;
    G holds the gradient sums [dW1 | db1 | dW2 | db2] of the whole batch.
    """
    cdef Py_ssize_t q, t
    cdef double total
    _descend_all(W1, b1, W2, b2, G, n_x, n_h, n_y, lr, <floating> m)
    for q in range(n_h * n_x + n_h + n_y * n_h + n_y):
        G[q] = 0
    if want_cost:
        total = loss[0]
        for t in range(1, threads):
            total = total + loss[t]
        costs[i] = -total / m
    for t in range(threads):
        loss[t] = 0


ctypedef struct _TeamCall:
    # The arguments of one team call of `train` (pointers of its dtype).
    const void* X
    const void* Y
    void* W1
    void* b1
    void* W2
    void* b2
    void* H
    void* D
    void* O
    void* tmp
    void* G
    double* loss
    double* costs
    Py_ssize_t n_x, n_h, n_y, m, block, n_blocks, first, count, cost_every
    int act
    double learning_rate


cdef void _team_iterations(_TeamCall* c, snf_team* team, Py_ssize_t t, floating* W1) noexcept nogil:
    """Member t's part of every iteration of a team call of `train` (W1 is c.W1, for the dtype).

    The members share the blocks statically (member t: a run of consecutive
    blocks, its own scratch and gradient sums G[t]); after a barrier member 0
    adds the members' sums in member order into G[0] and updates the
    parameters; a second barrier ends the iteration.
    """
    cdef Py_ssize_t threads = snf_team_size(team), it, q, r, start, stop, p, u
    cdef Py_ssize_t n_h = c.n_h, n_x = c.n_x, n_y = c.n_y, block = c.block
    cdef Py_ssize_t p_end = n_h * n_x + n_h + n_y * n_h + n_y
    cdef floating* b1 = <floating*> c.b1
    cdef floating* W2 = <floating*> c.W2
    cdef floating* b2 = <floating*> c.b2
    cdef floating* G = <floating*> c.G
    cdef floating g
    cdef bint want_cost
    # blocks start .. stop - 1: runs of equal length, the first r one block longer
    q, r = c.n_blocks // threads, c.n_blocks % threads
    start = t * q + min(t, r)
    stop = start + q + (1 if t < r else 0)
    for it in range(c.first, c.first + c.count):
        want_cost = c.cost_every > 0 and it % c.cost_every == 0
        _train_blocks(<const floating*> c.X, <const floating*> c.Y, c.m, block, start, stop, W1, b1,
                      W2, b2, c.act, want_cost, (<floating*> c.H) + t * n_h * block,
                      (<floating*> c.D) + t * n_h * block, (<floating*> c.O) + t * n_y * block,
                      (<floating*> c.tmp) + t * block, G + t * p_end, n_x, n_h, n_y, True, &c.loss[t])
        snf_team_barrier(team)
        if t == 0:
            for p in range(p_end):
                g = G[p]
                for u in range(1, threads):
                    g = g + G[u * p_end + p]
                    G[u * p_end + p] = 0
                G[p] = g
            _finish_iteration(W1, b1, W2, b2, G, c.loss, threads, n_x, n_h, n_y,
                              <floating> c.learning_rate, c.m, want_cost, c.costs, it - c.first)
        snf_team_barrier(team)


cdef void _team_member_double(void* c, snf_team* team, Py_ssize_t t) noexcept nogil:
    _team_iterations(<_TeamCall*> c, team, t, <double*> (<_TeamCall*> c).W1)


cdef void _team_member_float(void* c, snf_team* team, Py_ssize_t t) noexcept nogil:
    _team_iterations(<_TeamCall*> c, team, t, <float*> (<_TeamCall*> c).W1)


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
    """Iterations first .. first + count - 1 of full-batch gradient descent, in place: W := W - learning_rate * dW.

    Each iteration: forward, the cost into costs[i - first] when
    i % cost_every == 0 (taken before the update), backward, the update.  The
    examples are processed in column blocks of H.shape[2], so that a block's
    hidden layer stays in cache from the forward pass to the backward pass.

    With one thread (H.shape[0] == 1) the gradients are summed over the blocks
    in order.  With several, a team of threads created for this call and
    joined before it returns (src/_team.h; fewer if the system refuses a
    thread) shares the blocks (each thread a fixed run of consecutive blocks,
    and its own scratch and gradient sums) and then the parameters, each the
    sum of the threads' sums in thread order: results are reproducible for a
    given thread count, and differ between thread counts by summation order
    only.  Every member inherits the calling thread's bound on BLAS products
    (set_gemm_limit): the caller sizes the blocks under it, so that BLAS runs
    each product on the member's own thread.

    With signal_every > 0 (one thread only), Python's signal handlers run
    after every signal_every blocks (the GIL taken for that moment only), so
    that Ctrl-C interrupts a long call: KeyboardInterrupt propagates, leaving
    the parameters somewhere between two iterations.

    Parameters
    ----------
    X : floating[:, ::1], (n_x, m), m >= 1
        IN: the examples, one per column.
    Y : floating[:, ::1], (n_y, m)
        IN: the labels.
    W1 : floating[:, ::1], (n_h, n_x)
        IN/OUT: hidden weights.
    b1 : floating[::1], (n_h,)
        IN/OUT: hidden biases.
    W2 : floating[:, ::1], (n_y, n_h)
        IN/OUT: output weights.
    b2 : floating[::1], (n_y,)
        IN/OUT: output biases.
    act : int
        The hidden activation g, a value of ACTIVATION_CODES.
    learning_rate : float
        The step.
    first, count : int
        The iterations first .. first + count - 1 (first numbers them for cost_every).
    cost_every : int
        Record the cost every cost_every iterations; 0: never.
    costs : double[::1], (count,) when cost_every > 0, else any
        OUT: costs[i - first] for the recorded iterations i.
    H, D : floating[:, :, ::1], (threads, n_h, block), threads >= 1, block >= 1
        SCRATCH: each thread's hidden layer and its delta; their shape sets
        the number of threads and the block.
    O : floating[:, :, ::1], (threads, n_y, block)
        SCRATCH: each thread's output layer.
    tmp : floating[:, ::1], (threads, block)
        SCRATCH.
    G : floating[:, ::1], (threads, n_h * n_x + n_h + n_y * n_h + n_y)
        SCRATCH: each thread's gradient sums [dW1 | db1 | dW2 | db2].
    loss : double[::1], (threads,)
        SCRATCH: each thread's log-likelihood sum.
    signal_every : int
        With one thread, run Python's signal handlers every signal_every blocks; 0: never.

    Returns
    -------
    None

    Raises
    ------
    ValueError
        A shape disagrees with X's, the weights' and H's, m is 0, or act is unknown.
    KeyboardInterrupt
        (Or any exception of a signal handler) with signal_every > 0.
    """
    cdef Py_ssize_t n_x = X.shape[0], m = X.shape[1], n_h = W1.shape[0], n_y = W2.shape[0]
    cdef Py_ssize_t threads = H.shape[0], block = H.shape[2], it, b, stop, t, until_signal
    cdef Py_ssize_t n_blocks, p, p_end = n_h * n_x + n_h + n_y * n_h + n_y
    cdef floating lr = <floating> learning_rate
    cdef floating g
    cdef bint want_cost
    _check_positive("m = X.shape[1]", m)
    _check_2d("Y", Y.shape, n_y, m, "(n_y, m), n_y = W2.shape[0], m = X.shape[1]")
    _check_network(X.shape, W1.shape, b1.shape[0], W2.shape, b2.shape[0], act)
    if cost_every > 0:
        _check_1d("costs", costs.shape[0], count, "(count,) as cost_every > 0")
    _check_positive("the number of threads H.shape[0]", threads)
    _check_positive("the block H.shape[2]", block)
    _check_3d("H", H.shape, threads, n_h, block, "(threads, n_h, block), n_h = W1.shape[0]")
    _check_3d("D", D.shape, threads, n_h, block, "(threads, n_h, block), threads and block from H")
    _check_3d("O", O.shape, threads, n_y, block, "(threads, n_y, block), n_y = W2.shape[0], threads and block from H")
    _check_2d("tmp", tmp.shape, threads, block, "(threads, block) of H")
    _check_2d("G", G.shape, threads, p_end, "(threads, n_h * n_x + n_h + n_y * n_h + n_y), threads from H")
    _check_1d("loss", loss.shape[0], threads, "(threads,), threads = H.shape[0]")
    n_blocks = (m + block - 1) // block
    cdef floating* pW1 = &W1[0, 0]
    cdef floating* pb1 = &b1[0]
    cdef floating* pW2 = &W2[0, 0]
    cdef floating* pb2 = &b2[0]
    cdef double* pcosts = &costs[0] if costs.shape[0] > 0 else NULL
    _need_blas()
    with nogil:
        for t in range(threads):
            loss[t] = 0
            for p in range(p_end):
                G[t, p] = 0
    if threads == 1:
        until_signal = signal_every if signal_every > 0 else n_blocks
        with nogil:
            for it in range(first, first + count):
                want_cost = cost_every > 0 and it % cost_every == 0
                b = 0
                while b < n_blocks:  # runs of blocks, ending where the signal handlers run
                    stop = min(n_blocks, b + until_signal)
                    _train_blocks(&X[0, 0], &Y[0, 0], m, block, b, stop, pW1, pb1, pW2, pb2, act,
                                  want_cost, &H[0, 0, 0], &D[0, 0, 0], &O[0, 0, 0], &tmp[0, 0],
                                  &G[0, 0], n_x, n_h, n_y, b > 0, &loss[0])
                    until_signal -= stop - b
                    b = stop
                    if until_signal == 0:
                        until_signal = signal_every if signal_every > 0 else n_blocks
                        if signal_every > 0:
                            with gil:
                                PyErr_CheckSignals()
                _finish_iteration(pW1, pb1, pW2, pb2, &G[0, 0], &loss[0], 1, n_x, n_h, n_y, lr,
                                  m, want_cost, pcosts, it - first)
        return
    cdef _TeamCall call
    call.X, call.Y, call.W1, call.b1, call.W2, call.b2 = &X[0, 0], &Y[0, 0], pW1, pb1, pW2, pb2
    call.H, call.D, call.O, call.tmp, call.G = &H[0, 0, 0], &D[0, 0, 0], &O[0, 0, 0], &tmp[0, 0], &G[0, 0]
    call.loss, call.costs = &loss[0], pcosts
    call.n_x, call.n_h, call.n_y, call.m, call.block, call.n_blocks = n_x, n_h, n_y, m, block, n_blocks
    call.act, call.learning_rate, call.first, call.count, call.cost_every = act, learning_rate, first, count, cost_every
    with nogil:
        if floating is float:
            snf_team_run(_team_member_float, &call, threads)
        else:
            snf_team_run(_team_member_double, &call, threads)

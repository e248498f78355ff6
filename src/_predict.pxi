# Prediction: the network's outputs block by block, for examples given one per
# column (predict_proba: fast.predict's layout) or one per row (predict_rows:
# the estimators' layout, scikit-learn's (n_samples, n_features), shared by a
# team of threads of the kernels' own), and the whole of fast.predict for a few
# examples in one call (predict_labels: the latency path).
#
# Every path runs one block worker, _predict_block: the hidden layer and the
# output layer of _hidden_forward and _output_mode (the functions training
# uses), so every layout gives the same numbers.  A block of rows is
# transposed into a column block first (n_x values an example, against the
# 2 n_x n_h operations of its product) and its outputs transposed back.

cimport numpy as cnp
from libc.stdlib cimport free, malloc

cnp.import_array()


cdef void _predict_block(const floating* X, Py_ssize_t ldx, bint rows, const floating* W1,
                         const floating* b1, const floating* W2, const floating* b2,
                         floating* out, Py_ssize_t ldo, Py_ssize_t n_x, Py_ssize_t n_h,
                         Py_ssize_t n_y, Py_ssize_t n, int act, int output,
                         floating* S) noexcept nogil:
    """The outputs of n examples: out := output(W2 @ g(W1 @ x + b1) + b2) for each example x.

    rows False: X is n_x x n (row stride ldx, one example per column) and out
    n_y x n (row stride ldo).  rows True: X is n x n_x (one example per row,
    row stride ldx) and out n x n_y (contiguous: ldo is n_y).  output is a resolved
    mode (not OUT_AUTO).  S holds (n_h + 1) n, and (n_x + n_y) n more with rows.
    """
    cdef floating* H = S
    cdef floating* XT = S + (n_h + 1) * n
    cdef floating* Z2 = XT + n_x * n
    cdef Py_ssize_t ldz = n
    if rows:
        _transpose(X, ldx, n, n_x, XT)
        X, ldx = XT, n
    else:
        Z2, ldz = out, ldo
    _hidden_forward(X, ldx, W1, b1, W2, H, H, n, Z2, ldz, n_x, n_h, n_y, n, act)
    _output_mode(Z2, ldz, b2, n_y, n, output, H + n_h * n)
    if rows:
        _transpose(Z2, n, n_y, n, out)


def predict_scratch(Py_ssize_t n_x, Py_ssize_t n_h, Py_ssize_t n_y, Py_ssize_t block, bint rows):
    """The scratch elements one thread of a prediction entry needs for blocks of `block` examples.

    Parameters
    ----------
    n_x, n_h, n_y : int
        The network's sizes.
    block : int
        Examples per block.
    rows : bool
        True for predict_rows (examples in rows), False for predict_proba.

    Returns
    -------
    int
    """
    return (n_h + 1 + (n_x + n_y if rows else 0)) * block


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
    A2 : floating[:, ::1], (n_y, m)
        OUT: the probabilities, sigmoid (n_y = 1) or softmax of the output layer.
    H : floating[:, ::1], (n_h + 1, block), block >= 1
        SCRATCH: a block's hidden layer, then a row for the softmax; its
        number of columns sets the block.

    Returns
    -------
    None

    Raises
    ------
    ValueError
        A shape disagrees with X's and the weights', or act is unknown.
    """
    cdef Py_ssize_t n_x = X.shape[0], m = X.shape[1], n_h = W1.shape[0], n_y = W2.shape[0]
    cdef Py_ssize_t block = H.shape[1], j0, n
    cdef int output
    _check_network(X.shape, W1.shape, b1.shape[0], W2.shape, b2.shape[0], act)
    _check_2d("A2", A2.shape, n_y, m, "(n_y, m), n_y = W2.shape[0], m = X.shape[1]")
    if H.shape[0] != n_h + 1 or (block < 1 and m > 0):
        _check_2d("H", H.shape, n_h + 1, max(block, 1), "(n_h + 1, block >= 1), n_h = W1.shape[0]")
    output = _check_output(OUT_AUTO, n_y)
    _need_blas()
    with nogil:
        j0 = 0
        while j0 < m:
            n = min(block, m - j0)
            _predict_block(&X[0, j0], m, False, &W1[0, 0], &b1[0], &W2[0, 0], &b2[0], &A2[0, j0], m,
                           n_x, n_h, n_y, n, act, output, &H[0, 0])
            j0 += block


ctypedef struct _PredictCall:
    # The arguments of one call of predict_rows (pointers of its dtype).
    const void* X
    const void* W1
    const void* b1
    const void* W2
    const void* b2
    void* out
    void* S
    Py_ssize_t n_x, n_h, n_y, m, block, scratch
    int act, output


cdef void _predict_rows_part(_PredictCall* c, Py_ssize_t t, Py_ssize_t threads,
                             const floating* X) noexcept nogil:
    """Member t of `threads`: its run of consecutive blocks (equal runs, the first ones a block longer)."""
    cdef Py_ssize_t n_blocks = (c.m + c.block - 1) // c.block
    cdef Py_ssize_t q = n_blocks // threads, r = n_blocks % threads
    cdef Py_ssize_t start = t * q + min(t, r), stop, k, j0
    stop = start + q + (1 if t < r else 0)
    for k in range(start, stop):
        j0 = k * c.block
        _predict_block(X + j0 * c.n_x, c.n_x, True, <const floating*> c.W1, <const floating*> c.b1,
                       <const floating*> c.W2, <const floating*> c.b2,
                       (<floating*> c.out) + j0 * c.n_y, c.n_y, c.n_x, c.n_h, c.n_y,
                       min(c.block, c.m - j0), c.act, c.output, (<floating*> c.S) + t * c.scratch)


cdef void _predict_member_double(void* c, snf_team* team, Py_ssize_t t) noexcept nogil:
    _predict_rows_part(<_PredictCall*> c, t, snf_team_size(team), <const double*> (<_PredictCall*> c).X)


cdef void _predict_member_float(void* c, snf_team* team, Py_ssize_t t) noexcept nogil:
    _predict_rows_part(<_PredictCall*> c, t, snf_team_size(team), <const float*> (<_PredictCall*> c).X)


def predict_rows(const floating[:, ::1] X not None,   # IN  (m, n_x): one example per row
                 const floating[:, ::1] W1 not None,  # IN  (n_h, n_x)
                 const floating[::1] b1 not None,     # IN  (n_h,)
                 const floating[:, ::1] W2 not None,  # IN  (n_y, n_h)
                 const floating[::1] b2 not None,     # IN  (n_y,)
                 int act, int output,
                 floating[:, ::1] out not None,       # OUT (m, n_y)
                 floating[:, ::1] S not None,         # SCRATCH (team, predict_scratch(..., block, True))
                 Py_ssize_t block):
    """out := output(X @ W1.T + b1 -> g -> @ W2.T + b2), block of rows by block of rows.

    The examples are rows (scikit-learn's layout): nothing is transposed
    whole.  S's first dimension is the team: that many threads of the kernels'
    own share the blocks (member 0 the calling thread), each with its row of S;
    each thread's BLAS products obey the calling thread's gemm bound
    (set_gemm_limit).  Results do not depend on the team's size.

    Parameters
    ----------
    X : floating[:, ::1], (m, n_x)
        IN: the examples, one per row.
    W1, b1, W2, b2 : floating, (n_h, n_x), (n_h,), (n_y, n_h), (n_y,)
        IN: the parameters.
    act : int
        The hidden activation g, a value of ACTIVATION_CODES.
    output : int
        The output layer, a value of OUTPUT_CODES.
    out : floating[:, ::1], (m, n_y)
        OUT: the outputs, one example per row.
    S : floating[:, ::1], (team, predict_scratch(n_x, n_h, n_y, block, True)), team >= 1
        SCRATCH: one row per thread.
    block : int
        Examples per block, >= 1.

    Returns
    -------
    None

    Raises
    ------
    ValueError
        A shape disagrees, block < 1, or act or output is unknown.
    """
    cdef Py_ssize_t m = X.shape[0], n_x = X.shape[1], n_h = W1.shape[0], n_y = W2.shape[0]
    cdef Py_ssize_t team = S.shape[0], threads
    cdef Py_ssize_t x_shape[2]
    cdef _PredictCall call
    x_shape[:] = [n_x, m]
    _check_network(x_shape, W1.shape, b1.shape[0], W2.shape, b2.shape[0], act)
    output = _check_output(output, n_y)
    _check_positive("block", block)
    _check_2d("out", out.shape, m, n_y, "(m, n_y), m = X.shape[0], n_y = W2.shape[0]")
    _check_positive("S.shape[0] (the team)", team)
    _check_2d("S", S.shape, team, (n_h + 1 + n_x + n_y) * block,
              "(team, predict_scratch(n_x, n_h, n_y, block, True))")
    if m == 0:
        return
    _need_blas()
    call.X, call.W1, call.b1, call.W2, call.b2 = &X[0, 0], &W1[0, 0], &b1[0], &W2[0, 0], &b2[0]
    call.out, call.S = &out[0, 0], &S[0, 0]
    call.n_x, call.n_h, call.n_y, call.m, call.block = n_x, n_h, n_y, m, block
    call.scratch, call.act, call.output = S.shape[1], act, output
    threads = min(team, (m + block - 1) // block)
    with nogil:
        if threads == 1:
            _predict_rows_part(&call, 0, 1, &X[0, 0])
        elif floating is float:
            snf_team_run(_predict_member_float, &call, threads)
        else:
            snf_team_run(_predict_member_double, &call, threads)


# ---------------------------------------------------------------- the latency path

cdef inline bint _plain(object a, int typenum, int ndim):
    """a is exactly an ndarray of type `typenum`, `ndim` dimensions, C-contiguous, aligned, native byte order."""
    cdef cnp.ndarray arr
    if not cnp.PyArray_CheckExact(a):
        return False
    arr = <cnp.ndarray> a
    return (cnp.PyArray_TYPE(arr) == typenum and cnp.PyArray_NDIM(arr) == ndim
            and cnp.PyArray_ISCARRAY_RO(arr) and cnp.PyArray_ISNOTSWAPPED(arr))


cdef bint _labels_of(const floating* X, const floating* W1, const floating* b1, const floating* W2,
                     const floating* b2, Py_ssize_t n_x, Py_ssize_t n_h, Py_ssize_t n_y,
                     Py_ssize_t m, int act, floating* S, char* labels) noexcept nogil:
    """The labels of fast.predict into `labels` (n_y = 1: m bools A2 > 0.5; else m np.intp, the first
    row of the column maximum); False, with nothing computed, when an input is not finite.
    S holds (n_h + 1 + n_y) m."""
    cdef floating* A2 = S + (n_h + 1) * m
    cdef Py_ssize_t j, k, best
    if not (_row_finite(X, n_x * m) and _row_finite(W1, n_h * n_x) and _row_finite(b1, n_h)
            and _row_finite(W2, n_y * n_h) and _row_finite(b2, n_y)):
        return False
    _predict_block(X, m, False, W1, b1, W2, b2, A2, m, n_x, n_h, n_y, m, act,
                   OUT_LOGISTIC if n_y == 1 else OUT_SOFTMAX, S)
    if n_y == 1:
        for j in range(m):
            (<cnp.npy_bool*> labels)[j] = A2[j] > <floating> 0.5
        return True
    for j in range(m):
        best = 0
        for k in range(1, n_y):
            if A2[k * m + j] > A2[best * m + j]:
                best = k
        (<cnp.npy_intp*> labels)[j] = best
    return True


def predict_labels(object parameters, object X, object activation, double most):
    """fast.predict(parameters, X, activation=activation) in one call for the common case, else None.

    The common case: `parameters` a dict of C-contiguous ndarrays W1 (n_h, n_x),
    b1 (n_h, 1), W2 (n_y, n_h), b2 (n_y, 1) and X (n_x, m) of one native float
    dtype, all finite, a known activation name, and at most `most` multiply-adds
    in the first product (n_h n_x m, small enough for BLAS to stay on this
    thread).  The result is the one the general path gives (the same block
    worker on the same arrays, one block); anything else returns None for the
    general path, which checks, raises or computes.

    Parameters
    ----------
    parameters : object
        The parameters, as fast.predict takes them.
    X : object
        The examples, one per column.
    activation : object
        The hidden activation's name.
    most : float
        The largest n_h n_x m taken here.

    Returns
    -------
    numpy.ndarray or None
        bool (1, m) for one output unit, np.intp (m,) otherwise; None when the
        arguments are not the common case.
    """
    cdef int typenum, act
    cdef Py_ssize_t n_x, n_h, n_y, m
    cdef cnp.npy_intp dims[2]
    cdef cnp.ndarray labels
    cdef void* S
    cdef bint ok
    if type(parameters) is not dict or type(activation) is not str:
        return None
    code = (<dict> ACTIVATION_CODES).get(activation)
    if code is None or not cnp.PyArray_CheckExact(X):
        return None
    W1, b1 = (<dict> parameters).get("W1"), (<dict> parameters).get("b1")
    W2, b2 = (<dict> parameters).get("W2"), (<dict> parameters).get("b2")
    typenum = cnp.PyArray_TYPE(<cnp.ndarray> X)
    if typenum != cnp.NPY_DOUBLE and typenum != cnp.NPY_FLOAT:
        return None
    if not (_plain(X, typenum, 2) and _plain(W1, typenum, 2) and _plain(b1, typenum, 2)
            and _plain(W2, typenum, 2) and _plain(b2, typenum, 2)):
        return None
    n_h, n_x = cnp.PyArray_DIMS(<cnp.ndarray> W1)[0], cnp.PyArray_DIMS(<cnp.ndarray> W1)[1]
    n_y, m = cnp.PyArray_DIMS(<cnp.ndarray> W2)[0], cnp.PyArray_DIMS(<cnp.ndarray> X)[1]
    if (n_h < 1 or n_x < 1 or n_y < 1 or m < 1 or cnp.PyArray_DIMS(<cnp.ndarray> X)[0] != n_x
            or cnp.PyArray_DIMS(<cnp.ndarray> W2)[1] != n_h
            or cnp.PyArray_DIMS(<cnp.ndarray> b1)[0] != n_h or cnp.PyArray_DIMS(<cnp.ndarray> b1)[1] != 1
            or cnp.PyArray_DIMS(<cnp.ndarray> b2)[0] != n_y or cnp.PyArray_DIMS(<cnp.ndarray> b2)[1] != 1
            or <double> n_h * n_x * m > most):
        return None
    act = code
    if n_y == 1:
        dims[0], dims[1] = 1, m
        labels = cnp.PyArray_EMPTY(2, dims, cnp.NPY_BOOL, 0)
    else:
        dims[0] = m
        labels = cnp.PyArray_EMPTY(1, dims, cnp.NPY_INTP, 0)
    if _use_blas(n_h, n_x):
        _need_blas()
    S = malloc((n_h + 1 + n_y) * m * (8 if typenum == cnp.NPY_DOUBLE else 4))
    if S == NULL:
        return None
    if typenum == cnp.NPY_DOUBLE:
        ok = _labels_of(<const double*> cnp.PyArray_DATA(<cnp.ndarray> X),
                        <const double*> cnp.PyArray_DATA(<cnp.ndarray> W1),
                        <const double*> cnp.PyArray_DATA(<cnp.ndarray> b1),
                        <const double*> cnp.PyArray_DATA(<cnp.ndarray> W2),
                        <const double*> cnp.PyArray_DATA(<cnp.ndarray> b2),
                        n_x, n_h, n_y, m, act, <double*> S, <char*> cnp.PyArray_DATA(labels))
    else:
        ok = _labels_of(<const float*> cnp.PyArray_DATA(<cnp.ndarray> X),
                        <const float*> cnp.PyArray_DATA(<cnp.ndarray> W1),
                        <const float*> cnp.PyArray_DATA(<cnp.ndarray> b1),
                        <const float*> cnp.PyArray_DATA(<cnp.ndarray> W2),
                        <const float*> cnp.PyArray_DATA(<cnp.ndarray> b2),
                        n_x, n_h, n_y, m, act, <float*> S, <char*> cnp.PyArray_DATA(labels))
    free(S)
    return labels if ok else None

# Elementwise sweeps over one row of a block: activation (with the product
# for tiny n_x folded in), the hidden delta, and a scaled row added or stored.

# Each sweep below is written once, as an inline loop over a hidden activation
# `act`, and called with `act` a literal constant, so that the compiler folds
# g and g' to one formula and vectorises every specialisation.

cdef inline void _activate_loop(const floating* z, floating* a, Py_ssize_t n, floating b,
                                int act) noexcept nogil:
    """a := g(z + b) for one literal act."""
    cdef Py_ssize_t j
    for j in range(n):
        a[j] = _g(z[j] + b, act)


# tanh runs in two sweeps: the first holds nothing but the calls to the vector
# expm1 (which clobber every vector register), the second the division, whose
# latency then overlaps from one vector to the next.  Each value is the one
# _tanh gives: with t = expm1(-2|x|) <= 0 kept as s = copysign(t, x),
# -t / (t + 2) is |s| / (2 - |s|), the same two operations.

cdef inline void _tanh_first_sweep(const floating* z, floating* s, Py_ssize_t n,
                                   floating b) noexcept nogil:
    """s := copysign(expm1(-2|z + b|), z + b); s may be z."""
    cdef Py_ssize_t j
    cdef floating x
    for j in range(n):
        x = z[j] + b
        s[j] = _copysign(_expm1(-2 * _abs(x)), x)


cdef inline floating _small_product(const floating* X, Py_ssize_t ldx, const floating* w,
                                    Py_ssize_t j, int K) noexcept nogil:
    """(w @ X)[j] for a row w of K <= 3 weights, summed in _product's order."""
    cdef floating z = w[0] * X[j]
    if K >= 2:
        z = z + w[1] * X[ldx + j]
    if K >= 3:
        z = z + w[2] * X[2 * ldx + j]
    return z


cdef inline void _tanh_first_sweep_product(const floating* X, Py_ssize_t ldx,
                                           const floating* w, floating* s, Py_ssize_t n,
                                           floating b, int K) noexcept nogil:
    """s := the first sweep of tanh on (w @ X) + b, the product (K <= 3) formed on the way."""
    cdef Py_ssize_t j
    cdef floating x
    for j in range(n):
        x = _small_product(X, ldx, w, j, K) + b
        s[j] = _copysign(_expm1(-2 * _abs(x)), x)


cdef inline floating _tanh_finish(floating s) noexcept nogil:
    """tanh from the first sweep's s: copysign(|s| / (2 - |s|), s)."""
    cdef floating u = _abs(s)
    return _copysign(u / (2 - u), s)


cdef void _activate_row(const floating* z, floating* a, Py_ssize_t n, floating b,
                        int act) noexcept nogil:
    """a := g(z + b) over one row; a may be z."""
    cdef Py_ssize_t j
    if act == TANH:
        _tanh_first_sweep(z, a, n, b)
        for j in range(n):
            a[j] = _tanh_finish(a[j])
    elif act == RELU:
        _activate_loop(z, a, n, b, RELU)
    elif act == LEAKY_RELU:
        _activate_loop(z, a, n, b, LEAKY_RELU)
    elif act == IDENTITY:
        _activate_loop(z, a, n, b, IDENTITY)
    else:
        _activate_loop(z, a, n, b, SIGMOID)


cdef inline void _activate_output_loop(const floating* z, floating* a, Py_ssize_t n,
                                       floating b, int act, floating w,
                                       floating* o) noexcept nogil:
    """a := g(z + b); o += w * a, for one literal act."""
    cdef Py_ssize_t j
    cdef floating t
    for j in range(n):
        t = _g(z[j] + b, act)
        a[j] = t
        o[j] = o[j] + w * t


cdef inline void _tanh_output_sweep(floating* a, Py_ssize_t n, floating w,
                                    floating* o) noexcept nogil:
    """a := tanh from the first sweep's a; o += w * a."""
    cdef Py_ssize_t j
    cdef floating t
    for j in range(n):
        t = _tanh_finish(a[j])
        a[j] = t
        o[j] = o[j] + w * t


cdef void _activate_output_row(const floating* z, floating* a, Py_ssize_t n, floating b,
                               int act, floating w, floating* o) noexcept nogil:
    """a := g(z + b); o += w * a (a single output unit); a may be z."""
    cdef Py_ssize_t j
    cdef floating t
    if act == TANH:
        _tanh_first_sweep(z, a, n, b)
        _tanh_output_sweep(a, n, w, o)
    elif act == RELU:
        _activate_output_loop(z, a, n, b, RELU, w, o)
    elif act == LEAKY_RELU:
        _activate_output_loop(z, a, n, b, LEAKY_RELU, w, o)
    elif act == IDENTITY:
        _activate_output_loop(z, a, n, b, IDENTITY, w, o)
    else:
        _activate_output_loop(z, a, n, b, SIGMOID, w, o)


cdef inline void _delta_loop(const floating* a, const floating* back, floating* d,
                             Py_ssize_t n, int act) noexcept nogil:
    """d := back * g'(a), for one literal act."""
    cdef Py_ssize_t j
    for j in range(n):
        d[j] = back[j] * _dg(a[j], act)


cdef void _delta_row(const floating* a, const floating* back, floating* d, Py_ssize_t n,
                     int act) noexcept nogil:
    """d := back * g'(z) over one row, g' written in terms of a = g(z); d may be a."""
    if act == TANH:
        _delta_loop(a, back, d, n, TANH)
    elif act == RELU:
        _delta_loop(a, back, d, n, RELU)
    elif act == LEAKY_RELU:
        _delta_loop(a, back, d, n, LEAKY_RELU)
    elif act == IDENTITY:
        _delta_loop(a, back, d, n, IDENTITY)
    else:
        _delta_loop(a, back, d, n, SIGMOID)


cdef inline void _delta_output_loop(const floating* a, const floating* o, floating* d,
                                    Py_ssize_t n, floating w, int act) noexcept nogil:
    """d := (w * o) * g'(a), for one literal act."""
    cdef Py_ssize_t j
    for j in range(n):
        d[j] = (w * o[j]) * _dg(a[j], act)


cdef void _delta_output_row(const floating* a, const floating* o, floating* d, Py_ssize_t n,
                            floating w, int act, floating* dw, bint accumulate) noexcept nogil:
    """For a single output unit with delta o and weight w into this hidden unit:
    dw (+)= sum(o * a); d := (w * o) * g'(a).  d may be a.

    Separate sweeps over a row that stays in L1: the elementwise one on its own
    vectorises cleanly, where one sweep carrying the reductions as well did not.
    """
    _add_to(dw, _dot(o, a, n), accumulate)  # before d overwrites a
    if act == TANH:
        _delta_output_loop(a, o, d, n, w, TANH)
    elif act == RELU:
        _delta_output_loop(a, o, d, n, w, RELU)
    elif act == LEAKY_RELU:
        _delta_output_loop(a, o, d, n, w, LEAKY_RELU)
    elif act == IDENTITY:
        _delta_output_loop(a, o, d, n, w, IDENTITY)
    else:
        _delta_output_loop(a, o, d, n, w, SIGMOID)


cdef inline void _scaled_row(floating w, const floating* x, floating* out, Py_ssize_t n,
                             bint accumulate) noexcept nogil:
    """out := w * x, or out += w * x."""
    cdef Py_ssize_t j
    if accumulate:
        for j in range(n):
            out[j] += w * x[j]
    else:
        for j in range(n):
            out[j] = w * x[j]

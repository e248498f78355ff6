# Reductions in a fixed order: sums and dot products accumulated in double in
# LANES partial sums (so that they vectorise) and combined pairwise, so that a
# result never depends on the instruction set or the thread count.

cdef enum:
    LANES = 16  # partial sums of the reductions below: two AVX-512 vectors of doubles


cdef double _dot(const floating* a, const floating* b, Py_ssize_t n) noexcept nogil:
    """sum(a * b) in double: LANES partial sums (j mod LANES), combined in a fixed order."""
    cdef double acc[LANES]
    cdef Py_ssize_t j, lane, n_full = n - n % LANES
    for lane in range(LANES):
        acc[lane] = 0
    for j in range(0, n_full, 16):  # 16 == LANES (range needs a literal step)
        for lane in range(LANES):
            acc[lane] += <double> a[j + lane] * <double> b[j + lane]
    for j in range(n_full, n):
        acc[0] += <double> a[j] * <double> b[j]
    return _combine(acc)


cdef double _sum(const floating* a, Py_ssize_t n) noexcept nogil:
    """sum(a) in double: LANES partial sums, combined in a fixed order."""
    cdef double acc[LANES]
    cdef Py_ssize_t j, lane, n_full = n - n % LANES
    for lane in range(LANES):
        acc[lane] = 0
    for j in range(0, n_full, 16):
        for lane in range(LANES):
            acc[lane] += a[j + lane]
    for j in range(n_full, n):
        acc[0] += a[j]
    return _combine(acc)


# The type of a combined accumulator, apart from `floating` so that a kernel on
# float data may combine double partial sums.
ctypedef fused lanes_t:
    float
    double


cdef inline lanes_t _combine(const lanes_t* acc) noexcept nogil:
    """The LANES partial sums, pairwise in a fixed order: ((a0 + a1) + (a2 + a3)) + ... ."""
    return ((((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])))
            + (((acc[8] + acc[9]) + (acc[10] + acc[11])) + ((acc[12] + acc[13]) + (acc[14] + acc[15]))))


cdef inline void _add_to(floating* target, double value, bint accumulate) noexcept nogil:
    """target := value, or target += value when accumulate (value rounded to floating)."""
    if accumulate:
        target[0] = target[0] + <floating> value
    else:
        target[0] = <floating> value


cdef double _squares(const floating* a, Py_ssize_t n) noexcept nogil:
    """sum(a * a) in double (_dot's order)."""
    return _dot(a, a, n)

# The one place the kernels reach BLAS: SciPy's Cython bindings, so nothing
# is linked at build time; their addresses are bound on first use (_blas.h,
# _need_blas in _kernels.pxi), so that importing the kernels costs no import
# of scipy.linalg.  Those bindings are column-major (Fortran); every
# array here is row-major (C).  A row-major C = op(A) @ op(B) is the
# column-major C.T = op(B).T @ op(A).T, so the wrapper swaps the operands
# and the sizes, as scikit-learn's `_gemm` does for `RowMajor`.
#
# The calling thread's snf_gemm_limit (src/_team.h), when not 0, bounds
# M * N * K of each call into BLAS: a larger product is computed in pieces of
# rows and columns of C (each element's sum over K is whole in one piece), so
# that a BLAS running small products on the calling thread alone never wakes
# its own threads for this thread's products.

from cython cimport floating
from libc.math cimport sqrt

cdef extern from "_team.h":
    double snf_gemm_limit

cdef extern from "_blas.h":
    ctypedef void (*snf_sgemm_t)(char*, char*, int*, int*, int*, float*, float*, int*, float*, int*,
                                 float*, float*, int*) noexcept nogil
    ctypedef void (*snf_dgemm_t)(char*, char*, int*, int*, int*, double*, double*, int*, double*, int*,
                                 double*, double*, int*) noexcept nogil
    snf_sgemm_t snf_sgemm
    snf_dgemm_t snf_dgemm


cdef inline void _gemm1(bint trans_a, bint trans_b, int M, int N, int K,
                        floating alpha, const floating* A, int lda,
                        const floating* B, int ldb,
                        floating beta, floating* C, int ldc) noexcept nogil:
    cdef char ta = b'T' if trans_a else b'N'
    cdef char tb = b'T' if trans_b else b'N'
    if floating is float:
        snf_sgemm(&tb, &ta, &N, &M, &K, &alpha, <float*> B, &ldb, <float*> A, &lda,
                  &beta, C, &ldc)
    else:
        snf_dgemm(&tb, &ta, &N, &M, &K, &alpha, <double*> B, &ldb, <double*> A, &lda,
                  &beta, C, &ldc)


cdef inline void gemm(bint trans_a, bint trans_b, int M, int N, int K,
                      floating alpha, const floating* A, int lda,
                      const floating* B, int ldb,
                      floating beta, floating* C, int ldc) noexcept nogil:
    """C := alpha * op(A) @ op(B) + beta * C, row-major; C is M x N, K >= 1."""
    cdef double limit = snf_gemm_limit
    cdef int mc, nc, i, j
    if M <= 0 or N <= 0:
        return
    if limit <= 0 or <double> M * N * K <= limit:
        _gemm1(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)
        return
    # pieces of about sqrt(limit / K) rows and columns of C (square, so that
    # BLAS's packing of either operand is shared by as many products as can
    # be), the whole of a side that fits
    mc = <int> min(<double> M, max(1.0, sqrt(limit / K)))
    nc = <int> min(<double> N, max(1.0, (limit / K) // mc))
    if nc == N:
        mc = <int> min(<double> M, max(1.0, (limit / K) // nc))
    i = 0
    while i < M:
        j = 0
        while j < N:
            _gemm1(trans_a, trans_b, min(mc, M - i), min(nc, N - j), K, alpha,
                   A + (i if trans_a else <Py_ssize_t> i * lda), lda,
                   B + (<Py_ssize_t> j * ldb if trans_b else j), ldb,
                   beta, C + <Py_ssize_t> i * ldc + j, ldc)
            j += nc
        i += mc

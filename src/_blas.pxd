# The one place the kernels reach BLAS: SciPy's Cython bindings, so nothing
# is linked at build time.  Those bindings are column-major (Fortran); every
# array here is row-major (C).  A row-major C = op(A) @ op(B) is the
# column-major C.T = op(B).T @ op(A).T, so the wrapper swaps the operands
# and the sizes, as scikit-learn's `_gemm` does for `RowMajor`.

from cython cimport floating
from scipy.linalg.cython_blas cimport sgemm, dgemm


cdef inline void gemm(bint trans_a, bint trans_b, int M, int N, int K,
                      floating alpha, const floating* A, int lda,
                      const floating* B, int ldb,
                      floating beta, floating* C, int ldc) noexcept nogil:
    """C := alpha * op(A) @ op(B) + beta * C, row-major; C is M x N, K >= 1."""
    cdef char ta = b'T' if trans_a else b'N'
    cdef char tb = b'T' if trans_b else b'N'
    if M <= 0 or N <= 0:
        return
    if floating is float:
        sgemm(&tb, &ta, &N, &M, &K, &alpha, <float*> B, &ldb, <float*> A, &lda,
              &beta, C, &ldc)
    else:
        dgemm(&tb, &ta, &N, &M, &K, &alpha, <double*> B, &ldb, <double*> A, &lda,
              &beta, C, &ldc)

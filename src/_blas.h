/* The BLAS products the kernels call: SciPy's sgemm and dgemm, whose
 * addresses src/_kernels.pxi (_need_blas) takes from the capsules of
 * scipy.linalg.cython_blas on the first call of an entry that may need them,
 * so that importing the kernels does not import scipy.linalg. */
#ifndef SNF_BLAS_H
#define SNF_BLAS_H

typedef void (*snf_sgemm_t)(char *, char *, int *, int *, int *, float *, float *, int *, float *,
                            int *, float *, float *, int *);
typedef void (*snf_dgemm_t)(char *, char *, int *, int *, int *, double *, double *, int *,
                            double *, int *, double *, double *, int *);

static snf_sgemm_t snf_sgemm = 0;
static snf_dgemm_t snf_dgemm = 0;

#endif

# The kernels of the shallow network, included once per instruction set by
# src/_core.pyx (any x86-64), src/_core_avx2.pyx and src/_core_avx512.pyx;
# setup.py compiles each with its own flags and shallownet_fast/_dispatch.py
# picks one at run time.  This file only gathers the pieces, each in its own
# file by concern, from the scalar maths up to the `def` entries:
#
#   _constants.pxi   solver and activation codes, BLAS thresholds, build facts
#   _math.pxi        scalar maths over _vmath.h (exp, expm1, tanh, log, ...),
#                    the activations g and g'
#   _reduce.pxi      fixed-order sums and dot products (LANES partial sums)
#   _checks.pxi      shape checks of the entries' arguments, finiteness checks
#                    (all_finite, network_finite), test hooks (gemm_check,
#                    product_check)
#   _sweeps.pxi      elementwise sweeps over one row (activate, delta, scale)
#   _layers.pxi      products, layers, losses, deltas and parameter updates
#                    over a block of columns
#   _entries.pxi     forward, cost, backward, predict_proba
#   _train.pxi       full-batch gradient descent (train), serial or a team
#                    of threads of its own (_team.h)
#   _epoch.pxi       one epoch of mini-batch sgd / adam (train_epoch)
#
# Conventions:
# - `def` entries take typed memoryviews, each marked # IN, # OUT, # IN/OUT or
#   # SCRATCH with its shape; they check that the shapes agree (ValueError
#   naming the argument) before anything is written, then release the GIL and
#   call the workers.  Values (finite, in range) are shallownet_fast/fast.py's
#   and _validation.py's concern.
# - `cdef ... noexcept nogil` workers cannot fail.
# - Every array is C-contiguous and of one dtype (`floating`: float32 or
#   float64, one body, two specialisations).  Matrices are (rows, m) with one
#   example per column, so row sweeps run over contiguous memory.
#
# The formulas are those of shallownet_fast/reference.py, operation for
# operation (a sigmoid that selects 1/(1+e) or e/(1+e) with e = exp(-|z|), a
# softmax shifted by the column maximum, a clipped logarithm in the cost,
# the output delta A2 - Y), so the two implementations agree to rounding.

from cython cimport floating
from libc.float cimport FLT_EPSILON, DBL_EPSILON
from libc.math cimport copysign, copysignf, fabs, fabsf, sqrt, sqrtf
from cpython.exc cimport PyErr_CheckSignals

cdef extern from "_team.h" nogil:
    ctypedef struct snf_team:
        pass
    ctypedef void (*snf_member_fn)(void* ctx, snf_team* team, Py_ssize_t t) noexcept nogil
    Py_ssize_t snf_team_run(snf_member_fn fn, void* ctx, Py_ssize_t n)
    Py_ssize_t snf_team_size(snf_team* team)
    void snf_team_barrier(snf_team* team)
    int SNF_PTHREADS
    double snf_gemm_limit

from _blas cimport gemm


include "_constants.pxi"
include "_math.pxi"
include "_reduce.pxi"
include "_checks.pxi"
include "_sweeps.pxi"
include "_layers.pxi"
include "_entries.pxi"
include "_train.pxi"
include "_epoch.pxi"

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
#   _entries.pxi     forward, cost, backward
#   _train.pxi       full-batch gradient descent (train), serial or a team
#                    of threads of its own (_team.h)
#   _epoch.pxi       one epoch of mini-batch sgd / adam (train_epoch)
#   _gradient.pxi    output modes, the full-batch loss and gradient of MLP
#                    (loss_gradient), a sparse (CSR) first layer
#                    (loss_gradient_csr, predict_csr)
#   _predict.pxi     prediction by blocks of columns (predict_proba) or rows
#                    (predict_rows, a team of threads), the latency path of
#                    fast.predict (predict_labels)
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

from cpython.pycapsule cimport PyCapsule_GetName, PyCapsule_GetPointer

from _blas cimport gemm, snf_dgemm, snf_dgemm_t, snf_sgemm, snf_sgemm_t


def _cython_blas():
    """scipy.linalg.cython_blas, loaded from its file alone when it can be (scipy.linalg's Python layer
    is not imported: only the scipy package its module needs), else imported as usual."""
    import importlib.machinery
    import importlib.util
    import os
    import sys

    name = "scipy.linalg.cython_blas"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec("scipy")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(folder, "linalg", "cython_blas" + suffix)
            if os.path.isfile(path):
                loader = importlib.machinery.ExtensionFileLoader(name, path)
                found = importlib.util.spec_from_file_location(name, path, loader=loader)
                module = importlib.util.module_from_spec(found)
                loader.exec_module(module)
                return module
    from scipy.linalg import cython_blas

    return cython_blas


cdef inline void _need_blas() except *:
    """Bind snf_sgemm and snf_dgemm to SciPy's, once (entries that may call gemm begin with this)."""
    global snf_sgemm, snf_dgemm
    if snf_dgemm != NULL and snf_sgemm != NULL:
        return
    capi = _cython_blas().__pyx_capi__
    s, d = capi["sgemm"], capi["dgemm"]
    snf_sgemm = <snf_sgemm_t> PyCapsule_GetPointer(s, PyCapsule_GetName(s))
    snf_dgemm = <snf_dgemm_t> PyCapsule_GetPointer(d, PyCapsule_GetName(d))


include "_constants.pxi"
include "_math.pxi"
include "_reduce.pxi"
include "_checks.pxi"
include "_sweeps.pxi"
include "_layers.pxi"
include "_entries.pxi"
include "_train.pxi"
include "_epoch.pxi"
include "_gradient.pxi"
include "_predict.pxi"

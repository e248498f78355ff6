"""The shallow network on compiled kernels: the API of :mod:`shallownet_fast.reference`.

Every function has the reference's signature, checks its arguments with the
same code (so both raise the same errors), and returns the same numbers to
rounding.  The numeric work runs in shallownet_fast._core (Cython, GIL
released); :func:`nn_model` runs the whole training loop there, with every
buffer allocated once per call.

Inputs of any layout (C- or F-ordered, strided, read-only) are accepted; the
kernels get C-contiguous copies where needed and never write to an input.
"""

import numpy as np

from . import _threads, _validation
from ._dispatch import kernels as _core
from ._params import initialize_parameters, layer_sizes, training_start, update_parameters
from .reference import PRINT_EVERY, _print_cost

__all__ = [
    "layer_sizes",
    "initialize_parameters",
    "forward_propagation",
    "compute_cost",
    "backward_propagation",
    "update_parameters",
    "nn_model",
    "predict",
]

_contig = np.ascontiguousarray
_kernel_sizes = _validation.check_kernel_sizes

# The shared checks, with the compiled finiteness tests (no temporary array).
# Specialisations looked up by dtype cost less per call than a fused
# function's own dispatch, which matters when predicting one example.
_F64, _F32 = np.dtype(np.float64), np.dtype(np.float32)
_checks = _validation.Checks(
    all_finite=_core.all_finite,
    network_finite={_F64: _core.network_finite["double"], _F32: _core.network_finite["float"]},
)


def _kernel_args(X, W1, b1, W2, b2, activation):
    # b1 and b2 are checked (n, 1) ndarrays: ravel gives a contiguous (n,) view or copy
    return _contig(X), _contig(W1), b1.ravel(), _contig(W2), b2.ravel(), _core.ACTIVATION_CODES[activation]


def forward_propagation(X, parameters, *, activation="tanh"):
    X, W1, b1, W2, b2 = _checks.check_forward_inputs(X, parameters, activation)
    _kernel_sizes("X", X, "W1", W1, "W2", W2)
    (n_h, m), n_y, dt = (W1.shape[0], X.shape[1]), W2.shape[0], X.dtype
    Z1, A1 = np.empty((n_h, m), dt), np.empty((n_h, m), dt)
    Z2, A2 = np.empty((n_y, m), dt), np.empty((n_y, m), dt)
    _core.forward(*_kernel_args(X, W1, b1, W2, b2, activation), Z1, A1, Z2, A2, np.empty(m, dt))
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def compute_cost(A2, Y):
    A2, Y = _checks.check_cost_inputs(A2, Y)
    _kernel_sizes("A2", A2)
    return _core.cost(_contig(A2), _contig(Y), np.empty(A2.shape[1], A2.dtype))


def backward_propagation(parameters, cache, X, Y, *, activation="tanh"):
    X, Y, W2, A1, A2 = _checks.check_backward_inputs(parameters, cache, X, Y, activation)
    _kernel_sizes("X", X, "W2", W2)
    (n_x, m), (n_y, n_h), dt = X.shape, W2.shape, X.dtype
    dW1, db1 = np.empty((n_h, n_x), dt), np.empty((n_h, 1), dt)
    dW2, db2 = np.empty((n_y, n_h), dt), np.empty((n_y, 1), dt)
    _core.backward(
        _contig(X),
        _contig(Y),
        _contig(W2),
        _contig(A1),
        _contig(A2),
        _core.ACTIVATION_CODES[activation],
        dW1,
        db1.reshape(-1),
        dW2,
        db2.reshape(-1),
        np.empty((n_y, m), dt),
        np.empty((n_h, m), dt),
        np.empty(m, dt),
    )
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def nn_model(
    X,
    Y,
    n_h,
    num_iterations=10000,
    *,
    learning_rate=1.2,
    activation="tanh",
    parameters=None,
    init="normal",
    seed=None,
    print_cost=False,
    return_costs=False,
    n_threads=None,
):
    X, Y, (W1, b1, W2, b2), n_iter, lr, n_threads = training_start(
        _checks, X, Y, n_h, num_iterations, learning_rate, activation, parameters, init, seed, n_threads
    )
    _kernel_sizes("X", X, "W1", W1, "W2", W2)
    (n_x, m), (n_h, n_y), dt = X.shape, (W1.shape[0], Y.shape[0]), X.dtype
    # The parameters are updated in place: always on copies of our own.
    W1, W2 = np.array(W1, order="C"), np.array(W2, order="C")
    b1, b2 = np.array(b1.reshape(-1)), np.array(b2.reshape(-1))
    X, Y = _contig(X), _contig(Y)
    cost_every = 1 if return_costs else (PRINT_EVERY if print_cost else 0)
    costs = np.full(n_iter if cost_every else 0, np.nan)
    flops = _threads.flops(n_x, n_h, n_y, m)
    team, block, blas_context = _threads.training_plan(n_threads, n_x, n_h, m, dt, flops, _core)
    buffers = (
        np.empty((team, n_h, block), dt),
        np.empty((team, n_h, block), dt),
        np.empty((team, n_y, block), dt),
        np.empty((team, block), dt),
        np.empty((team, n_h * n_x + n_h + n_y * n_h + n_y), dt),
        np.empty(team),
    )
    code = _core.ACTIVATION_CODES[activation]
    step = _threads.iterations_per_call(flops, PRINT_EVERY)
    # Signals are looked at inside the kernel by a single thread only; a team's
    # calls are short enough (_WORK_PER_CALL) for Ctrl-C to wait for them.
    signal_every = _threads.signal_every(flops * block / m) if team == 1 else 0
    with blas_context:
        for first in range(0, n_iter, step):
            count = min(step, n_iter - first)
            out = costs[first : first + count] if cost_every else costs
            _core.train(X, Y, W1, b1, W2, b2, code, float(lr), first, count, cost_every, out, *buffers, signal_every)
            _checks.check_diverged((W1, b1, W2, b2), learning_rate, first + count)
            if print_cost:
                for i in range(-(-first // PRINT_EVERY) * PRINT_EVERY, first + count, PRINT_EVERY):
                    _print_cost(i, costs[i])
    params = {"W1": W1, "b1": b1.reshape(n_h, 1), "W2": W2, "b2": b2.reshape(n_y, 1)}
    return (params, costs) if return_costs else params


# _predict_rows copies a non-contiguous X this many blocks a thread at a time.
_ROWS_BLOCKS_PER_COPY = 8
_PREDICT_PROBA = {_F64: _core.predict_proba["double"], _F32: _core.predict_proba["float"]}
_predict_labels = _core.predict_labels
_SMALL_PREDICTION = _threads.SMALL_PREDICTION_WORK


def predict(parameters, X, *, activation="tanh"):
    # A few examples of the common case (plain C-contiguous arrays of one dtype, finite): one compiled
    # call that checks them and gives the labels the general path below would give.
    # (each size is at most the product, so none exceeds the kernels' limit either)
    labels = _predict_labels(parameters, X, activation, min(_SMALL_PREDICTION, _validation._KERNEL_MAX_DIM))
    if labels is not None:
        return labels
    X, W1, b1, W2, b2 = _checks.check_forward_inputs(X, parameters, activation)
    if X.size + W1.size + W2.size > _validation._KERNEL_MAX_DIM:  # else no dimension can exceed it
        _kernel_sizes("X", X, "W1", W1, "W2", W2)
    (n_h, m), n_y, dt = (W1.shape[0], X.shape[1]), W2.shape[0], X.dtype
    A2 = np.empty((n_y, m), dt)
    block = _threads.predict_block(n_h, m, dt)
    with _threads.prediction_blas(None, X.shape[0], n_h, n_y, block, _core):
        _PREDICT_PROBA[dt](*_kernel_args(X, W1, b1, W2, b2, activation), A2, np.empty((n_h + 1, block), dt))
    if n_y == 1:
        return A2 > 0.5
    return A2.argmax(axis=0)


def _predict_rows(X, parameters, *, activation="tanh", output="identity", n_threads=None):
    """Outputs (m, n_y) of the network for X of shape (m, n_x): one example per row (scikit-learn's layout).

    output "identity" gives the logits, "logistic" a sigmoid of each output,
    "softmax" their softmax.  X and the parameters are checked arrays of one
    dtype (the estimators' validation); X of any layout: a C-contiguous X is
    read in place, any other copied a few blocks at a time.  The threads are
    _threads.prediction_plan's (n_threads as the estimators take it); memory
    beyond the output: a block per thread.
    """
    W1, W2 = _contig(parameters["W1"]), _contig(parameters["W2"])
    b1, b2 = _contig(parameters["b1"]).ravel(), _contig(parameters["b2"]).ravel()
    (m, n_x), (n_h, n_y), dt = X.shape, (W1.shape[0], W2.shape[0]), W1.dtype
    _kernel_sizes("X", X, "W1", W1, "W2", W2)
    out = np.empty((m, n_y), dt)
    if m == 0:
        return out
    team, block, blas_context = _threads.prediction_plan(n_threads, n_x, n_h, n_y, m, dt, _core)
    scratch = np.empty((team, _core.predict_scratch(n_x, n_h, n_y, block, True)), dt)
    codes = _core.ACTIVATION_CODES[activation], _core.OUTPUT_CODES[output]
    with blas_context:
        if X.flags.c_contiguous and X.dtype == dt:
            _core.predict_rows(X, W1, b1, W2, b2, *codes, out, scratch, block)
            return out
        step = block * team * _ROWS_BLOCKS_PER_COPY
        for s in range(0, m, step):
            Xs = np.ascontiguousarray(X[s : s + step], dtype=dt)
            _core.predict_rows(Xs, W1, b1, W2, b2, *codes, out[s : s + step], scratch, block)
    return out


def _csr_arrays(X, dtype):
    """(data, indices, indptr) of a scipy sparse X (m, n_x) as CSR in `dtype` and np.intp: the kernels' sparse form.

    A CSR X of those dtypes is used as it is; any other is converted (a copy of
    its stored entries, never a dense array).  Raises ValueError for a NaN or
    infinite stored value.
    """
    X = X.tocsr()
    data = np.ascontiguousarray(X.data, dtype=dtype)
    if not _core.all_finite(data.reshape(1, -1)):
        raise ValueError("X contains NaN or infinity")
    return data, np.ascontiguousarray(X.indices, dtype=np.intp), np.ascontiguousarray(X.indptr, dtype=np.intp)


def _predict_csr(X, parameters, *, activation="tanh", output="identity"):
    """Outputs (n_y, m) of the network for a scipy sparse X of shape (m, n_x) (CSR or CSC), never densified.

    output "identity" gives the logits Z2 = W2 @ g(W1 @ X.T + b1) + b2; "logistic"
    a sigmoid of each row; "softmax" the column softmax.  Computed in the
    parameters' dtype, block of rows by block of rows (memory: X's entries, W1.T,
    one block).
    """
    W1, W2 = _contig(parameters["W1"]), _contig(parameters["W2"])
    b1, b2 = _contig(parameters["b1"]).ravel(), _contig(parameters["b2"]).ravel()
    dt = W1.dtype
    if X.ndim != 2 or X.shape[1] != W1.shape[1]:
        raise ValueError(f"X has shape {X.shape}; expected (m, {W1.shape[1]}), n_x = W1.shape[1]")
    (n_h, n_x), n_y, m = W1.shape, W2.shape[0], X.shape[0]
    csr = _csr_arrays(X, dt)
    A2 = np.empty((n_y, m), dt)
    block = _threads.predict_block(n_h, m, dt)
    scratch = np.empty((n_h + 1, block), dt), np.empty((n_x, n_h), dt), np.empty((block, n_h), dt)
    codes = _core.ACTIVATION_CODES[activation], _core.OUTPUT_CODES[output]
    _core.predict_csr(*csr, W1, b1, W2, b2, *codes, A2, *scratch)
    return A2


def _share_docs():
    from . import reference

    for name in ("forward_propagation", "compute_cost", "backward_propagation", "nn_model", "predict"):
        globals()[name].__doc__ = getattr(reference, name).__doc__


_share_docs()

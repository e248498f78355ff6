"""The shallow network on compiled kernels: the API of :mod:`shallownet_fast.reference`.

Every function has the reference's signature, checks its arguments with the
same code (so both raise the same errors), and returns the same numbers to
rounding.  The numeric work runs in shallownet_fast._core (Cython, GIL
released); :func:`nn_model` runs the whole training loop there, with every
buffer allocated once per call.

Inputs of any layout (C- or F-ordered, strided, read-only) are accepted; the
kernels get C-contiguous copies where needed and never write to an input.
"""

import contextlib
import functools
import os
import threading

import numpy as np

from ._dispatch import kernels as _core
from . import _validation
from .reference import (  # shape bookkeeping and elementwise updates: nothing to compile
    PRINT_EVERY,
    _print_cost,
    initialize_parameters,
    layer_sizes,
    update_parameters,
)

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

# The shared checks, with the compiled finiteness tests (no temporary array).
# Specialisations looked up by dtype cost less per call than a fused
# function's own dispatch, which matters when predicting one example.
_F64, _F32 = np.dtype(np.float64), np.dtype(np.float32)
v = _validation.Checks(
    all_finite=_core.all_finite,
    network_finite={_F64: _core.network_finite["double"], _F32: _core.network_finite["float"]},
)

# About how many floating-point operations one call into the training kernel
# does before returning to Python (which prints costs and checks that the
# parameters are finite), and how many between two looks at Python's signal
# handlers inside the kernel (so that Ctrl-C answers within a fraction of a second).
_WORK_PER_CALL = 2e8
_WORK_PER_SIGNAL_CHECK = 5e7


def _kernel_args(X, W1, b1, W2, b2, activation):
    # b1 and b2 are checked (n, 1) ndarrays: ravel gives a contiguous (n,) view or copy
    return _contig(X), _contig(W1), b1.ravel(), _contig(W2), b2.ravel(), _core.ACTIVATION_CODES[activation]


def forward_propagation(X, parameters, *, activation="tanh"):
    X, W1, b1, W2, b2 = v.check_forward_inputs(X, parameters, activation)
    (n_h, m), n_y, dt = (W1.shape[0], X.shape[1]), W2.shape[0], X.dtype
    Z1, A1 = np.empty((n_h, m), dt), np.empty((n_h, m), dt)
    Z2, A2 = np.empty((n_y, m), dt), np.empty((n_y, m), dt)
    _core.forward(*_kernel_args(X, W1, b1, W2, b2, activation), Z1, A1, Z2, A2, np.empty(m, dt))
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def compute_cost(A2, Y):
    A2, Y = v.check_cost_inputs(A2, Y)
    return _core.cost(_contig(A2), _contig(Y), np.empty(A2.shape[1], A2.dtype))


def backward_propagation(parameters, cache, X, Y, *, activation="tanh"):
    X, Y, W2, A1, A2 = v.check_backward_inputs(parameters, cache, X, Y, activation)
    (n_x, m), (n_y, n_h), dt = X.shape, W2.shape, X.dtype
    dW1, db1 = np.empty((n_h, n_x), dt), np.empty((n_h, 1), dt)
    dW2, db2 = np.empty((n_y, n_h), dt), np.empty((n_y, 1), dt)
    _core.backward(
        _contig(X), _contig(Y), _contig(W2), _contig(A1), _contig(A2), _core.ACTIVATION_CODES[activation],
        dW1, db1.reshape(-1), dW2, db2.reshape(-1),
        np.empty((n_y, m), dt), np.empty((n_h, m), dt), np.empty(m, dt),
    )  # fmt: skip
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


# Below this many floating-point operations per iteration, training runs on one
# thread when n_threads is None: waking a second thread costs more than it saves.
_THREADED_MIN_FLOPS = 2e7


# The training kernel processes the examples in blocks of columns sized so
# that a block of the hidden layer, (n_h, block), stays in the core's cache
# (1 MiB L2 on the machines measured) from the forward pass to the backward
# pass; each thread of a team has its own blocks and runs BLAS on one thread.
# Without OpenMP, BLAS runs on several threads, every product wakes them, and
# small products pay that more than they gain from the cache: blocks are larger
# then, and larger still for prediction, which has no backward pass to keep in
# cache.
_BLOCK_BYTES = 512 * 1024
_THREADED_BLOCK_BYTES = 8 * 1024 * 1024
_PREDICT_BLOCK_BYTES = 16 * 1024 * 1024
_MIN_BLOCK = 64


def _block_columns(n_h, m, dtype, block_bytes=None, min_block=_MIN_BLOCK):
    fit = (block_bytes or _BLOCK_BYTES) // (n_h * np.dtype(dtype).itemsize)
    return int(min(m, max(min_block, fit - fit % 16)))


def _training_block(n_x, n_h, m, dtype, block_bytes, team):
    """Columns per block of the training kernel.

    Each block adds its share of dW1 (n_h x n_x) through BLAS, reading and
    writing all of dW1: with many features (W3's 784) small blocks spend a
    good part of the product on that, so a block has at least 2 n_x columns
    even when its hidden layer then overflows the cache (measured on W3: 178 ms
    an iteration with 1024-column blocks against 200 ms with 256).  A team
    gets a multiple of its size in blocks of about equal width, so that every
    thread has the same work.
    """
    block = _block_columns(n_h, m, dtype, block_bytes, min_block=max(_MIN_BLOCK, 2 * n_x + (-2 * n_x) % 16))
    if team > 1:
        n_blocks = -(-m // block)
        n_blocks += -n_blocks % team
        block = max(min(m, _MIN_BLOCK), -(-m // n_blocks))
    return block


def _flops_per_iteration(n_x, n_h, n_y, m):
    return 2.0 * m * n_h * (2 * n_x + 3 * n_y + 10)


def _iterations_per_call(flops):
    return int(max(1, min(PRINT_EVERY, _WORK_PER_CALL // flops)))


@functools.lru_cache(maxsize=1)
def _threadpool_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


# BLAS's thread count is one setting for the whole process.  Overlapping calls
# (several Python threads training at once) share one limit: the first call in
# sets it, the last one out restores what was there before.
_blas_lock = threading.Lock()
_blas_users = 0
_blas_limiter = None


def _release_openblas_ownership():
    # threadpoolctl lets only the thread that last set OpenBLAS's count change
    # it again while that thread lives; the count is ours to manage here.
    import threadpoolctl

    controller = getattr(threadpoolctl, "OpenBLASController", None)
    if controller is not None and hasattr(controller, "clear_controlling_thread"):
        controller.clear_controlling_thread(force=True)


@contextlib.contextmanager
def _limited_blas(n_threads):
    global _blas_users, _blas_limiter
    with _blas_lock:
        if _blas_users == 0:
            _blas_limiter = _threadpool_controller().limit(limits=n_threads, user_api="blas")
            _release_openblas_ownership()
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                _blas_limiter.restore_original_limits()
                _release_openblas_ownership()
                _blas_limiter = None


def _usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _training_threads(n_threads, n_x, n_h, m, dtype, flops):
    """(team, block, BLAS context) for nn_model.

    n_threads None chooses by problem size: one thread below
    _THREADED_MIN_FLOPS per iteration, every usable core above.  With OpenMP,
    the kernel's own team of that many threads shares the column blocks and
    BLAS runs on one thread inside each (so the two never compete for the
    cores); without it, the kernel is serial and BLAS alone gets the threads.
    """
    threads = n_threads if n_threads is not None else (_usable_cores() if flops >= _THREADED_MIN_FLOPS else 1)
    blas = _core.uses_blas(n_h, n_x)
    if _core.openmp_enabled():
        team, blas_threads = threads, 1
    else:
        team, blas_threads = 1, threads
    block = _training_block(n_x, n_h, m, dtype, _BLOCK_BYTES if blas_threads == 1 else _THREADED_BLOCK_BYTES, team)
    team = max(1, min(team, -(-m // block)))
    if not blas:
        context = contextlib.nullcontext()
    elif n_threads is None and blas_threads > 1:
        context = contextlib.nullcontext()  # BLAS's own default
    else:
        context = _limited_blas(blas_threads)
    return team, block, context


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
    X, Y, (W1, b1, W2, b2), n_iter, lr = v.check_training_inputs(
        X, Y, n_h, num_iterations, learning_rate, activation, parameters, init, seed, n_threads
    )
    (n_x, m), n_y, dt = X.shape, Y.shape[0], X.dtype
    # The parameters are updated in place: always on copies of our own.
    W1, W2 = np.array(W1, order="C"), np.array(W2, order="C")
    b1, b2 = np.array(b1.reshape(-1)), np.array(b2.reshape(-1))
    X, Y = _contig(X), _contig(Y)
    cost_every = 1 if return_costs else (PRINT_EVERY if print_cost else 0)
    costs = np.full(n_iter if cost_every else 0, np.nan)
    flops = _flops_per_iteration(n_x, n_h, n_y, m)
    team, block, blas_context = _training_threads(n_threads, n_x, n_h, m, dt, flops)
    buffers = (
        np.empty((team, n_h, block), dt), np.empty((team, n_h, block), dt), np.empty((team, n_y, block), dt),
        np.empty((team, block), dt), np.empty((team, n_h * n_x + n_h + n_y * n_h + n_y), dt), np.empty(team),
    )  # fmt: skip
    code = _core.ACTIVATION_CODES[activation]
    step = _iterations_per_call(flops)
    # Signals are looked at inside the kernel by a single thread only; a team's
    # calls are short enough (_WORK_PER_CALL) for Ctrl-C to wait for them.
    signal_every = max(1, int(_WORK_PER_SIGNAL_CHECK // (flops * block / m))) if team == 1 else 0
    with blas_context:
        for first in range(0, n_iter, step):
            count = min(step, n_iter - first)
            out = costs[first : first + count] if cost_every else costs
            _core.train(X, Y, W1, b1, W2, b2, code, float(lr), first, count, cost_every, out, *buffers, signal_every)
            v.check_diverged((W1, b1, W2, b2), learning_rate, first + count)
            if print_cost:
                for i in range(-(-first // PRINT_EVERY) * PRINT_EVERY, first + count, PRINT_EVERY):
                    _print_cost(i, costs[i])
    params = {"W1": W1, "b1": b1.reshape(n_h, 1), "W2": W2, "b2": b2.reshape(n_y, 1)}
    return (params, costs) if return_costs else params


_PREDICT_PROBA = {_F64: _core.predict_proba["double"], _F32: _core.predict_proba["float"]}


def predict(parameters, X, *, activation="tanh"):
    X, W1, b1, W2, b2 = v.check_forward_inputs(X, parameters, activation)
    (n_h, m), n_y, dt = (W1.shape[0], X.shape[1]), W2.shape[0], X.dtype
    A2 = np.empty((n_y, m), dt)
    if m * n_h * dt.itemsize <= _PREDICT_BLOCK_BYTES:  # one block: skips _block_columns's cost for a few examples
        block = max(m, 1)
    else:
        block = _block_columns(n_h, m, dt, _PREDICT_BLOCK_BYTES)
    _PREDICT_PROBA[dt](*_kernel_args(X, W1, b1, W2, b2, activation), A2, np.empty((n_h + 1, block), dt))
    if n_y == 1:
        return A2 > 0.5
    return A2.argmax(axis=0)


def _share_docs():
    from . import reference

    for name in ("forward_propagation", "compute_cost", "backward_propagation", "nn_model", "predict"):
        globals()[name].__doc__ = getattr(reference, name).__doc__


_share_docs()

"""The one thread policy: how many threads, how much work per call, how large a block.

- the CPUs this process may use, and the most threads a call may ask for;
- the floating-point operations of one training step (one model for full-batch
  iterations and mini-batches alike), and from it: when a second thread pays,
  how many iterations one call into the kernels runs, how often the kernels
  look at Python's signal handlers;
- the column blocks of the training and prediction kernels;
- BLAS's thread count, limited for the duration of a call.

Nothing here imports the rest of the package: the compiled kernels are passed
in where their capabilities matter.
"""

import contextlib
import functools
import os
import threading

import numpy as np

# ---------------------------------------------------------------- cores and thread counts

# n_threads may ask for at most this many threads per CPU this process may use (and at least
# _MIN_THREAD_LIMIT in all): a few more threads than cores is harmless, thousands can fail to start
# (under an address-space limit the OpenMP runtime cannot create its team and ends the process).
_THREADS_PER_CPU = 4
_MIN_THREAD_LIMIT = 8


def usable_cores():
    """The number of CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def max_threads():
    """The largest n_threads accepted."""
    return max(_MIN_THREAD_LIMIT, _THREADS_PER_CPU * usable_cores())


# ---------------------------------------------------------------- work

# Below this many floating-point operations per step, training runs on one thread when n_threads is
# None: waking a second thread costs more than it saves.
_THREADED_MIN_FLOPS = 2e7
# About how many floating-point operations one call into the training kernel does before returning to
# Python (which prints costs and checks that the parameters are finite), and how many between two looks
# at Python's signal handlers inside a kernel (so that Ctrl-C answers within a fraction of a second).
_WORK_PER_CALL = 2e8
_WORK_PER_SIGNAL_CHECK = 5e7


def flops(n_x, n_h, n_y, m):
    """Floating-point operations of one forward-backward step over m examples (the model of every policy here)."""
    return 2.0 * m * n_h * (2 * n_x + 3 * n_y + 10)


def iterations_per_call(step_flops, most):
    """Iterations one call into the training kernel runs: about _WORK_PER_CALL of work, 1 to `most`."""
    return int(max(1, min(most, _WORK_PER_CALL // step_flops)))


def signal_every(step_flops):
    """Steps (blocks or batches) of `step_flops` each between two looks at Python's signal handlers."""
    return max(1, int(_WORK_PER_SIGNAL_CHECK // step_flops))


# ---------------------------------------------------------------- blocks

# The training kernel processes the examples in blocks of columns sized so that a block of the hidden
# layer, (n_h, block), stays in the core's cache (1 MiB L2 on the machines measured) from the forward
# pass to the backward pass; each thread of a team has its own blocks and runs BLAS on one thread.
# Without OpenMP, BLAS runs on several threads, every product wakes them, and small products pay that
# more than they gain from the cache: blocks are larger then, and larger still for prediction, which
# has no backward pass to keep in cache.
_BLOCK_BYTES = 512 * 1024
_THREADED_BLOCK_BYTES = 8 * 1024 * 1024
_PREDICT_BLOCK_BYTES = 16 * 1024 * 1024
_MIN_BLOCK = 64


def block_columns(n_h, m, dtype, block_bytes=None, min_block=_MIN_BLOCK):
    """Columns of a block whose hidden layer (n_h, block) takes about `block_bytes`: a multiple of 16, at most m."""
    fit = (block_bytes or _BLOCK_BYTES) // (n_h * np.dtype(dtype).itemsize)
    return int(min(m, max(min_block, fit - fit % 16)))


def training_block(n_x, n_h, m, dtype, block_bytes, team):
    """Columns per block of the training kernel.

    Each block adds its share of dW1 (n_h x n_x) through BLAS, reading and
    writing all of dW1: with many features (W3's 784) small blocks spend a
    good part of the product on that, so a block has at least 2 n_x columns
    even when its hidden layer then overflows the cache (measured on W3: 178 ms
    an iteration with 1024-column blocks against 200 ms with 256).  A team
    gets a multiple of its size in blocks of about equal width, so that every
    thread has the same work.
    """
    block = block_columns(n_h, m, dtype, block_bytes, min_block=max(_MIN_BLOCK, 2 * n_x + (-2 * n_x) % 16))
    if team > 1:
        n_blocks = -(-m // block)
        n_blocks += -n_blocks % team
        block = max(min(m, _MIN_BLOCK), -(-m // n_blocks))
    return block


def predict_block(n_h, m, dtype):
    """Columns per block of the prediction kernel (all of them when the hidden layer is small)."""
    if m * n_h * dtype.itemsize <= _PREDICT_BLOCK_BYTES:  # one block: skips block_columns's cost for a few examples
        return max(m, 1)
    return block_columns(n_h, m, dtype, _PREDICT_BLOCK_BYTES)


# ---------------------------------------------------------------- BLAS's threads


@functools.lru_cache(maxsize=1)
def _threadpool_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


# BLAS's thread count is one setting for the whole process.  Overlapping calls (several Python threads
# training at once) share one limit: the first call in sets it, the last one out restores what was there
# before.
_blas_lock = threading.Lock()
_blas_users = 0
_blas_limiter = None


def _release_openblas_ownership():
    # threadpoolctl lets only the thread that last set OpenBLAS's count change it again while that thread
    # lives; the count is ours to manage here.
    import threadpoolctl

    controller = getattr(threadpoolctl, "OpenBLASController", None)
    if controller is not None and hasattr(controller, "clear_controlling_thread"):
        controller.clear_controlling_thread(force=True)


@contextlib.contextmanager
def limited_blas(n_threads):
    """BLAS on `n_threads` threads inside the context; the last overlapping user out restores BLAS's setting."""
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


def blas_threads(n_threads):
    """A context giving BLAS `n_threads` threads; None leaves BLAS as it is."""
    if n_threads is None:
        return contextlib.nullcontext()
    return limited_blas(n_threads)


def batch_blas_context(n_threads, n_x, n_h, n_y, batch_size):
    """BLAS's threads for mini-batch training: `n_threads` when given; else one thread for batches of
    less than _THREADED_MIN_FLOPS, BLAS's own default above."""
    if n_threads is not None:
        return limited_blas(n_threads)
    if flops(n_x, n_h, n_y, batch_size) < _THREADED_MIN_FLOPS:
        return limited_blas(1)
    return contextlib.nullcontext()


def training_plan(n_threads, n_x, n_h, m, dtype, step_flops, kernels):
    """(team, block, BLAS context) for full-batch training on `kernels` (the compiled module).

    n_threads None chooses by problem size: one thread below
    _THREADED_MIN_FLOPS per iteration, every usable core above.  With OpenMP,
    the kernel's own team of that many threads shares the column blocks and
    BLAS runs on one thread inside each (so the two never compete for the
    cores); without it, the kernel is serial and BLAS alone gets the threads.
    """
    threads = n_threads if n_threads is not None else (usable_cores() if step_flops >= _THREADED_MIN_FLOPS else 1)
    if kernels.openmp_enabled():
        team, blas = threads, 1
    else:
        team, blas = 1, threads
    block = training_block(n_x, n_h, m, dtype, _BLOCK_BYTES if blas == 1 else _THREADED_BLOCK_BYTES, team)
    team = max(1, min(team, -(-m // block)))
    if not kernels.uses_blas(n_h, n_x):
        context = contextlib.nullcontext()
    elif n_threads is None and blas > 1:
        context = contextlib.nullcontext()  # BLAS's own default
    else:
        context = limited_blas(blas)
    return team, block, context

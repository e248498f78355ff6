"""The one thread policy: how many threads, how much work per call, how large a block.

- the CPUs this process may use (affinity, cgroup quota), the threads
  n_threads=None takes (also OMP_NUM_THREADS and the libraries' thread
  counts), and the most threads a call may ask for;
- the floating-point operations of one training step (one model for full-batch
  iterations and mini-batches alike), and from it: when a second thread pays,
  how many iterations one call into the kernels runs, how often the kernels
  look at Python's signal handlers;
- the column blocks of the training and prediction kernels;
- BLAS on the calling thread alone, for the calls that want it, without
  touching BLAS's process-wide thread count.

Nothing here imports the rest of the package at import time: the compiled
kernels are passed in where their capabilities matter (or, for the per-thread
BLAS bound, looked up on first use).
"""

import contextlib
import functools
import os

import numpy as np

# ---------------------------------------------------------------- cores and thread counts

# n_threads may ask for at most this many threads per CPU this process may use (and at least
# _MIN_THREAD_LIMIT in all): a few more threads than cores is harmless, thousands can fail to start
# (under an address-space limit the OpenMP runtime cannot create its team and ends the process).
_THREADS_PER_CPU = 4
_MIN_THREAD_LIMIT = 8


def _cgroup_cpus(root="/sys/fs/cgroup"):
    """The CPUs a cgroup quota grants (cgroup v2 cpu.max, or v1 cfs_quota/period), rounded up; None: no quota."""
    try:
        with open(os.path.join(root, "cpu.max")) as f:
            quota, period = f.read().split()[:2]
        if quota != "max":
            return max(1, -(-int(quota) // int(period)))
        return None
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open(os.path.join(root, "cpu", "cpu.cfs_quota_us")) as f:
            quota = int(f.read())
        with open(os.path.join(root, "cpu", "cpu.cfs_period_us")) as f:
            period = int(f.read())
        if quota > 0 and period > 0:
            return max(1, -(-quota // period))
    except (OSError, ValueError):
        pass
    return None


def usable_cores():
    """The number of CPUs this process may run on: its affinity mask, bounded by a cgroup CPU quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    quota = _cgroup_cpus()
    return max(1, min(cores, quota) if quota else cores)


def _env_threads():
    """OMP_NUM_THREADS's first value when it is a positive integer, else None."""
    value = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    try:
        n = int(value)
    except ValueError:
        return None
    return n if n >= 1 else None


def default_threads():
    """The threads n_threads=None may use: the fewest of the usable CPUs, OMP_NUM_THREADS and the thread
    count of the BLAS and OpenMP libraries loaded (an active threadpoolctl limit shows there)."""
    counts = [usable_cores()]
    env = _env_threads()
    if env is not None:
        counts.append(env)
    counts.extend(_library_threads())
    return max(1, min(counts))


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


def training_block(n_x, n_h, m, dtype, block_bytes, team, most=None):
    """Columns per block of the training kernel.

    Each block adds its share of dW1 (n_h x n_x) through BLAS, reading and
    writing all of dW1: with many features (W3's 784) small blocks spend a
    good part of the product on that, so a block has at least 2 n_x columns
    even when its hidden layer then overflows the cache (measured on W3: 178 ms
    an iteration with 1024-column blocks against 200 ms with 256).  A team
    gets a multiple of its size in blocks of about equal width, so that every
    thread has the same work.  `most`, when given, bounds the block (a
    team's BLAS products under the single-thread limit).
    """
    block = block_columns(n_h, m, dtype, block_bytes, min_block=max(_MIN_BLOCK, 2 * n_x + (-2 * n_x) % 16))
    if most is not None:
        block = max(1, min(block, most))
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
#
# BLAS's thread count is one setting for the whole process: the library never changes it.  A call that
# wants BLAS on its own thread (a team member, a small batch, n_threads=1) bounds the size of the
# products it issues instead (kernels.set_gemm_limit, a thread-local of the kernels), below the size
# under which the BLAS runs a product on the calling thread alone.  That size is known for OpenBLAS
# (its interface runs gemm on one thread when M * N * K <= SMP_THRESHOLD_MIN * GEMM_MULTITHREAD_THRESHOLD,
# 65536 * 4 in its default build, which SciPy's wheels use); for any other BLAS it is unknown, and the
# products go to BLAS whole, on whatever threads the process gives it.

_OPENBLAS_SINGLE_THREAD_MNK = 65536 * 4
# fast.predict takes its one-call latency path up to this size of the first product (n_h n_x m): no
# BLAS thread to keep off, one block.
SMALL_PREDICTION_WORK = _OPENBLAS_SINGLE_THREAD_MNK
# With products too large for a team's block under that size (n_h * n_x > 4096 / 64 columns), a call
# that may use several threads runs the serial kernel and gives its products to BLAS whole, on the
# threads the process gives BLAS (False), or runs a team whose members compute the products in pieces
# under the size (True).  On W3 (784 x 256, 20 000 examples, 2 cores, AVX-512, OpenBLAS 0.3.30, quiet
# machine, medians of 5-7 interleaved runs of 3 iterations): pieces 406 ms an iteration against 204 ms
# (float64), 154-158 ms against 111-128 ms (float32).  (On a busy machine the pieces had won, 1.68 s
# against 2.34 s in float32: BLAS's own threads suffer most from other processes.)
_TEAM_IN_PIECES = False


@functools.lru_cache(maxsize=1)
def _threadpool_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _kernels_blas(controller):
    """threadpoolctl's controller of the BLAS the kernels call (SciPy's), or None when it cannot tell."""
    blas = [c for c in controller.lib_controllers if c.user_api == "blas"]
    scipy_blas = [c for c in blas if "scipy" in os.path.basename(os.path.dirname(c.filepath))]
    if len(scipy_blas) == 1:
        return scipy_blas[0]
    return blas[0] if len(blas) == 1 else None


@functools.lru_cache(maxsize=1)
def gemm_single_thread_limit():
    """The largest M * N * K the kernels' BLAS runs on the calling thread alone; 0 when not known."""
    try:
        blas = _kernels_blas(_threadpool_controller())
    except Exception:  # threadpoolctl missing or unable to inspect the process: not known
        return 0
    if blas is not None and blas.internal_api == "openblas":
        return _OPENBLAS_SINGLE_THREAD_MNK
    return 0


def _library_threads():
    """The current thread counts of the kernels' BLAS and of the OpenMP runtimes loaded (none known: [])."""
    try:
        controller = _threadpool_controller()
        libs = [c for c in controller.lib_controllers if c.user_api == "openmp"]
        blas = _kernels_blas(controller)
        if blas is not None:
            libs.append(blas)
        return [int(c.num_threads) for c in libs if c.num_threads and int(c.num_threads) >= 1]
    except Exception:  # threadpoolctl missing or unable to inspect the process
        return []


@contextlib.contextmanager
def _gemm_limit(kernels, limit):
    previous = kernels.set_gemm_limit(limit)
    try:
        yield
    finally:
        kernels.set_gemm_limit(previous)


def blas_on_this_thread(kernels=None):
    """A context in which the kernels' BLAS products issued by this thread run on it alone, where the
    BLAS allows it (gemm_single_thread_limit); otherwise BLAS as it is.  No other thread sees it."""
    limit = gemm_single_thread_limit()
    if not limit:
        return contextlib.nullcontext()
    if kernels is None:
        from ._dispatch import kernels
    return _gemm_limit(kernels, limit)


def blas_threads(n_threads):
    """The BLAS context of a call with `n_threads`: 1 keeps the kernels' BLAS on the calling thread;
    otherwise BLAS runs as the process has set it."""
    if n_threads == 1:
        return blas_on_this_thread()
    return contextlib.nullcontext()


def batch_blas_context(n_threads, n_x, n_h, n_y, batch_size):
    """BLAS for mini-batch training: on the calling thread with n_threads=1, or with n_threads None for
    batches of less than _THREADED_MIN_FLOPS; otherwise as the process has set it."""
    if n_threads == 1 or (n_threads is None and flops(n_x, n_h, n_y, batch_size) < _THREADED_MIN_FLOPS):
        return blas_on_this_thread()
    return contextlib.nullcontext()


def prediction_blas(n_threads, n_x, n_h, n_y, m, kernels=None):
    """BLAS for predicting m examples at once: on the calling thread with n_threads=1, or with n_threads
    None below _THREADED_MIN_FLOPS (the small-work rule of training); otherwise as the process has set it.
    Nothing to do when the largest product is under the single-thread size anyway."""
    if n_threads == 1 or (n_threads is None and flops(n_x, n_h, n_y, m) < _THREADED_MIN_FLOPS):
        if n_h * n_x * m > _OPENBLAS_SINGLE_THREAD_MNK:
            return blas_on_this_thread(kernels)
    return contextlib.nullcontext()


def prediction_plan(n_threads, n_x, n_h, n_y, m, dtype, kernels):
    """(team, block, BLAS context) for predicting m examples by rows on `kernels` (predict_rows).

    The policy of training_plan: n_threads None is one thread below
    _THREADED_MIN_FLOPS of work, default_threads() above; several threads make a
    team of the kernels' own threads, each running BLAS on itself alone, with
    blocks whose products stay under the single-thread size; when no block of
    16 rows fits (unless _TEAM_IN_PIECES), or with a BLAS whose size is
    unknown, one thread of ours and BLAS's own threads.  Blocks are at most
    predict_block's size: the memory of a prediction beyond its output is a
    block per thread.
    """
    if n_threads is not None:
        threads = n_threads
    else:
        threads = default_threads() if flops(n_x, n_h, n_y, m) >= _THREADED_MIN_FLOPS else 1
    dtype = np.dtype(dtype)
    block = predict_block(n_h, m, dtype)
    blas = kernels.uses_blas(n_h, n_x)
    limit = gemm_single_thread_limit() if blas else 0
    team = threads if threads > 1 and kernels.team_enabled() and (limit or not blas) else 1
    if limit:
        most = int(limit // (n_h * n_x))
        most -= most % 16
        if most >= 16:
            block = min(block, most)
        elif not _TEAM_IN_PIECES:
            team = 1
    team = max(1, min(team, -(-m // block)))
    if team > 1:
        return team, block, (_gemm_limit(kernels, limit) if blas else contextlib.nullcontext())
    if threads > 1 or not blas:
        return 1, block, contextlib.nullcontext()
    return 1, block, blas_on_this_thread(kernels)


def training_plan(n_threads, n_x, n_h, m, dtype, step_flops, kernels):
    """(team, block, BLAS context) for full-batch training on `kernels` (the compiled module).

    n_threads None chooses by problem size: one thread below
    _THREADED_MIN_FLOPS per iteration, default_threads() above.  Several
    threads make a team of the kernel's own threads sharing the column blocks,
    each member running BLAS on its own thread: its blocks are sized so that
    every product stays under gemm_single_thread_limit(); with products too
    large for such a block (784 features and 256 hidden units), the kernel
    runs serially and its products go to BLAS whole, on the threads the
    process gives BLAS (with _TEAM_IN_PIECES, a team computing them in pieces
    under the limit instead).  With a BLAS
    whose limit is unknown, the kernel runs serially and BLAS uses the threads
    the process gives it.  One thread: serial, BLAS on the calling thread.
    """
    if n_threads is not None:
        threads = n_threads
    else:
        threads = default_threads() if step_flops >= _THREADED_MIN_FLOPS else 1
    blas = kernels.uses_blas(n_h, n_x)
    limit = gemm_single_thread_limit() if blas else 0
    team = threads if kernels.team_enabled() and (limit or not blas) else 1
    most = None
    if team > 1 and blas:
        most = int(limit // (n_h * n_x))
        most -= most % 16
        if most < _MIN_BLOCK:  # products too large for a block under the limit
            most = None
            if not _TEAM_IN_PIECES:
                team = 1
    if team > 1:
        block = training_block(n_x, n_h, m, dtype, _BLOCK_BYTES, team, most)
        team = max(1, min(team, -(-m // block)))
    if team > 1:
        return team, block, (_gemm_limit(kernels, limit) if blas else contextlib.nullcontext())
    if threads > 1 and blas:
        return 1, training_block(n_x, n_h, m, dtype, _THREADED_BLOCK_BYTES, 1), contextlib.nullcontext()
    if not blas:
        return 1, training_block(n_x, n_h, m, dtype, _BLOCK_BYTES, 1), contextlib.nullcontext()
    # one thread: blocks under the single-thread size where a block of _MIN_BLOCK columns fits (whole
    # products, no pieces), else pieces
    limit = gemm_single_thread_limit()
    most = int(limit // (n_h * n_x)) if limit else 0
    most -= most % 16
    block = training_block(n_x, n_h, m, dtype, _BLOCK_BYTES, 1, most if most >= _MIN_BLOCK else None)
    return 1, block, blas_on_this_thread(kernels)

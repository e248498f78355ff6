"""Long runs leak nothing: resident memory and Python's allocations stay flat (fast backend).

100 000 forward and backward passes and 1 000 training runs on small
problems, after a warm-up, must leave the process's resident set size (RSS,
from /proc/self/statm) within 10 MB of where it started; a shorter run under
tracemalloc, which also traces NumPy's array buffers, must leave Python's
allocations within a few kB.  The calls cycle through both dtypes, every
activation, one and three outputs, the loop-nest and the BLAS products, C,
F-ordered, strided and read-only inputs, and inputs the checks reject: error
paths leak as easily as the normal ones.
"""

import gc
import os
import time
import tracemalloc

import numpy as np
import pytest

from shallownet_fast import fast

from conftest import ACTIVATIONS, make_data, make_parameters

RSS_LIMIT = 10 * 2**20
TRACED_LIMIT = 64 * 2**10
CALLS = 100_000
TRAININGS = 1_000


def rss():
    """Resident set size of this process in bytes (Linux: /proc/self/statm)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc/self/statm (Linux)")


def _problems():
    """Small problems in several layouts: (X, Y, parameters, activation)."""
    out = []
    for i, (n_x, n_h, n_y, m, dtype) in enumerate(
        [(2, 4, 1, 8, np.float64), (2, 4, 3, 9, np.float32), (5, 6, 1, 7, np.float32), (8, 16, 3, 12, np.float64)]
    ):
        X, Y = make_data(i, n_x, m, n_y, dtype)
        params = make_parameters(i, n_x, n_h, n_y, dtype)
        activation = ACTIVATIONS[i % len(ACTIVATIONS)]
        out.append((X, Y, params, activation))
        readonly = np.asfortranarray(X)
        readonly.flags.writeable = False
        out.append((readonly, Y, {k: v[::-1, ::-1].copy()[::-1, ::-1] for k, v in params.items()}, activation))
    return out


def _bad_inputs(problems):
    X, Y, params, activation = problems[0]
    poisoned = X.copy()
    poisoned[0, 0] = np.nan
    return [
        lambda: fast.forward_propagation(poisoned, params),
        lambda: fast.forward_propagation(X, {k: v for k, v in params.items() if k != "b2"}),
        lambda: fast.backward_propagation(params, {"A1": X}, X, Y),
        lambda: fast.forward_propagation(X.astype(np.complex128), params),
    ]


def _passes(problems, bad, calls):
    """`calls` forward and backward passes (and one rejected call in every 50)."""
    caches = [fast.forward_propagation(X, p, activation=a)[1] for X, Y, p, a in problems]
    for i in range(calls):
        k = i % len(problems)
        X, Y, params, activation = problems[k]
        if i % 2:
            fast.backward_propagation(params, caches[k], X, Y, activation=activation)
        else:
            fast.forward_propagation(X, params, activation=activation)
        if i % 50 == 0:
            try:
                bad[(i // 50) % len(bad)]()
            except (ValueError, TypeError):
                pass


def _trainings(problems, runs):
    for i in range(runs):
        X, Y, params, activation = problems[i % len(problems)]
        kwargs = {"parameters": params} if i % 2 else {"seed": i}
        fast.nn_model(X, Y, params["W1"].shape[0], 5, activation=activation, return_costs=bool(i % 3), **kwargs)


def _measure_rss(run, warmup):
    warmup()
    gc.collect()
    before = rss()
    start = time.perf_counter()
    run()
    seconds = time.perf_counter() - start
    gc.collect()
    return rss() - before, seconds


def test_forward_backward_rss_stays_flat():
    problems = _problems()
    bad = _bad_inputs(problems)
    grown, seconds = _measure_rss(lambda: _passes(problems, bad, CALLS), lambda: _passes(problems, bad, 5_000))
    print(f"{CALLS} forward/backward calls in {seconds:.1f} s; RSS grew by {grown / 2**20:.2f} MB")
    assert grown < RSS_LIMIT, f"RSS grew by {grown / 2**20:.1f} MB over {CALLS} calls"


def test_training_rss_stays_flat():
    problems = _problems()
    grown, seconds = _measure_rss(lambda: _trainings(problems, TRAININGS), lambda: _trainings(problems, 100))
    print(f"{TRAININGS} nn_model runs in {seconds:.1f} s; RSS grew by {grown / 2**20:.2f} MB")
    assert grown < RSS_LIMIT, f"RSS grew by {grown / 2**20:.1f} MB over {TRAININGS} trainings"


@pytest.mark.parametrize("what", ["passes", "trainings"])
def test_python_allocations_stay_flat(what):
    """tracemalloc (NumPy reports its array buffers to it too): nothing accumulates call after call."""
    problems = _problems()
    bad = _bad_inputs(problems)

    def run(n):
        if what == "passes":
            _passes(problems, bad, n)
        else:
            _trainings(problems, n // 20)

    run(2_000)  # warm-up: caches, interned strings, the BLAS thread pool
    gc.collect()
    tracemalloc.start()
    try:
        run(1_000)
        gc.collect()
        before, _ = tracemalloc.get_traced_memory()
        snapshot = tracemalloc.take_snapshot()
        run(10_000)
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
        grown = after - before
        if grown >= TRACED_LIMIT:
            top = tracemalloc.take_snapshot().compare_to(snapshot, "lineno")[:5]
            pytest.fail(f"traced memory grew by {grown} bytes; largest growth:\n" + "\n".join(map(str, top)))
    finally:
        tracemalloc.stop()

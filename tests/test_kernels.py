"""The compiled layer itself: the BLAS wrapper, every instruction-set variant,
the vector maths, threads and the GIL."""

import sys
import threading
import time

import numpy as np
import pytest

import shallownet_fast
from shallownet_fast import _dispatch, _threads, datasets, fast, reference

from conftest import assert_dicts_close, tolerance

VARIANTS = _dispatch.available()


def _data(rng, n_x, n_h, n_y, m, dtype):
    X = rng.standard_normal((n_x, m)).astype(dtype)
    if n_y == 1:
        Y = (rng.random((1, m)) < 0.5).astype(dtype)
    else:
        Y = np.eye(n_y, dtype=dtype)[:, rng.integers(0, n_y, m)]
    params = reference.initialize_parameters(n_x, n_h, n_y, init="xavier", seed=7, dtype=dtype)
    return X, Y, params


# ---------------------------------------------------------------- BLAS wrapper


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("shape", [(1, 1, 1), (3, 5, 7), (17, 1, 9), (64, 33, 130)])
def test_gemm_wrapper_matches_numpy(dtype, trans_a, trans_b, shape):
    M, N, K = shape
    rng = np.random.default_rng(0)
    A = rng.standard_normal((K, M) if trans_a else (M, K)).astype(dtype)
    B = rng.standard_normal((N, K) if trans_b else (K, N)).astype(dtype)
    C0 = rng.standard_normal((M, N)).astype(dtype)
    C = C0.copy()
    _dispatch.kernels.gemm_check(trans_a, trans_b, A, B, 0.5, -2.0, C)
    opA, opB = (A.T if trans_a else A), (B.T if trans_b else B)
    # Reductions of length K <= 130: float32 needs ~K * eps32 relative, float64 ~K * eps64.
    rtol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(C, 0.5 * (opA.astype(np.float64) @ opB) - 2.0 * C0, rtol=rtol, atol=rtol * 10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("blas", [False, True], ids=["loops", "blas"])
@pytest.mark.parametrize("shape", [(1, 1, 1), (4, 2, 400), (5, 7, 33), (64, 20, 101)])
def test_both_product_paths_match_numpy(dtype, blas, shape):
    rows, K, m = shape
    rng = np.random.default_rng(3)
    W = rng.standard_normal((rows, K)).astype(dtype)
    X = rng.standard_normal((K, m)).astype(dtype)
    out = np.full((rows, m), np.nan, dtype)
    _dispatch.kernels.product_check(W, X, out, blas)
    rtol = 1e-5 if dtype == np.float32 else 1e-13  # reduction length K <= 20
    np.testing.assert_allclose(out, W.astype(np.float64) @ X, rtol=rtol, atol=rtol)


# ---------------------------------------------------------------- variants


def test_dispatch_picks_the_best_available_variant():
    assert shallownet_fast.kernel_variant in VARIANTS
    assert VARIANTS[-1] == "baseline"
    with pytest.raises(ValueError, match="unknown kernel variant"):
        _dispatch.load("sse9")


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ["tanh", "relu", "leaky_relu", "sigmoid"])
@pytest.mark.parametrize("sizes", [(2, 4, 1, 37), (30, 20, 3, 61)], ids=["loops", "blas"])
def test_every_variant_matches_reference(monkeypatch, variant, dtype, activation, sizes):
    """Each compiled variant, forced through fast.py, agrees with the reference."""
    monkeypatch.setattr(fast, "_core", _dispatch.load(variant))
    X, Y, params = _data(np.random.default_rng(1), *sizes, dtype)
    A2r, cache_r = reference.forward_propagation(X, params, activation=activation)
    A2f, cache_f = fast.forward_propagation(X, params, activation=activation)
    assert_dicts_close(cache_f, cache_r, dtype, ("Z1", "A1", "Z2", "A2"), "cache")
    grads_r = reference.backward_propagation(params, cache_r, X, Y, activation=activation)
    grads_f = fast.backward_propagation(params, cache_r, X, Y, activation=activation)
    assert_dicts_close(grads_f, grads_r, dtype, ("dW1", "db1", "dW2", "db2"), "grads")
    pr = reference.nn_model(X, Y, sizes[1], 20, learning_rate=0.1, activation=activation, parameters=params)
    pf = fast.nn_model(X, Y, sizes[1], 20, learning_rate=0.1, activation=activation, parameters=params)
    assert_dicts_close(pf, pr, dtype, ("W1", "b1", "W2", "b2"), "nn_model")


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_vector_tanh_is_within_a_few_ulp_of_numpy(monkeypatch, variant, dtype):
    """The kernels' tanh (one vector expm1) against NumPy's, over 14 decades of |z|."""
    monkeypatch.setattr(fast, "_core", _dispatch.load(variant))
    rng = np.random.default_rng(0)
    z = np.concatenate([rng.standard_normal(20000) * s for s in (1e-9, 1e-4, 0.1, 1, 5, 30, 1e5)])
    z = np.concatenate([z, [0.0, -0.0, 1e-300 if dtype == np.float64 else 1e-38]]).astype(dtype)[None, :]
    one = np.ones((1, 1), dtype)
    params = {"W1": one, "b1": 0 * one, "W2": one, "b2": 0 * one}
    _, cache = fast.forward_propagation(z, params)
    exact = np.tanh(z)
    ulps = np.abs(cache["A1"] - exact) / np.spacing(np.abs(exact))
    assert ulps.max() <= 4, f"tanh is {ulps.max()} ulp from NumPy's"
    assert np.all(np.abs(cache["A1"]) <= 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sizes", [(2, 4, 1, 203), (30, 20, 3, 203)], ids=["loops", "blas"])
def test_column_blocks_match_one_block(monkeypatch, dtype, sizes):
    """Training and prediction in several column blocks (the last one partial) equal the reference."""
    for name in ("_BLOCK_BYTES", "_THREADED_BLOCK_BYTES", "_PREDICT_BLOCK_BYTES"):
        monkeypatch.setattr(_threads, name, 1)  # blocks of _MIN_BLOCK = 64 columns: 64+64+64+11
    X, Y, params = _data(np.random.default_rng(4), *sizes, dtype)
    assert _threads.block_columns(sizes[1], sizes[3], dtype, _threads._PREDICT_BLOCK_BYTES) == 64
    pr, cr = reference.nn_model(X, Y, sizes[1], 15, learning_rate=0.2, parameters=params, return_costs=True)
    pf, cf = fast.nn_model(X, Y, sizes[1], 15, learning_rate=0.2, parameters=params, return_costs=True)
    assert_dicts_close(pf, pr, dtype, ("W1", "b1", "W2", "b2"), "blocked nn_model")
    np.testing.assert_allclose(cf, cr, rtol=tolerance(dtype)["rtol"])
    np.testing.assert_array_equal(fast.predict(pr, X), reference.predict(pr, X))


# ---------------------------------------------------------------- threads


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_thread_counts_agree(dtype):
    """n_threads = 1 and 2 differ at most by BLAS's blocking, within the table's tolerance."""
    X, Y, params = _data(np.random.default_rng(2), 40, 64, 1, 500, dtype)
    runs = [fast.nn_model(X, Y, 64, 30, learning_rate=0.3, parameters=params, n_threads=n) for n in (1, 2, None)]
    for other in runs[1:]:
        assert_dicts_close(other, runs[0], dtype, ("W1", "b1", "W2", "b2"), "threads")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "sizes", [(2, 4, 1, 700), (30, 20, 3, 700), (12, 16, 1, 130)], ids=["loops", "softmax", "small"]
)
@pytest.mark.parametrize("n_threads", [2, 3, 5])
def test_thread_team_matches_the_reference_and_repeats_itself(dtype, sizes, n_threads):
    """A team of kernel threads (over column blocks): the reference's parameters and costs to the
    table's tolerance, and bitwise the same result on a second run with the same thread count."""
    n_x, n_h, n_y, m = sizes
    X, Y, params = _data(np.random.default_rng(9), n_x, n_h, n_y, m, dtype)
    team, block, _ = _threads.training_plan(n_threads, n_x, n_h, m, np.dtype(dtype), 1.0, fast._core)
    assert team == min(n_threads, -(-m // block)) and team >= 2, (team, block)
    kw = dict(learning_rate=0.3, parameters=params, return_costs=True)
    pr, cr = reference.nn_model(X, Y, n_h, 25, **kw)
    pf, cf = fast.nn_model(X, Y, n_h, 25, n_threads=n_threads, **kw)
    assert_dicts_close(pf, pr, dtype, ("W1", "b1", "W2", "b2"), f"team of {team}")
    np.testing.assert_allclose(cf, cr, rtol=tolerance(dtype)["rtol"])
    again, costs_again = fast.nn_model(X, Y, n_h, 25, n_threads=n_threads, **kw)
    for k in pf:
        np.testing.assert_array_equal(again[k], pf[k])
    np.testing.assert_array_equal(costs_again, cf)


def test_team_blocks_are_balanced():
    """A team gets a multiple of its size in blocks of about equal width; a block is at least 2 n_x wide."""
    for n_x, n_h, m, team in [(20, 64, 10000, 2), (784, 256, 20000, 2), (20, 64, 1000, 3), (2, 4, 400, 4)]:
        block = _threads.training_block(n_x, n_h, m, np.float64, _threads._BLOCK_BYTES, team)
        n_blocks = -(-m // block)
        assert n_blocks % team == 0 and m - (n_blocks - 1) * block > block // 2, (n_x, n_h, m, team, block)
    assert _threads.training_block(784, 256, 20000, np.float64, _threads._BLOCK_BYTES, 1) >= 2 * 784


def test_a_team_runs_blas_on_one_thread(monkeypatch):
    """nn_model's team and BLAS never share the cores, and BLAS's process-wide thread count is left alone:
    at each call into the training kernel the team has n_threads threads, BLAS keeps its count, and each
    member's products stay under the size the BLAS runs on the calling thread alone."""
    from threadpoolctl import threadpool_info

    real = fast._core
    limit = _threads.gemm_single_thread_limit()
    if not real.team_enabled() or not limit:
        pytest.skip("no team in this build, or a BLAS whose single-thread size is not known")
    before = max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
    seen = []

    class Recording:
        def __getattr__(self, name):
            return getattr(real, name)

        def train(self, *args):
            team, block = args[12].shape[0], args[12].shape[2]  # H: (team, n_h, block)
            blas = max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
            seen.append((team, blas, 64 * 24 * block <= limit))
            return real.train(*args)

    monkeypatch.setattr(fast, "_core", Recording())
    X, Y, params = _data(np.random.default_rng(3), 24, 64, 1, 4000, np.float64)
    fast.nn_model(X, Y, 64, 3, learning_rate=0.1, parameters=params, n_threads=2)
    assert seen and all(call == (2, before, True) for call in seen), f"(team, BLAS threads, under): {seen}"


def test_training_in_threads_matches_serial_results():
    """Four Python threads training different models get what serial calls get."""
    X, Y = datasets.load_planar_dataset()
    seeds = [0, 1, 2, 3]
    serial = [fast.nn_model(X, Y, 4, 300, seed=s, n_threads=1) for s in seeds]
    results = [None] * len(seeds)

    def work(i):
        results[i] = fast.nn_model(X, Y, 4, 300, seed=seeds[i], n_threads=1)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(seeds))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, serial):
        for k in want:
            np.testing.assert_array_equal(got[k], want[k])


def test_the_gil_is_released_while_training(monkeypatch):
    """Another Python thread runs while one call into the training kernel is under way.

    With a long switch interval, a thread holding the GIL is never preempted,
    so a kernel that kept the GIL would let the counter thread advance not at
    all during the call.  One call here does all 1000 iterations (tens of ms).
    """
    monkeypatch.setattr(_threads, "_WORK_PER_CALL", 1e18)  # no chunking: one kernel call
    X, Y = datasets.load_planar_dataset()
    state = {"n": 0, "stop": False}

    def count():
        while not state["stop"]:
            state["n"] += 1

    old = sys.getswitchinterval()
    sys.setswitchinterval(1.0)
    counter = threading.Thread(target=count)
    try:
        counter.start()
        time.sleep(0.01)
        before = state["n"]
        fast.nn_model(X, Y, 32, 1000, seed=0, n_threads=1)
        during = state["n"] - before
    finally:
        state["stop"] = True
        counter.join()
        sys.setswitchinterval(old)
    assert during > 1000, f"the counter thread advanced only {during} times during training"


def test_tolerance_table_is_keyed_by_dtype():
    assert tolerance(np.float32)["rtol"] > tolerance(np.float64)["rtol"]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_compiled_finiteness_check_finds_every_position(variant, dtype, bad):
    """fast's input check: every position, every layout (C, F, strided, reversed), 0 and 1 sizes."""
    all_finite = _dispatch.load(variant).all_finite
    base = np.random.default_rng(5).standard_normal((7, 37)).astype(dtype) * 1e30
    views = {
        "C": lambda a: a,
        "F": np.asfortranarray,
        "strided": lambda a: np.repeat(a, 2, axis=1)[:, ::2],
        "reversed": lambda a: a[::-1, ::-1].copy()[::-1, ::-1],
    }
    for name, view in views.items():
        assert all_finite(view(base)), name
        for i, j in [(0, 0), (6, 36), (3, 17), (0, 32), (6, 35)]:
            a = base.copy()
            a[i, j] = bad
            assert not all_finite(view(a)), (name, i, j)
    assert all_finite(np.empty((0, 5), dtype)) and all_finite(np.empty((3, 0), dtype))
    tiny = np.full((1, 1), np.finfo(dtype).smallest_subnormal, dtype)
    assert all_finite(tiny) and all_finite(np.full((1, 1), np.finfo(dtype).max, dtype))


def test_overlapping_blas_limits_restore_the_original_thread_count():
    """Two threads training at once with n_threads=1 leave BLAS as they found it."""
    from threadpoolctl import threadpool_info

    def blas_threads():
        return sorted(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")

    before = blas_threads()
    X, Y, params = _data(np.random.default_rng(6), 40, 64, 1, 300, np.float64)
    barrier = threading.Barrier(2)

    def work():
        barrier.wait()
        for _ in range(20):
            fast.nn_model(X, Y, 64, 3, learning_rate=0.1, parameters=params, n_threads=1)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert blas_threads() == before


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_network_finiteness_check_finds_every_array(variant, dtype):
    """network_finite(X, W1, b1, W2, b2) is False as soon as any one of the five holds NaN or inf."""
    network_finite = _dispatch.load(variant).network_finite
    rng = np.random.default_rng(6)
    arrays = [rng.standard_normal(s).astype(dtype) for s in [(3, 41), (5, 3), (5, 1), (2, 5), (2, 1)]]
    arrays[0] = np.asfortranarray(arrays[0])  # any layout
    arrays[3] = np.repeat(arrays[3], 2, axis=1)[:, ::2]
    assert network_finite(*arrays)
    for k in range(5):
        for bad in (np.nan, np.inf, -np.inf):
            broken = [a.copy(order="K") for a in arrays]
            broken[k][-1, -1] = bad
            assert not network_finite(*broken), (k, bad)

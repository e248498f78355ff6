"""Training behaviour: symmetry, the flower, hidden sizes, cost reporting, restarts."""

import functools
import re

import numpy as np
import pytest

from shallownet_fast.datasets import load_planar_dataset

from conftest import (
    ACTIVATIONS,
    PARAM_KEYS,
    assert_close,
    assert_dicts_close,
    fast,
    make_parameters,
    reference,
    tolerance,
)

COST_LINE = re.compile(r"Cost after iteration (\d+): (-?\d+\.\d+)")


@functools.cache
def _flower():
    X, Y = load_planar_dataset()
    X.setflags(write=False)
    Y.setflags(write=False)
    return X, Y


@functools.cache
def _flower_run(backend):
    """The classic run, shared by several tests: n_h=4, 10000 iterations, lr 1.2, tanh, seed 0."""
    X, Y = _flower()
    return backend.nn_model(X, Y, 4, 10000, learning_rate=1.2, activation="tanh", seed=0, return_costs=True)


def _accuracy(backend, params, X, Y, activation="tanh"):
    return float(np.mean(backend.predict(params, X, activation=activation) == Y))


def test_flower_dataset():
    X, Y = _flower()
    assert X.shape == (2, 400) and X.dtype == np.float64
    assert Y.shape == (1, 400) and Y.dtype == np.uint8
    assert set(np.unique(Y)) == {0, 1} and Y.sum() == 200
    X2, Y2 = load_planar_dataset()
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(Y2, Y)


# ---------------------------------------------------------------- (a) symmetry


def _assert_rows_identical(A, dtype, what):
    """Every row equals the first (relative tolerance of the table, no absolute slack)."""
    np.testing.assert_allclose(A, np.broadcast_to(A[:1], A.shape), rtol=tolerance(dtype)["rtol"], atol=0, err_msg=what)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_zero_init_keeps_hidden_units_identical(backend, dtype, activation):
    X, Y = _flower()
    p = backend.nn_model(X.astype(dtype), Y, 4, 500, activation=activation, init="zeros")
    _assert_rows_identical(p["W1"], dtype, "rows of W1")
    _assert_rows_identical(p["b1"], dtype, "entries of b1")
    _assert_rows_identical(p["W2"].T, dtype, "entries of W2")


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_zero_init_symmetry_is_not_trivial(backend, dtype, activation):
    """On an unbalanced subset with sigmoid units the weights move, but stay symmetric.

    (On the balanced flower every gradient of a zero start is exactly 0 except db2,
    so the test above only shows that nothing moves.)
    """
    X, Y = _flower()
    X, Y = X[:, :300].astype(dtype), Y[:, :300]  # 200 of class 0, 100 of class 1
    p = backend.nn_model(X, Y, 4, 500, activation=activation, init="zeros")
    _assert_rows_identical(p["W1"], dtype, "rows of W1")
    _assert_rows_identical(p["b1"], dtype, "entries of b1")
    _assert_rows_identical(p["W2"].T, dtype, "entries of W2")
    assert np.abs(p["b2"]).max() > 0.1
    if activation == "sigmoid":
        assert np.abs(p["W1"]).max() > 0.1 and np.abs(p["W2"]).max() > 0.1
    else:  # tanh(0) = 0 and W2 = 0: the hidden layer never moves
        np.testing.assert_array_equal(p["W1"], 0)
        np.testing.assert_array_equal(p["W2"], 0)


def test_normal_init_breaks_the_symmetry(backend):
    X, Y = _flower()
    p = backend.nn_model(X, Y, 4, 500, init="normal", seed=0)
    W1 = p["W1"]
    for i in range(W1.shape[0]):
        for j in range(i):
            assert np.abs(W1[i] - W1[j]).max() > 1e-3, f"rows {i} and {j} of W1 coincide"
    assert np.ptp(p["W2"]) > 1e-3


# ---------------------------------------------------------------- (b) the flower


def test_flower_accuracy(backend):
    X, Y = _flower()
    params, costs = _flower_run(backend)
    assert set(params) == set(PARAM_KEYS)
    assert params["W1"].shape == (4, 2) and params["W2"].shape == (1, 4)
    acc = _accuracy(backend, params, X, Y)
    assert acc >= 0.90, f"training accuracy {acc}"


# ---------------------------------------------------------------- (c) hidden sizes


@pytest.mark.parametrize("n_h, low", [(1, True), (2, True), (3, False), (4, False), (5, False)])
def test_hidden_size_sweep(backend, n_h, low):
    """Reference measured 0.675, 0.6625, 0.9075, 0.905, 0.91 for n_h = 1..5."""
    X, Y = _flower()
    params = backend.nn_model(X, Y, n_h, 5000, seed=0)
    acc = _accuracy(backend, params, X, Y)
    if low:
        assert acc < 0.70, f"n_h={n_h}: accuracy {acc}"
    else:
        assert acc > 0.88, f"n_h={n_h}: accuracy {acc}"


# ---------------------------------------------------------------- (d) print_cost


def _printed_costs(text):
    lines = [line for line in text.splitlines() if line.strip()]
    parsed = [COST_LINE.fullmatch(line) for line in lines]
    assert all(parsed), f"unexpected output lines: {[l for l, p in zip(lines, parsed) if not p]}"
    return [int(p.group(1)) for p in parsed], np.array([float(p.group(2)) for p in parsed])


def test_print_cost(backend, capsys):
    X, Y = _flower()
    params, costs = backend.nn_model(X, Y, 4, 2500, seed=0, print_cost=True, return_costs=True)
    out = capsys.readouterr().out
    iterations, printed = _printed_costs(out)
    assert iterations == [0, 1000, 2000]
    assert out.splitlines()[0].startswith("Cost after iteration 0: ")
    # printed with 6 decimals ("%f"): within 5e-7 of the returned costs
    np.testing.assert_allclose(printed, costs[iterations], rtol=0, atol=6e-7)


def test_print_cost_matches_between_backends(capsys):
    X, Y = _flower()
    reference.nn_model(X, Y, 4, 3001, seed=0, print_cost=True)
    ref_iterations, ref_printed = _printed_costs(capsys.readouterr().out)
    fast.nn_model(X, Y, 4, 3001, seed=0, print_cost=True)
    fast_iterations, fast_printed = _printed_costs(capsys.readouterr().out)
    assert ref_iterations == [0, 1000, 2000, 3000]
    assert fast_iterations == ref_iterations
    np.testing.assert_allclose(fast_printed, ref_printed, rtol=0, atol=2e-6)


def test_no_output_without_print_cost(backend, capsys):
    X, Y = _flower()
    backend.nn_model(X, Y, 4, 1001, seed=0)
    backend.nn_model(X, Y, 4, 10, seed=0, return_costs=True)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_print_cost_float32(backend, capsys):
    X, Y = _flower()
    backend.nn_model(X.astype(np.float32), Y, 4, 1001, seed=0, print_cost=True)
    iterations, printed = _printed_costs(capsys.readouterr().out)
    assert iterations == [0, 1000]
    assert printed[0] == pytest.approx(np.log(2), abs=1e-5)


# ---------------------------------------------------------------- (e) return_costs


def test_return_costs(backend):
    X, Y = _flower()
    params, costs = _flower_run(backend)
    assert isinstance(costs, np.ndarray)
    assert costs.shape == (10000,) and costs.dtype == np.float64
    assert np.all(np.isfinite(costs)) and np.all(costs > 0)
    p0 = backend.initialize_parameters(2, 4, 1, init="normal", seed=0)
    A2, _ = backend.forward_propagation(X, p0)
    assert_close(costs[0], backend.compute_cost(A2, Y), np.float64, "costs[0]")
    # the last recorded cost is taken before the last update
    assert costs[-1] < 0.5 * costs[0]
    assert np.mean(costs[-1000:]) < np.mean(costs[1000:2000]) < np.mean(costs[:1000])


@pytest.mark.parametrize("n_y", [1, 3])
def test_each_cost_is_taken_before_its_update(backend, dtype, n_y):
    rng = np.random.default_rng(40)
    X = rng.standard_normal((3, 20)).astype(dtype)
    labels = rng.integers(0, max(n_y, 2), size=20)
    Y = (labels[None] if n_y == 1 else np.eye(n_y)[:, labels]).astype(dtype)
    p0 = make_parameters(41, 3, 5, n_y, dtype)
    p = p0
    expected = []
    for _ in range(4):
        A2, _ = backend.forward_propagation(X, p)
        expected.append(backend.compute_cost(A2, Y))
        p = backend.nn_model(X, Y, 5, 1, parameters=p, learning_rate=0.3)
    _, costs = backend.nn_model(X, Y, 5, 4, parameters=p0, learning_rate=0.3, return_costs=True)
    assert_close(costs, expected, dtype, "costs")


# ---------------------------------------------------------------- (f) zero iterations


@pytest.mark.parametrize("return_costs", [False, True])
def test_zero_iterations_returns_a_copy_of_the_start(backend, dtype, return_costs):
    X, Y = _flower()
    X = X.astype(dtype)
    p0 = make_parameters(42, 2, 4, 1, dtype)
    out = backend.nn_model(X, Y, 4, 0, parameters=p0, return_costs=return_costs)
    if return_costs:
        out, costs = out
        assert costs.shape == (0,)
    for k in PARAM_KEYS:
        np.testing.assert_array_equal(out[k], p0[k])
        assert out[k].dtype == dtype
        assert out[k] is not p0[k]
        assert not np.shares_memory(out[k], p0[k])
        out[k][...] = 99  # writing into the result leaves the start alone
        assert not np.any(p0[k] == 99)


def test_zero_iterations_from_seed_is_the_initialisation(backend, dtype):
    X, Y = _flower()
    out = backend.nn_model(X.astype(dtype), Y, 3, 0, init="xavier", seed=5)
    start = backend.initialize_parameters(2, 3, 1, init="xavier", seed=5, dtype=dtype)
    for k in PARAM_KEYS:
        np.testing.assert_array_equal(out[k], start[k])
        assert out[k].dtype == dtype


def test_seed_makes_training_reproducible(backend):
    X, Y = _flower()
    a = backend.nn_model(X, Y, 4, 50, seed=np.int64(3))
    b = backend.nn_model(X, Y, 4, 50, seed=3)
    c = backend.nn_model(X, Y, 4, 50, seed=4)
    for k in PARAM_KEYS:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["W1"], c["W1"])


# ---------------------------------------------------------------- (g) restarting


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_training_continues_from_given_parameters(backend, dtype, activation):
    X, Y = _flower()
    X = X.astype(dtype)
    p0 = backend.initialize_parameters(2, 4, 1, init="xavier", seed=6, dtype=dtype)
    kept = {k: a.copy() for k, a in p0.items()}
    half = backend.nn_model(X, Y, 4, 10, learning_rate=1.2, activation=activation, parameters=p0)
    for k in PARAM_KEYS:
        np.testing.assert_array_equal(p0[k], kept[k], err_msg=f"{k} of the given parameters was modified")
    resumed = backend.nn_model(X, Y, 4, 10, learning_rate=1.2, activation=activation, parameters=half)
    whole = backend.nn_model(X, Y, 4, 20, learning_rate=1.2, activation=activation, parameters=p0)
    assert_dicts_close(resumed, whole, dtype, PARAM_KEYS, "10 + 10 iterations against 20")
    for k in PARAM_KEYS:
        np.testing.assert_array_equal(p0[k], kept[k], err_msg=f"{k} of the given parameters was modified")
    assert not np.allclose(whole["W1"], p0["W1"]), "training did not move W1"


def test_given_parameters_override_init_and_seed(backend):
    X, Y = _flower()
    p0 = make_parameters(43, 2, 4, 1)
    a = backend.nn_model(X, Y, 4, 5, parameters=p0, init="zeros", seed=1)
    b = backend.nn_model(X, Y, 4, 5, parameters=p0, init="he", seed=2)
    for k in PARAM_KEYS:
        np.testing.assert_array_equal(a[k], b[k])


# ---------------------------------------------------------------- (h) long run, fast against reference


def test_long_run_fast_against_reference():
    """After ~3000 iterations at lr 1.2 the trajectory is chaotic: rounding
    differences grow until the parameters differ visibly, so only the final
    cost and the accuracy are compared."""
    X, Y = _flower()
    p_r, c_r = _flower_run(reference)
    p_f, c_f = _flower_run(fast)
    assert abs(c_f[-1] - c_r[-1]) < 1e-3, f"final costs {c_f[-1]} (fast) and {c_r[-1]} (reference)"
    acc_r = _accuracy(reference, p_r, X, Y)
    acc_f = _accuracy(fast, p_f, X, Y)
    assert abs(acc_f - acc_r) <= 0.01 + 1e-12, f"accuracies {acc_f} (fast) and {acc_r} (reference)"
    # before the chaos sets in the two runs agree closely
    np.testing.assert_allclose(c_f[:1000], c_r[:1000], rtol=1e-8, atol=0)


def test_multiclass_training(backend):
    """Three Gaussian blobs with a softmax output: predict gives class indices."""
    rng = np.random.default_rng(44)
    centers = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    labels = rng.integers(0, 3, size=300)
    X = (centers[labels] + rng.standard_normal((300, 2))).T
    Y = np.eye(3)[:, labels]
    params, costs = backend.nn_model(X, Y, 5, 2000, learning_rate=0.5, seed=0, return_costs=True)
    pred = backend.predict(params, X)
    assert pred.shape == (300,)
    assert np.mean(pred == labels) > 0.93
    assert costs[-1] < 0.3 * costs[0]

"""The public API: fast exposes exactly the reference's functions and signatures."""

import inspect

import numpy as np
import pytest

from conftest import PARAM_KEYS, fast, reference

PUBLIC = [
    "layer_sizes",
    "initialize_parameters",
    "forward_propagation",
    "compute_cost",
    "backward_propagation",
    "update_parameters",
    "nn_model",
    "predict",
]


def test_all_is_equal():
    assert fast.__all__ == reference.__all__


def test_all_lists_the_public_functions():
    assert sorted(reference.__all__) == sorted(PUBLIC)


@pytest.mark.parametrize("name", PUBLIC)
def test_signature_is_identical(name):
    ref_sig = inspect.signature(getattr(reference, name))
    fast_sig = inspect.signature(getattr(fast, name))
    assert fast_sig == ref_sig, f"{name}: fast{fast_sig} != reference{ref_sig}"


@pytest.mark.parametrize("name", PUBLIC)
def test_public_function_is_documented(name):
    func = getattr(fast, name)
    assert callable(func)
    assert func.__doc__ and func.__doc__.strip(), f"fast.{name} has no docstring"


# ---------------------------------------------------------------- behaviour of the small helpers


def test_layer_sizes(backend):
    X = np.zeros((5, 7))
    Y = np.zeros((3, 7))
    Y[0] = 1
    assert backend.layer_sizes(X, Y) == (5, 4, 3)
    sizes = backend.layer_sizes(X, Y, n_h=9)
    assert sizes == (5, 9, 3)
    assert all(type(s) is int for s in sizes)
    assert backend.layer_sizes(np.zeros((2, 1)), np.ones((1, 1)), np.int64(2)) == (2, 2, 1)


@pytest.mark.parametrize("init", ["normal", "zeros", "xavier", "he"])
def test_initialize_parameters_shapes_and_dtypes(backend, dtype, init):
    p = backend.initialize_parameters(3, 5, 2, init=init, seed=1, dtype=dtype)
    assert set(p) == set(PARAM_KEYS)
    shapes = {"W1": (5, 3), "b1": (5, 1), "W2": (2, 5), "b2": (2, 1)}
    for k in PARAM_KEYS:
        assert isinstance(p[k], np.ndarray)
        assert p[k].shape == shapes[k], k
        assert p[k].dtype == dtype, k
    np.testing.assert_array_equal(p["b1"], 0)
    np.testing.assert_array_equal(p["b2"], 0)
    if init == "zeros":
        np.testing.assert_array_equal(p["W1"], 0)
        np.testing.assert_array_equal(p["W2"], 0)
    else:
        assert np.all(p["W1"] != 0) and np.all(p["W2"] != 0)


@pytest.mark.parametrize("init", ["normal", "xavier", "he"])
def test_initialize_parameters_follows_the_documented_draw(backend, init):
    """W1 then W2 from default_rng(seed) in float64, scaled, then rounded to dtype."""
    n_x, n_h, n_y = 4, 6, 3
    rng = np.random.default_rng(123)
    W1 = rng.standard_normal((n_h, n_x))
    W2 = rng.standard_normal((n_y, n_h))
    if init == "normal":
        W1, W2 = W1 * 0.01, W2 * 0.01
    else:
        gain = 1.0 if init == "xavier" else 2.0
        W1, W2 = W1 * np.sqrt(gain / n_x), W2 * np.sqrt(gain / n_h)
    for dt in (np.float64, np.float32):
        p = backend.initialize_parameters(n_x, n_h, n_y, init=init, seed=123, dtype=dt)
        np.testing.assert_array_equal(p["W1"], W1.astype(dt))
        np.testing.assert_array_equal(p["W2"], W2.astype(dt))


def test_initialize_parameters_scale_and_seed(backend):
    a = backend.initialize_parameters(3, 4, 1, seed=7, scale=0.5)
    b = backend.initialize_parameters(3, 4, 1, seed=7, scale=0.01)
    np.testing.assert_allclose(a["W1"] * 0.02, b["W1"], rtol=1e-15)
    c = backend.initialize_parameters(3, 4, 1, seed=np.random.default_rng(7), scale=0.5)
    np.testing.assert_array_equal(a["W1"], c["W1"])
    d = backend.initialize_parameters(3, 4, 1, seed=8, scale=0.5)
    assert not np.array_equal(a["W1"], d["W1"])
    z = backend.initialize_parameters(3, 4, 1, seed=7, scale=0.0)
    np.testing.assert_array_equal(z["W1"], 0)


def test_initialize_parameters_matches_reference(dtype):
    for init in ("normal", "zeros", "xavier", "he"):
        r = reference.initialize_parameters(6, 3, 2, init=init, seed=5, dtype=dtype)
        f = fast.initialize_parameters(6, 3, 2, init=init, seed=5, dtype=dtype)
        for k in PARAM_KEYS:
            np.testing.assert_array_equal(f[k], r[k], err_msg=f"{init} {k}")
            assert f[k].dtype == r[k].dtype

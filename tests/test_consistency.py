"""fast against reference: same results to rounding, same dtypes, no mutation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import (
    ACTIVATIONS,
    CACHE_KEYS,
    DTYPE_IDS,
    DTYPES,
    GRAD_KEYS,
    PARAM_KEYS,
    assert_close,
    assert_dicts_close,
    assert_unchanged,
    copy_tree,
    fast,
    make_data,
    make_labels,
    make_parameters,
    reference,
    tolerance,
)

# (n_x, n_h, m): a small odd case, and one big enough for the fast path to use BLAS.
SIZES = {"small": (5, 7, 53), "big": (40, 64, 300)}

cases = [
    pytest.param(np.dtype(dt), act, n_y, size, id=f"{dt_id}-{act}-ny{n_y}-{size}")
    for dt, dt_id in zip(DTYPES, DTYPE_IDS)
    for act in ACTIVATIONS
    for n_y in (1, 3)
    for size in SIZES
]


def _problem(dtype, n_y, size, seed=0):
    n_x, n_h, m = SIZES[size]
    X, Y = make_data(seed, n_x, m, n_y, dtype)
    params = make_parameters(seed + 1, n_x, n_h, n_y, dtype)
    return X, Y, params


@pytest.mark.parametrize("dtype, activation, n_y, size", cases)
def test_forward(dtype, activation, n_y, size):
    X, Y, params = _problem(dtype, n_y, size)
    A2_r, cache_r = reference.forward_propagation(X, params, activation=activation)
    A2_f, cache_f = fast.forward_propagation(X, params, activation=activation)
    assert A2_f.dtype == dtype
    assert A2_f.shape == (n_y, X.shape[1])
    assert_close(A2_f, A2_r, dtype, "A2")
    assert set(cache_f) == set(CACHE_KEYS)
    assert_dicts_close(cache_f, cache_r, dtype, CACHE_KEYS, "cache")
    np.testing.assert_array_equal(cache_f["A2"], A2_f)
    if n_y > 1:
        assert_close(A2_f.sum(axis=0), np.ones(X.shape[1]), dtype, "softmax columns sum to 1")


@pytest.mark.parametrize("dtype, activation, n_y, size", cases)
def test_compute_cost(dtype, activation, n_y, size):
    X, Y, params = _problem(dtype, n_y, size)
    A2, _ = reference.forward_propagation(X, params, activation=activation)
    c_r = reference.compute_cost(A2, Y)
    c_f = fast.compute_cost(A2, Y)
    assert type(c_f) is float
    assert_close(c_f, c_r, dtype, "cost of the same A2")
    # and the whole chain, each backend with its own forward pass
    A2_f, _ = fast.forward_propagation(X, params, activation=activation)
    assert_close(fast.compute_cost(A2_f, Y), c_r, dtype, "cost of fast's own A2")


@pytest.mark.parametrize("dtype, activation, n_y, size", cases)
def test_backward(dtype, activation, n_y, size):
    X, Y, params = _problem(dtype, n_y, size)
    _, cache_r = reference.forward_propagation(X, params, activation=activation)
    g_r = reference.backward_propagation(params, cache_r, X, Y, activation=activation)
    # the same cache for both: backward alone
    g_f = fast.backward_propagation(params, cache_r, X, Y, activation=activation)
    assert set(g_f) == set(GRAD_KEYS)
    assert_dicts_close(g_f, g_r, dtype, GRAD_KEYS, "grads (reference cache)")
    # fast's own cache: forward and backward together
    _, cache_f = fast.forward_propagation(X, params, activation=activation)
    g_ff = fast.backward_propagation(params, cache_f, X, Y, activation=activation)
    assert_dicts_close(g_ff, g_r, dtype, GRAD_KEYS, "grads (fast cache)")
    for k, p in zip(GRAD_KEYS, PARAM_KEYS):
        assert g_f[k].shape == params[p].shape


@pytest.mark.parametrize("dtype, activation, n_y, size", cases)
def test_update_parameters(dtype, activation, n_y, size):
    X, Y, params = _problem(dtype, n_y, size)
    _, cache = reference.forward_propagation(X, params, activation=activation)
    grads = reference.backward_propagation(params, cache, X, Y, activation=activation)
    new_r = reference.update_parameters(params, grads, learning_rate=0.5)
    new_f = fast.update_parameters(params, grads, learning_rate=0.5)
    assert set(new_f) == set(PARAM_KEYS)
    assert_dicts_close(new_f, new_r, dtype, PARAM_KEYS, "updated parameters")
    for k in PARAM_KEYS:
        assert new_f[k] is not params[k]
        assert not np.shares_memory(new_f[k], params[k])


def _kink_sensitive(dtype, activation):
    """float32 ReLU training cannot be compared with the reference over many steps.

    The ReLU derivative jumps at Z1 = 0.  An entry of Z1 within float32 rounding
    of 0 can have opposite signs in the two implementations (and in two builds
    of the kernels); that flips one entry of the derivative mask, moves a row of
    W1 beyond the table's float32 tolerance, and the runs then separate.  Such
    runs are compared one step at a time instead (_assert_steps_match).  In
    float64 the rounding is 1e9 times smaller: a flip within 200 steps is not
    expected, and those runs are compared whole.
    """
    return dtype == np.float32 and activation in ("relu", "leaky_relu")


def _kink_slack(X, Y, params, activation, learning_rate):
    """Extra room for W1 and b1 after one step, for the entries of Z1 whose sign rounding decides.

    Both implementations compute Z1 = W1 X + b1 from the same float32 state,
    each within the worst-case bound of a sum of n_x + 1 products,
    |fl(Z1) - Z1| <= gamma(n_x + 1) * (|W1| |X| + |b1|), gamma(n) = n u / (1 - n u),
    u = 2^-24 (Higham, Accuracy and Stability, 3.1), whatever their order of
    summation.  Where |Z1| (computed in float64, exact to ~1e-16) exceeds that
    bound both have Z1's sign, so the same derivative mask.  Where it does not,
    the mask entry may differ: that changes dZ1[i, j] by at most |dA1[i, j]|
    (the slope jumps by 1, or 0.99 for leaky ReLU), so dW1[i, :] by
    |dA1[i, j]| |X[:, j]| / m and db1[i] by |dA1[i, j]| / m, and the step by
    learning_rate times those.  dA1 = W2^T (A2 - Y) is taken in float64; W2 and
    b2 see only A1, which differs there by at most the bound, far inside the table.
    """
    X64, W1, b1 = X.astype(np.float64), params["W1"].astype(np.float64), params["b1"].astype(np.float64)
    W2, b2 = params["W2"].astype(np.float64), params["b2"].astype(np.float64)
    n_x, m = X.shape
    u = 2.0**-24
    gamma = (n_x + 1) * u / (1 - (n_x + 1) * u)
    Z1 = W1 @ X64 + b1
    near = np.abs(Z1) <= gamma * (np.abs(W1) @ np.abs(X64) + np.abs(b1))
    A1 = np.maximum(Z1, 0) if activation == "relu" else np.where(Z1 > 0, Z1, 0.01 * Z1)
    Z2 = W2 @ A1 + b2
    if Z2.shape[0] == 1:
        A2 = 1 / (1 + np.exp(-Z2))
    else:
        E = np.exp(Z2 - Z2.max(axis=0))
        A2 = E / E.sum(axis=0)
    dA1 = np.abs(W2.T @ (A2 - Y.astype(np.float64))) * near
    return {
        "W1": learning_rate * (dA1 @ np.abs(X64).T) / m,
        "b1": learning_rate * dA1.sum(axis=1, keepdims=True) / m,
    }, int(near.sum())


def _assert_steps_match(X, Y, n_h, iterations, dtype, activation, learning_rate, seed, init="normal"):
    """One fast step and one reference step from each of `iterations` states of the reference's run.

    Each step starts from the same state, so nothing accumulates: the table's
    tolerance holds, plus _kink_slack on W1 and b1 where a mask entry is
    decided by rounding.  The cost of each state is compared too.
    """
    state = reference.initialize_parameters(X.shape[0], n_h, Y.shape[0], seed=seed, init=init)
    state = {k: v.astype(dtype) for k, v in state.items()}
    kwargs = dict(learning_rate=learning_rate, activation=activation, return_costs=True)
    ambiguous = 0
    for t in range(iterations):
        p_r, c_r = reference.nn_model(X, Y, n_h, 1, parameters=state, **kwargs)
        p_f, c_f = fast.nn_model(X, Y, n_h, 1, parameters=state, **kwargs)
        slack, near = _kink_slack(X, Y, state, activation, learning_rate)
        ambiguous += near
        assert_close(c_f, c_r, dtype, f"cost at step {t}")
        for k in PARAM_KEYS:
            assert p_f[k].dtype == p_r[k].dtype == dtype
            tol = tolerance(dtype)
            room = tol["atol"] + tol["rtol"] * np.abs(p_r[k]) + slack.get(k, 0)
            excess = np.abs(p_f[k].astype(np.float64) - p_r[k]) - room
            assert (excess <= 0).all(), f"{k} after step {t}: {excess.max():.3g} beyond the tolerance"
        state = p_r
    return ambiguous


@pytest.mark.parametrize("dtype, activation, n_y, size", cases)
def test_nn_model_200_iterations(dtype, activation, n_y, size):
    n_x, n_h, m = SIZES[size]
    X, Y = make_data(2, n_x, m, n_y, dtype)
    kwargs = dict(learning_rate=0.5, activation=activation, seed=3, return_costs=True)
    p_f, c_f = fast.nn_model(X, Y, n_h, 200, **kwargs)
    assert c_f.shape == (200,)
    assert c_f.dtype == np.float64
    if _kink_sensitive(dtype, activation):
        # The same 200 steps, each from the reference's state (see _kink_sensitive).
        _assert_steps_match(X, Y, n_h, 200, dtype, activation, 0.5, seed=3)
    else:
        p_r, c_r = reference.nn_model(X, Y, n_h, 200, **kwargs)
        assert_dicts_close(p_f, p_r, dtype, PARAM_KEYS, "trained parameters")
        assert_close(c_f, c_r, dtype, "costs")
    # without return_costs: the same parameters, returned alone
    p_f2 = fast.nn_model(X, Y, n_h, 200, learning_rate=0.5, activation=activation, seed=3)
    assert isinstance(p_f2, dict)
    assert_dicts_close(p_f2, p_f, dtype, PARAM_KEYS, "with and without return_costs")


@pytest.mark.parametrize("dtype", [np.dtype(d) for d in DTYPES], ids=DTYPE_IDS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_nn_model_from_given_parameters(dtype, activation):
    X, Y = make_data(4, 5, 53, 3, dtype)
    p0 = make_parameters(5, 5, 7, 3, dtype)
    p_r = reference.nn_model(X, Y, 7, 50, learning_rate=0.5, activation=activation, parameters=p0)
    p_f = fast.nn_model(X, Y, 7, 50, learning_rate=0.5, activation=activation, parameters=p0)
    assert_dicts_close(p_f, p_r, dtype, PARAM_KEYS, "trained from given parameters")


# ---------------------------------------------------------------- random shapes

shape_cases = dict(
    n_x=st.integers(1, 6),
    n_h=st.integers(1, 6),
    n_y=st.integers(1, 6),
    m=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
    activation=st.sampled_from(ACTIVATIONS),
)


@pytest.mark.parametrize("dtype", [np.dtype(d) for d in DTYPES], ids=DTYPE_IDS)
@settings(max_examples=25, deadline=None, database=None)
@given(**shape_cases)
def test_random_shapes_forward_backward(dtype, n_x, n_h, n_y, m, seed, activation):
    X, Y = make_data(seed, n_x, m, n_y, dtype)
    params = make_parameters(seed + 1, n_x, n_h, n_y, dtype)
    A2_r, cache_r = reference.forward_propagation(X, params, activation=activation)
    A2_f, cache_f = fast.forward_propagation(X, params, activation=activation)
    assert A2_f.shape == (n_y, m) and A2_f.dtype == dtype
    assert_dicts_close(cache_f, cache_r, dtype, CACHE_KEYS, "cache")
    assert_close(fast.compute_cost(A2_f, Y), reference.compute_cost(A2_r, Y), dtype, "cost")
    g_r = reference.backward_propagation(params, cache_r, X, Y, activation=activation)
    g_f = fast.backward_propagation(params, cache_r, X, Y, activation=activation)
    assert_dicts_close(g_f, g_r, dtype, GRAD_KEYS, "grads")
    u_r = reference.update_parameters(params, g_r, learning_rate=1.2)
    u_f = fast.update_parameters(params, g_r, learning_rate=1.2)
    assert_dicts_close(u_f, u_r, dtype, PARAM_KEYS, "update")


@pytest.mark.parametrize("dtype", [np.dtype(d) for d in DTYPES], ids=DTYPE_IDS)
@settings(max_examples=25, deadline=None, database=None)
@given(**shape_cases)
def test_random_shapes_nn_model(dtype, n_x, n_h, n_y, m, seed, activation):
    X, Y = make_data(seed, n_x, m, n_y, dtype)
    if _kink_sensitive(dtype, activation):
        # 20 single steps from the reference's states (see _kink_sensitive)
        _assert_steps_match(X, Y, n_h, 20, dtype, activation, 0.5, seed=seed, init="xavier")
        return
    kwargs = dict(learning_rate=0.5, activation=activation, init="xavier", seed=seed, return_costs=True)
    p_r, c_r = reference.nn_model(X, Y, n_h, 20, **kwargs)
    p_f, c_f = fast.nn_model(X, Y, n_h, 20, **kwargs)
    assert_dicts_close(p_f, p_r, dtype, PARAM_KEYS, "parameters")
    assert_close(c_f, c_r, dtype, "costs")


# ---------------------------------------------------------------- dtypes


@pytest.mark.parametrize("n_y", [1, 3])
def test_output_dtype_follows_input_dtype(backend, dtype, n_y):
    X, Y = make_data(6, 4, 11, n_y, dtype)
    params = make_parameters(7, 4, 3, n_y, dtype)
    A2, cache = backend.forward_propagation(X, params)
    assert A2.dtype == dtype
    assert all(cache[k].dtype == dtype for k in CACHE_KEYS)
    grads = backend.backward_propagation(params, cache, X, Y)
    assert all(grads[k].dtype == dtype for k in GRAD_KEYS)
    new = backend.update_parameters(params, grads, 0.1)
    assert all(new[k].dtype == dtype for k in PARAM_KEYS)
    trained, costs = backend.nn_model(X, Y, 3, 3, seed=0, return_costs=True)
    assert all(trained[k].dtype == dtype for k in PARAM_KEYS)
    assert costs.dtype == np.float64
    assert type(backend.compute_cost(A2, Y)) is float


@pytest.mark.parametrize("in_dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_integer_and_bool_inputs_give_float64(backend, in_dtype):
    rng = np.random.default_rng(8)
    X = rng.integers(0, 2, size=(3, 9)).astype(in_dtype)
    Y = make_labels(rng, 1, 9, in_dtype)
    X64, Y64 = X.astype(np.float64), Y.astype(np.float64)
    for pdtype in (np.float32, np.float64):
        params = make_parameters(9, 3, 4, 1, pdtype)
        A2, cache = backend.forward_propagation(X, params)
        assert A2.dtype == np.float64
        assert all(cache[k].dtype == np.float64 for k in CACHE_KEYS)
        p64 = {k: a.astype(np.float64) for k, a in params.items()}
        A2_64, cache_64 = backend.forward_propagation(X64, p64)
        assert_close(A2, A2_64, np.float64, "int X against float64 X")
        grads = backend.backward_propagation(params, cache, X, Y)
        assert all(grads[k].dtype == np.float64 for k in GRAD_KEYS)
        g64 = backend.backward_propagation(p64, cache_64, X64, Y64)
        assert_dicts_close(grads, g64, np.float64, GRAD_KEYS, "int inputs")
    trained = backend.nn_model(X, Y, 4, 5, seed=0)
    assert all(trained[k].dtype == np.float64 for k in PARAM_KEYS)
    trained64 = backend.nn_model(X64, Y64, 4, 5, seed=0)
    assert_dicts_close(trained, trained64, np.float64, PARAM_KEYS, "int nn_model")
    assert backend.compute_cost(np.array([[0.25, 0.75]]), np.array([[0, 1]], in_dtype)) == pytest.approx(
        -np.log(0.75), rel=1e-12
    )


def test_mixed_float32_and_float64_work_in_float64(backend):
    X, Y = make_data(10, 3, 8, 1, np.float64)
    p32 = make_parameters(11, 3, 2, 1, np.float32)
    A2, cache = backend.forward_propagation(X, p32)
    assert A2.dtype == np.float64
    assert backend.forward_propagation(X.astype(np.float32), p32)[0].dtype == np.float32
    grads = backend.backward_propagation(p32, cache, X, Y)
    assert grads["dW1"].dtype == np.float64
    new = backend.update_parameters(p32, grads, 0.1)
    assert all(new[k].dtype == np.float64 for k in PARAM_KEYS)
    trained = backend.nn_model(X, Y, 2, 2, parameters=p32)
    assert all(trained[k].dtype == np.float64 for k in PARAM_KEYS)


# ---------------------------------------------------------------- no mutation


@pytest.mark.parametrize("n_y", [1, 3])
def test_inputs_not_mutated(backend, dtype, activation, n_y):
    X, Y = make_data(12, 4, 17, n_y, dtype)
    params = make_parameters(13, 4, 5, n_y, dtype)
    X0, Y0, P0 = copy_tree(X), copy_tree(Y), copy_tree(params)

    def check(after):
        assert_unchanged(X0, X, f"X after {after}")
        assert_unchanged(Y0, Y, f"Y after {after}")
        assert_unchanged(P0, params, f"parameters after {after}")

    backend.layer_sizes(X, Y, 5)
    check("layer_sizes")
    A2, cache = backend.forward_propagation(X, params, activation=activation)
    check("forward_propagation")
    A2_0, C0 = copy_tree(A2), copy_tree(cache)
    backend.compute_cost(A2, Y)
    check("compute_cost")
    assert_unchanged(A2_0, A2, "A2 after compute_cost")
    grads = backend.backward_propagation(params, cache, X, Y, activation=activation)
    check("backward_propagation")
    assert_unchanged(C0, cache, "cache after backward_propagation")
    G0 = copy_tree(grads)
    backend.update_parameters(params, grads, learning_rate=0.5)
    check("update_parameters")
    assert_unchanged(G0, grads, "grads after update_parameters")
    backend.nn_model(X, Y, 5, 30, learning_rate=0.5, activation=activation, parameters=params)
    check("nn_model with parameters")
    backend.nn_model(X, Y, 5, 0, parameters=params)
    check("nn_model with 0 iterations")
    backend.nn_model(X, Y, 5, 5, activation=activation, seed=0, print_cost=True, return_costs=True)
    check("nn_model")
    backend.predict(params, X, activation=activation)
    check("predict")


# ---------------------------------------------------------------- predict


def _separated_columns(A2):
    """Columns whose prediction is far from a tie (0.5, or the top-two gap)."""
    if A2.shape[0] == 1:
        return np.abs(A2[0] - 0.5) > 1e-3
    top2 = np.sort(A2, axis=0)[-2:]
    return top2[1] - top2[0] > 1e-3


@pytest.mark.parametrize("n_y", [1, 2, 3])
def test_predict_type_and_shape(backend, dtype, n_y):
    X, _ = make_data(14, 3, 25, n_y, dtype)
    params = make_parameters(15, 3, 4, n_y, dtype, scale=3.0)
    pred = backend.predict(params, X)
    A2, _ = backend.forward_propagation(X, params)
    if n_y == 1:
        assert pred.dtype == np.bool_
        assert pred.shape == (1, 25)
        np.testing.assert_array_equal(pred, A2 > 0.5)
    else:
        assert pred.dtype.kind == "i"
        assert pred.shape == (25,)
        assert pred.min() >= 0 and pred.max() < n_y
        np.testing.assert_array_equal(pred, A2.argmax(axis=0))


@pytest.mark.parametrize("n_y", [1, 2, 3])
@pytest.mark.parametrize("size", list(SIZES))
def test_predict_fast_equals_reference(dtype, activation, n_y, size):
    n_x, n_h, m = SIZES[size]
    X, _ = make_data(16, n_x, m, n_y, dtype)
    params = make_parameters(17, n_x, n_h, n_y, dtype, scale=3.0)
    A2, _ = reference.forward_propagation(X, params, activation=activation)
    keep = _separated_columns(A2)
    assert keep.sum() > 0.8 * m, "test data should be mostly well separated"
    X = np.ascontiguousarray(X[:, keep])
    p_r = reference.predict(params, X, activation=activation)
    p_f = fast.predict(params, X, activation=activation)
    assert p_f.dtype.kind == p_r.dtype.kind and p_f.shape == p_r.shape
    np.testing.assert_array_equal(p_f, p_r)


def test_empty_batch_forward_and_predict(backend, dtype):
    """m = 0 is allowed for the forward pass and predict (not for training)."""
    params = make_parameters(18, 3, 4, 1, dtype)
    X = np.zeros((3, 0), dtype)
    A2, cache = backend.forward_propagation(X, params)
    assert A2.shape == (1, 0) and A2.dtype == dtype
    assert cache["Z1"].shape == (4, 0)
    assert backend.predict(params, X).shape == (1, 0)
    p3 = make_parameters(18, 3, 4, 3, dtype)
    assert backend.predict(p3, X).shape == (0,)


@pytest.mark.parametrize("d_a", [np.float32, np.float64])
@pytest.mark.parametrize("d_b", [np.float32, np.float64, np.uint8])
@pytest.mark.parametrize("d_c", [np.float32, np.float64])
def test_mixed_dtypes_agree_with_reference(d_a, d_b, d_c):
    """X, the parameters and the cache in different dtypes: both compute in the working dtype."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 5)).astype(d_a)
    Y = (rng.random((1, 5)) < 0.5).astype(d_b)
    params = {k: a.astype(d_c) for k, a in reference.initialize_parameters(3, 4, 1, seed=0).items()}
    A2, cache = reference.forward_propagation(X, params)
    cache32 = {k: a.astype(np.float32) for k, a in cache.items()}
    for got, want in [
        (fast.compute_cost(A2.astype(d_c), Y), reference.compute_cost(A2.astype(d_c), Y)),
        (fast.backward_propagation(params, cache32, X, Y), reference.backward_propagation(params, cache32, X, Y)),
    ]:
        if isinstance(want, dict):
            for k in want:
                assert got[k].dtype == want[k].dtype
                np.testing.assert_allclose(got[k], want[k], rtol=2e-4, atol=1e-5)
        else:
            assert got == pytest.approx(want, rel=2e-4)

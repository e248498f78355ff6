"""The mini-batch engine: compiled epochs against NumPy epochs, and its gradients."""

import numpy as np
import pytest

from shallownet_fast import _minibatch as mb
from shallownet_fast import reference

from conftest import assert_dicts_close, tolerance

SETTINGS = dict(momentum=0.9, beta_1=0.9, beta_2=0.999, epsilon=1e-8)


def _problem(dtype, n_y, m=103, n_x=5, n_h=7, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m)).astype(dtype)
    if n_y == 1:
        Y = (rng.random((1, m)) < 0.5).astype(dtype)
    else:
        Y = np.ascontiguousarray(np.eye(n_y, dtype=dtype)[:, rng.integers(0, n_y, m)])
    sw = (rng.random(m) + 0.5).astype(dtype)
    params = reference.initialize_parameters(n_x, n_h, n_y, init="xavier", seed=1, dtype=dtype)
    return X, Y, sw, params


def _train(backend, X, Y, sw, params, solver, epochs, batch_size, shuffle, **kw):
    p = {k: a.copy() for k, a in params.items()}
    state = mb.make_state(p, solver)
    losses = []
    for epoch in range(epochs):
        order = np.random.default_rng(epoch).permutation(X.shape[1]) if shuffle else None
        losses.append(mb.run_epoch(backend, X, Y, sw, order, batch_size, p, state, solver=solver, **kw))
    return p, state, np.array(losses)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("solver", ["gd", "sgd", "adam"])
@pytest.mark.parametrize("n_y", [1, 3])
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "identity"])
@pytest.mark.parametrize("shuffle", [False, True])
def test_fast_epochs_match_reference_epochs(dtype, solver, n_y, activation, shuffle):
    """Five epochs, 16-example batches (the last one partial), weights and L2, Nesterov on."""
    X, Y, sw, params = _problem(dtype, n_y)
    batch = X.shape[1] if solver == "gd" else 16
    kw = dict(activation=activation, learning_rate=0.05, nesterov=True, alpha=1e-3, **SETTINGS)
    pr, sr, lr = _train("reference", X, Y, sw, params, solver, 5, batch, shuffle, **kw)
    pf, sf, lf = _train("fast", X, Y, sw, params, solver, 5, batch, shuffle, **kw)
    assert sr["t"] == sf["t"] == 5 * -(-X.shape[1] // batch)
    # adam divides by sqrt(v) + eps with v ~ g^2: float32 rounding of g is amplified a few times.
    rtol = tolerance(dtype)["rtol"] * (10 if solver == "adam" else 1)
    for key in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(pf[key], pr[key], rtol=rtol, atol=tolerance(dtype)["atol"], err_msg=key)
        assert pf[key].dtype == dtype
    if solver != "adam":  # adam's moments carry the amplified rounding of g; its parameters are checked above
        moments = [k for k in sr if k != "t"]
        assert_dicts_close({k: sf[k] for k in moments}, {k: sr[k] for k in moments}, dtype, moments, "state")
    np.testing.assert_allclose(lf, lr, rtol=tolerance(dtype)["rtol"])
    assert np.all(np.isfinite(lf))


@pytest.mark.parametrize("backend", ["reference", "fast"])
@pytest.mark.parametrize("n_y", [1, 3])
def test_one_gd_step_is_minus_learning_rate_times_the_finite_difference_gradient(backend, n_y):
    """In float64: (p0 - p1) / lr equals the central difference of the batch loss, L2 and weights included."""
    X, Y, sw, params = _problem(np.float64, n_y, m=31)
    kw = dict(activation="tanh", nesterov=False, alpha=0.3, **{**SETTINGS, "momentum": 0.0})

    def loss(p):
        q = {k: a.copy() for k, a in p.items()}
        return mb.run_epoch(
            backend, X, Y, sw, None, X.shape[1], q, mb.make_state(q, "gd"), solver="gd", learning_rate=1e-300, **kw
        )

    lr = 1e-3
    stepped = {k: a.copy() for k, a in params.items()}
    mb.run_epoch(
        backend, X, Y, sw, None, X.shape[1], stepped, mb.make_state(stepped, "gd"), solver="gd", learning_rate=lr, **kw
    )
    h = 1e-6
    for key in ("W1", "b1", "W2", "b2"):
        analytic = (params[key] - stepped[key]) / lr
        numeric = np.empty_like(analytic)
        for idx in np.ndindex(*analytic.shape):
            plus = {k: a.copy() for k, a in params.items()}
            minus = {k: a.copy() for k, a in params.items()}
            plus[key][idx] += h
            minus[key][idx] -= h
            numeric[idx] = (loss(plus) - loss(minus)) / (2 * h)
        # Dividing the step by lr costs about 1e-16 / 1e-3 of accuracy; h = 1e-6 about 1e-10.
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8, err_msg=key)


def test_integer_weights_equal_repeated_examples():
    """Full-batch: weight 2 on an example is the same as the example twice."""
    X, Y, _, params = _problem(np.float64, 1, m=20)
    w = np.ones(20)
    w[:5] = 2
    Xr, Yr = np.concatenate([X, X[:, :5]], axis=1), np.concatenate([Y, Y[:, :5]], axis=1)
    kw = dict(activation="tanh", learning_rate=0.1, nesterov=False, alpha=1e-2, **SETTINGS)
    for backend in ("reference", "fast"):
        pw, _, lw = _train(backend, X, Y, w, params, "gd", 3, 20, False, **kw)
        pr, _, lr = _train(
            backend, np.ascontiguousarray(Xr), np.ascontiguousarray(Yr), np.ones(25), params, "gd", 3, 25, False, **kw
        )
        assert_dicts_close(pw, pr, np.float64, ("W1", "b1", "W2", "b2"), backend)


@pytest.mark.parametrize("backend", ["reference", "fast"])
def test_a_diverging_epoch_raises_floating_point_error(backend):
    X, Y, sw, params = _problem(np.float64, 1)
    p = {k: a.copy() * 100 for k, a in params.items()}
    with pytest.raises(FloatingPointError, match="learning_rate"):
        for _ in range(20):
            mb.run_epoch(
                backend,
                X * 1e3,
                Y,
                sw,
                None,
                16,
                p,
                mb.make_state(p, "sgd"),
                solver="sgd",
                activation="relu",
                learning_rate=1e8,
                nesterov=False,
                alpha=0.0,
                **SETTINGS,
            )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("out", ["logistic", "identity"])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("activation", ["logistic", "identity"])
@pytest.mark.parametrize("shuffle", [False, True])
def test_output_layers_fast_match_reference(dtype, out, solver, activation, shuffle):
    """A sigmoid per output row (multilabel) and identity outputs (squared error): compiled as in NumPy."""
    X, _, sw, params = _problem(dtype, 3)
    rng = np.random.default_rng(5)
    if out == "logistic":
        Y = (rng.random((3, X.shape[1])) < 0.5).astype(dtype)
    else:
        Y = rng.standard_normal((3, X.shape[1])).astype(dtype)
    kw = dict(activation=activation, learning_rate=0.05, nesterov=True, alpha=1e-3, out=out, **SETTINGS)
    pr, _, lr = _train("reference", X, Y, sw, params, solver, 4, 16, shuffle, **kw)
    pf, _, lf = _train("fast", X, Y, sw, params, solver, 4, 16, shuffle, **kw)
    rtol = tolerance(dtype)["rtol"] * (10 if solver == "adam" else 1)
    for key in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(pf[key], pr[key], rtol=rtol, atol=tolerance(dtype)["atol"], err_msg=key)
    np.testing.assert_allclose(lf, lr, rtol=tolerance(dtype)["rtol"])


def test_identity_output_loss_is_the_halved_mean_squared_error():
    """One full-batch epoch's loss at the starting weights: sum(w (y - p)^2) / (2 n_y sum(w)) + the L2 term."""
    X, _, sw, params = _problem(np.float64, 2)
    Y = np.random.default_rng(2).standard_normal((2, X.shape[1]))
    from shallownet_fast import _numerics

    P = _numerics.logits(X, params["W1"], params["b1"], params["W2"], params["b2"], "tanh")
    l2 = 0.5 * 0.3 * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2)) / sw.sum()
    expected = np.sum(sw * (Y - P) ** 2) / (2 * 2 * sw.sum()) + l2
    for backend in ("fast", "reference"):
        _, _, loss = _train(
            backend,
            X,
            Y,
            sw,
            params,
            "sgd",
            1,
            X.shape[1],
            False,
            activation="tanh",
            learning_rate=0.1,
            nesterov=False,
            alpha=0.3,
            out="identity",
            **SETTINGS,
        )
        assert loss[0] == pytest.approx(expected, rel=1e-12)


def test_kernel_refuses_an_unknown_output_code(monkeypatch):
    from shallownet_fast._dispatch import kernels

    assert sorted(kernels.OUTPUT_CODES) == ["auto", "identity", "logistic", "softmax"]
    X, Y, sw, params = _problem(np.float64, 3)
    state = mb.make_state(params, "sgd")
    monkeypatch.setattr(kernels, "OUTPUT_CODES", {**kernels.OUTPUT_CODES, "bogus": 99})
    with pytest.raises(ValueError, match="out = 99"):
        mb.run_epoch(
            "fast",
            X,
            Y,
            sw,
            None,
            16,
            params,
            state,
            activation="tanh",
            solver="sgd",
            learning_rate=0.1,
            nesterov=False,
            alpha=0.0,
            out="bogus",
            **SETTINGS,
        )

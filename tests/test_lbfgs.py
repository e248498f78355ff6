"""L-BFGS-B training (shallownet_fast._lbfgs) against scikit-learn's MLP, and its compiled loss and gradient.

MLPClassifier(solver="lbfgs", hidden_layer_sizes=(n_h,)) is fitted on the same data;
our minimize starts from MLP's initial weights (drawn by MLP's own _init_coef from the
same random state) and must give its coefs_, intercepts_, loss_ and n_iter_ to 1e-8
relative in float64, on both backends: a long run, sample weights with convergence by
tol, max_fun.  The estimators' lbfgs against MLPClassifier and MLPRegressor over every
activation and target kind is in tests/test_mlp_parity.py.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.utils import check_random_state

from shallownet_fast import _lbfgs, _numerics
from shallownet_fast._dispatch import kernels as _core

from conftest import assert_close, make_data, make_parameters

BACKENDS = ("fast", "reference")
MLP_RTOL = 1e-8


def mlp_initial_params(mlp, n_x, n_h, n_y):
    """The weights MLP's fit starts from: its _init_coef, layer by layer, from check_random_state(random_state)."""
    mlp._random_state = check_random_state(mlp.random_state)
    c1, i1 = mlp._init_coef(n_x, n_h, np.float64)
    c2, i2 = mlp._init_coef(n_h, n_y, np.float64)
    return {
        "W1": np.ascontiguousarray(c1.T),
        "b1": i1.reshape(-1, 1).copy(),
        "W2": np.ascontiguousarray(c2.T),
        "b2": i2.reshape(-1, 1).copy(),
    }


def fit_both(kind, backend, X, y, Y, output, sample_weight=None, **kw):
    """(fitted MLP, our (n_iter, loss, curve), our params) for the same settings."""
    settings = {"solver": "lbfgs", "random_state": 7, "tol": 1e-6, **kw}
    mlp_class = MLPClassifier if kind == "classifier" else MLPRegressor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = mlp_class(**settings).fit(X, y, sample_weight=sample_weight)
    (n_h,) = settings["hidden_layer_sizes"]
    params = mlp_initial_params(mlp_class(**settings), X.shape[1], n_h, Y.shape[0])
    sw = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = _lbfgs.minimize(
            backend,
            np.ascontiguousarray(X.T),
            Y,
            sw,
            params,
            activation=settings.get("activation", "relu"),
            output=output,
            alpha=settings.get("alpha", 1e-4),
            max_iter=settings.get("max_iter", 200),
            max_fun=settings.get("max_fun", 15000),
            tol=settings["tol"],
        )
    return mlp, result, params


def assert_like_mlp(mlp, result, params):
    n_iter, loss, curve = result
    assert n_iter == mlp.n_iter_
    np.testing.assert_allclose(loss, mlp.loss_, rtol=MLP_RTOL)
    # 1e-8 relative to each array's largest entry: rounding differences (a product summed
    # in another order) grow over the iterations, in absolute terms, in every entry alike
    ours = (params["W1"].T, params["W2"].T, params["b1"].ravel(), params["b2"].ravel())
    for got, want in zip(ours, mlp.coefs_ + mlp.intercepts_):
        np.testing.assert_allclose(got, want, rtol=MLP_RTOL, atol=MLP_RTOL * np.abs(want).max())
    # MLP keeps no loss curve for lbfgs: ours has a loss per iteration, ending at the final loss
    assert len(curve) == n_iter
    np.testing.assert_allclose(curve[-1], loss, rtol=1e-14)
    assert all(b <= a for a, b in zip(curve, curve[1:]))


def classification_data(seed, m, n_x, n_classes):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n_x))
    y = rng.integers(0, n_classes, m)
    Y = (y == 1).astype(np.float64)[None] if n_classes == 2 else np.eye(n_classes)[y].T.copy()
    return X, y, Y


@pytest.mark.parametrize("backend", BACKENDS)
def test_long_run_matches_mlp(backend):
    """60 iterations on noisy labels: long enough for differences to grow if the gradient were off.

    Every activation, binary, multiclass and multilabel targets and the regressor are in
    tests/test_mlp_parity.py's grid, through the estimators (20 iterations).
    """
    X, y, Y = classification_data(0, 240, 5, 3)
    mlp, result, params = fit_both(
        "classifier", backend, X, y, Y, "softmax", hidden_layer_sizes=(6,), activation="relu", alpha=1e-3, max_iter=60
    )
    assert mlp.n_iter_ == 60
    assert_like_mlp(mlp, result, params)


@pytest.mark.parametrize("backend", BACKENDS)
def test_classifier_converged_and_weighted_matches_mlp(backend):
    X, y, Y = classification_data(1, 150, 4, 3)
    sw = np.random.default_rng(2).uniform(0.2, 3.0, X.shape[0])
    mlp, result, params = fit_both(
        "classifier",
        backend,
        X,
        y,
        Y,
        "softmax",
        sample_weight=sw,
        hidden_layer_sizes=(5,),
        activation="tanh",
        alpha=0.5,
        tol=1e-4,
    )
    assert mlp.n_iter_ < 200  # stopped by tol, not by max_iter
    assert_like_mlp(mlp, result, params)


@pytest.mark.parametrize("backend", BACKENDS)
def test_max_fun_stops_as_mlp_with_a_warning(backend):
    X, y, Y = classification_data(5, 120, 3, 2)
    settings = dict(hidden_layer_sizes=(4,), activation="tanh", max_fun=7, max_iter=200)
    mlp, result, params = fit_both("classifier", backend, X, y, Y, "logistic", **settings)
    assert mlp.n_iter_ < 7
    assert_like_mlp(mlp, result, params)
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        _lbfgs.minimize(
            backend,
            np.ascontiguousarray(X.T),
            Y,
            np.ones(120),
            params,
            activation="tanh",
            output="logistic",
            alpha=1e-4,
            max_iter=200,
            max_fun=7,
            tol=1e-6,
        )


@pytest.mark.parametrize("backend", BACKENDS)
def test_callback_sees_each_loss_and_can_stop(backend):
    X, Y = make_data(6, 3, 100, 1)
    params = make_parameters(6, 3, 4, 1)
    seen = []

    def callback(loss):
        seen.append(loss)
        return len(seen) == 3

    with pytest.warns(ConvergenceWarning):
        n_iter, loss, curve = _lbfgs.minimize(
            backend,
            X,
            Y,
            np.ones(100),
            params,
            activation="tanh",
            output="logistic",
            alpha=1e-4,
            max_iter=50,
            max_fun=15000,
            tol=1e-9,
            callback=callback,
        )
    assert n_iter == 3 and curve == seen


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_float32_stays_float32_and_backends_agree(dtype):
    X, Y = make_data(8, 4, 200, 3, dtype)
    start = make_parameters(8, 4, 5, 3, dtype)
    results = {}
    for backend in BACKENDS:
        params = {k: v.copy() for k, v in start.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            results[backend] = (
                _lbfgs.minimize(
                    backend,
                    X,
                    Y,
                    np.ones(200, dtype),
                    params,
                    activation="tanh",
                    output="softmax",
                    alpha=1e-3,
                    max_iter=5,
                    max_fun=15000,
                    tol=1e-9,
                ),
                params,
            )
        assert all(params[k].dtype == dtype for k in params)
    (fast, pf), (ref, pr) = results["fast"], results["reference"]
    assert fast[0] == ref[0] == 5
    for k in pf:
        assert_close(pf[k], pr[k], dtype, err_msg=k)


# ---------------------------------------------------------------- the compiled entry


def entry_args(params, dtype, block):
    (n_h, n_x), n_y = params["W1"].shape, params["W2"].shape[0]
    grads = (np.empty((n_h, n_x), dtype), np.empty(n_h, dtype), np.empty((n_y, n_h), dtype), np.empty(n_y, dtype))
    scratch = (np.empty((n_h, block), dtype), np.empty((n_h, block), dtype), np.empty((n_y, block), dtype))
    return grads, scratch + (np.empty(block, dtype),)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("output", "n_y"), [("logistic", 1), ("logistic", 3), ("softmax", 3), ("identity", 2)])
@pytest.mark.parametrize("block", [7, 64, 500])
@pytest.mark.parametrize("activation", ["tanh", "relu", "leaky_relu", "sigmoid"])
def test_loss_gradient_matches_numerics(dtype, output, n_y, block, activation):
    X, Y = make_data(9, 5, 150, n_y, dtype)
    if output == "logistic" and n_y > 1:
        Y = (np.random.default_rng(9).random((n_y, 150)) > 0.5).astype(dtype)
    if output == "identity":
        Y = np.random.default_rng(9).standard_normal((n_y, 150)).astype(dtype)
    params = make_parameters(9, 5, 6, n_y, dtype)
    sw = np.random.default_rng(10).uniform(0.5, 2, 150).astype(dtype)
    grads, scratch = entry_args(params, dtype, block)
    loss = _core.loss_gradient(
        X,
        Y,
        sw,
        params["W1"],
        params["b1"].ravel(),
        params["W2"],
        params["b2"].ravel(),
        _core.ACTIVATION_CODES[activation],
        _core.OUTPUT_CODES[output],
        0.3,
        *grads,
        *scratch,
    )
    want_loss, want = _numerics.batch_loss_and_grads(params, X, Y, sw, activation, 0.3, output)
    assert_close(loss, want_loss, dtype)
    for got, key in zip(grads, ("W1", "b1", "W2", "b2")):
        assert got.dtype == dtype
        assert_close(got, want[key].reshape(got.shape), dtype, err_msg=key)


def test_identity_loss_is_half_the_mean_squared_error():
    """The identity output's loss, written out by hand (not by the code under test)."""
    X, _ = make_data(11, 2, 4, 1)
    params = make_parameters(11, 2, 3, 2)
    Y = np.arange(8.0).reshape(2, 4)
    sw = np.array([1.0, 2.0, 1.0, 0.5])
    Z2 = params["W2"] @ np.tanh(params["W1"] @ X + params["b1"]) + params["b2"]
    want = sum(sw[j] * ((Z2[:, j] - Y[:, j]) ** 2).sum() / 2 for j in range(4)) / 2 / sw.sum()
    want += 0.5 * 2.0 * ((params["W1"] ** 2).sum() + (params["W2"] ** 2).sum()) / sw.sum()
    grads, scratch = entry_args(params, np.float64, 4)
    loss = _core.loss_gradient(
        X,
        Y,
        sw,
        params["W1"],
        params["b1"].ravel(),
        params["W2"],
        params["b2"].ravel(),
        _core.ACTIVATION_CODES["tanh"],
        _core.OUTPUT_CODES["identity"],
        2.0,
        *grads,
        *scratch,
    )
    np.testing.assert_allclose(loss, want, rtol=1e-13)
    np.testing.assert_allclose(grads[3], ((Z2 - Y) * sw).sum(axis=1) / sw.sum(), rtol=1e-13)


def test_loss_gradient_checks_its_buffers():
    X, Y = make_data(12, 3, 20, 2)
    params = make_parameters(12, 3, 4, 2)
    grads, scratch = entry_args(params, np.float64, 8)
    args = [X, Y, np.ones(20), params["W1"], params["b1"].ravel(), params["W2"], params["b2"].ravel(), 0, 1, 0.0]
    with pytest.raises(ValueError, match="dW1 has shape"):
        _core.loss_gradient(*args, np.empty((4, 2)), *grads[1:], *scratch)
    with pytest.raises(ValueError, match="D has shape"):
        _core.loss_gradient(*args, *grads, scratch[0], np.empty((4, 7)), *scratch[2:])
    with pytest.raises(ValueError, match="sw has shape"):
        _core.loss_gradient(*args[:2], np.ones(19), *args[3:], *grads, *scratch)
    with pytest.raises(ValueError, match="output = 5"):
        _core.loss_gradient(*args[:8], 5, 0.0, *grads, *scratch)
    one = make_parameters(12, 3, 4, 1)
    grads1, scratch1 = entry_args(one, np.float64, 8)
    with pytest.raises(ValueError, match="softmax output needs at least 2"):
        _core.loss_gradient(
            X,
            Y[:1],
            np.ones(20),
            one["W1"],
            one["b1"].ravel(),
            one["W2"],
            one["b2"].ravel(),
            0,
            _core.OUTPUT_CODES["softmax"],
            0.0,
            *grads1,
            *scratch1,
        )


def test_minimize_rejects_unknown_names():
    X, Y = make_data(13, 2, 10, 1)
    params = make_parameters(13, 2, 3, 1)
    kw = dict(activation="tanh", alpha=0.0, max_iter=1, max_fun=10, tol=1e-4)
    with pytest.raises(ValueError, match="backend"):
        _lbfgs.minimize("gpu", X, Y, np.ones(10), params, output="logistic", **kw)
    with pytest.raises(ValueError, match="output"):
        _lbfgs.minimize("fast", X, Y, np.ones(10), params, output="exp", **kw)

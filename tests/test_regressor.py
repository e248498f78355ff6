"""ShallowNetRegressor: scikit-learn's checks, the loss, multi-output, sample weights, partial_fit, persistence."""

import functools
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from shallownet_fast import ShallowNetRegressor, _numerics  # noqa: E402

from conftest import tolerance  # noqa: E402

BACKENDS = ["fast", "reference"]


def quiet_fit(est, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kwargs)


def problem(n=80, n_x=3, n_out=2, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_x)).astype(dtype)
    Y = (np.tanh(X @ rng.standard_normal((n_x, n_out))) + 0.1 * rng.standard_normal((n, n_out))).astype(dtype)
    return X, Y


_ARRAY_API_CHILD = """
import warnings
warnings.simplefilter("error")
from sklearn.exceptions import ConvergenceWarning
warnings.simplefilter("ignore", ConvergenceWarning)
from sklearn.utils.estimator_checks import check_array_api_input
from shallownet_fast import ShallowNetRegressor
check_array_api_input("ShallowNetRegressor", ShallowNetRegressor(backend={backend!r}),
                      array_namespace="numpy", expect_only_array_outputs=False)
"""


def _check_name(check):
    while isinstance(check, functools.partial):
        check = check.func
    return getattr(check, "__name__", repr(check))


@parametrize_with_checks([ShallowNetRegressor(backend="fast"), ShallowNetRegressor(backend="reference")])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sklearn_compatible(estimator, check):
    """Every check of check_estimator, both backends.

    check_array_api_input needs SCIPY_ARRAY_API=1 before SciPy is imported:
    it runs in a child interpreter with it, instead of being skipped.
    """
    if _check_name(check) == "check_array_api_input":
        env = dict(os.environ, SCIPY_ARRAY_API="1")
        code = _ARRAY_API_CHILD.format(backend=estimator.backend)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-3000:]
        return
    check(estimator)


@pytest.mark.parametrize("backend", BACKENDS)
def test_first_loss_is_the_halved_squared_error(backend):
    """One full-batch epoch: its loss is sum(w (y - p)^2) / (2 n_out sw) + alpha/2 |W|^2 / sw at the initial weights."""
    X, Y = problem()
    w = np.linspace(0.5, 2.0, len(X))
    est = ShallowNetRegressor(
        hidden_layer_sizes=(4,), solver="gd", max_iter=1, alpha=0.3, random_state=0, backend=backend
    )
    init = ShallowNetRegressor(hidden_layer_sizes=(4,), random_state=0)
    params = init._initial_parameters(X.shape[1], Y.shape[1], np.float64, np.random.RandomState(0))
    P = _numerics.logits(X.T, params["W1"], params["b1"], params["W2"], params["b2"], "relu").T
    squares = np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2)
    expected = np.sum(w[:, None] * (Y - P) ** 2) / (2 * Y.shape[1] * w.sum()) + 0.15 * squares / w.sum()
    quiet_fit(est, X, Y, sample_weight=w)
    assert est.loss_curve_[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_out", [1, 3])
def test_backends_agree(dtype, n_out):
    X, Y = problem(n_out=n_out, dtype=dtype)
    y = Y[:, 0] if n_out == 1 else Y
    kw = dict(
        hidden_layer_sizes=(6,),
        solver="sgd",
        learning_rate="invscaling",
        learning_rate_init=0.05,
        max_iter=6,
        batch_size=16,
        random_state=1,
        activation="tanh",
    )
    a = quiet_fit(ShallowNetRegressor(backend="fast", **kw), X, y)
    b = quiet_fit(ShallowNetRegressor(backend="reference", **kw), X, y)
    tol = tolerance(dtype)
    assert a.coefs_[0].dtype == dtype and a.predict(X).dtype == dtype
    assert a.predict(X).shape == ((len(X),) if n_out == 1 else (len(X), n_out))
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_allclose(p, q, **tol)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, **tol)


@pytest.mark.parametrize("backend", BACKENDS)
def test_integer_weights_are_repeated_samples(backend):
    """Full batch (solver "gd"): weight 2 is the sample twice."""
    X, Y = problem(n=30)
    w = np.where(np.arange(30) % 3 == 0, 2.0, 1.0)
    rep = np.repeat(np.arange(30), w.astype(int))
    kw = dict(hidden_layer_sizes=(5,), solver="gd", learning_rate_init=0.1, max_iter=5, random_state=0, backend=backend)
    a = quiet_fit(ShallowNetRegressor(**kw), X, Y, sample_weight=w)
    b = quiet_fit(ShallowNetRegressor(**kw), X[rep], Y[rep])
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("backend", BACKENDS)
def test_partial_fit_calls_are_fit_epochs(backend):
    X, Y = problem()
    kw = dict(hidden_layer_sizes=(5,), solver="adam", shuffle=False, tol=-np.inf, random_state=0, backend=backend)
    fitted = quiet_fit(ShallowNetRegressor(max_iter=4, **kw), X, Y)
    inc = ShallowNetRegressor(**kw)
    for _ in range(4):
        inc.partial_fit(X, Y)
    assert inc.n_iter_ == 4
    for p, q in zip(fitted.coefs_ + fitted.intercepts_, inc.coefs_ + inc.intercepts_):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="output"):
        inc.partial_fit(X, Y[:, 0])


def test_partial_fit_is_not_offered_for_lbfgs():
    assert not hasattr(ShallowNetRegressor(solver="lbfgs"), "partial_fit")
    assert hasattr(ShallowNetRegressor(solver="sgd"), "partial_fit")


@pytest.mark.parametrize(
    "y, error, match",
    [
        (np.full(80, np.nan), ValueError, "NaN"),
        (np.ones(79), ValueError, "inconsistent"),
        (np.array(["a"] * 80), ValueError, "float|numeric"),
    ],
    ids=["nan", "length", "strings"],
)
def test_bad_targets(y, error, match):
    X, _ = problem()
    est = ShallowNetRegressor(max_iter=2)
    with pytest.raises(error, match=match):
        est.fit(X, y)
    assert not hasattr(est, "coefs_")


def test_loss_other_than_squared_error_is_refused():
    X, Y = problem()
    with pytest.raises(ValueError, match="loss"):
        ShallowNetRegressor(loss="poisson").fit(X, Y)


@pytest.mark.parametrize("backend", BACKENDS)
def test_save_load(tmp_path, backend):
    X, Y = problem()
    est = quiet_fit(
        ShallowNetRegressor(hidden_layer_sizes=(4,), max_iter=3, early_stopping=True, random_state=0, backend=backend),
        X,
        Y,
    )
    est.save(tmp_path / "r.npz")
    loaded = ShallowNetRegressor.load(tmp_path / "r.npz")
    assert loaded.get_params() == est.get_params()
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    assert loaded.validation_scores_ == est.validation_scores_ and loaded.n_outputs_ == 2
    from shallownet_fast import ShallowNetClassifier

    with pytest.raises(ValueError, match="regressor"):
        ShallowNetClassifier.load(tmp_path / "r.npz")

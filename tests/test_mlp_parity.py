"""The drop-in: ShallowNetClassifier / ShallowNetRegressor built from an MLP's get_params() give its model.

For every solver and schedule (sgd: constant, invscaling, adaptive; adam;
lbfgs), hidden activation (identity, logistic, tanh, relu), with and without
early stopping, on binary, multiclass and multilabel targets (classifier) and
single and multi-output targets (regressor), both backends: the same coefs_,
intercepts_, loss_curve_, n_iter_, validation_scores_ and predictions, to 1e-8
relative in float64.  MLP's lbfgs keeps no loss curve and ignores early
stopping: there loss_ is compared, and ours has no validation scores either.
Small data and few epochs keep it to a few seconds.
"""

import itertools
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402

from shallownet_fast import ShallowNetClassifier, ShallowNetRegressor  # noqa: E402

RTOL = 1e-8
BACKENDS = ["fast", "reference"]
ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]
# (solver, learning_rate): the schedules change sgd's step size only.
SCHEDULES = [
    ("sgd", "constant"),
    ("sgd", "invscaling"),
    ("sgd", "adaptive"),
    ("adam", "constant"),
    ("lbfgs", "constant"),
]
# Two epochs without an improvement of tol stop training, or make adaptive divide its step: a
# larger tol for adaptive lets it act within the few epochs run here.
COMMON = dict(hidden_layer_sizes=(5,), batch_size=16, n_iter_no_change=1, random_state=3)


def _tol(learning_rate):
    return 0.03 if learning_rate == "adaptive" else 1e-3


def _settings(solver, learning_rate):
    """max_iter and tol.  lbfgs runs 20 iterations (its tol bounds the gradient: 1e-10 is not reached).
    Longer runs on these separable targets approach flat minima (with the identity activation a valley
    of equivalent weights), where L-BFGS-B turns rounding differences of 1e-16 into different weights;
    tests/test_lbfgs.py holds a 60-iteration run on noisy labels."""
    if solver == "lbfgs":
        return dict(max_iter=20, tol=1e-10)
    return dict(max_iter=12, tol=_tol(learning_rate))


def _data(n=64, n_x=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_x))
    scores = X @ rng.standard_normal((n_x, 3)) + 0.5 * rng.standard_normal((n, 3))
    return X, scores


def _targets(kind, scores):
    if kind == "binary":
        return (scores[:, 0] > 0).astype(int)
    if kind == "multiclass":
        return np.array(["a", "b", "c"])[scores.argmax(axis=1)]
    if kind == "multilabel":
        return (scores > 0).astype(int)
    if kind == "single":
        return scores[:, 0]
    return scores[:, :2]  # multi-output


def _fit_quietly(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _close(ours, theirs, what):
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, what
    scale = max(float(np.max(np.abs(theirs), initial=0.0)), 1e-300)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=RTOL * scale, err_msg=what)


def _assert_same_model(ours, mlp, X):
    assert ours.n_iter_ == mlp.n_iter_
    assert ours.n_outputs_ == mlp.n_outputs_ and ours.out_activation_ == mlp.out_activation_
    for k in range(2):
        _close(ours.coefs_[k], mlp.coefs_[k], f"coefs_[{k}]")
        _close(ours.intercepts_[k], mlp.intercepts_[k], f"intercepts_[{k}]")
    _close(ours.loss_, mlp.loss_, "loss_")
    if mlp.solver == "lbfgs":  # MLP keeps no curve: ours has a loss per iteration, ending at loss_
        assert len(ours.loss_curve_) == ours.n_iter_
        assert ours.loss_curve_[-1] == pytest.approx(ours.loss_, rel=1e-14)
        assert all(b <= a for a, b in zip(ours.loss_curve_, ours.loss_curve_[1:]))
        assert not hasattr(mlp, "validation_scores_") and ours.validation_scores_ is None
        return
    _close(ours.loss_curve_, mlp.loss_curve_, "loss_curve_")
    if mlp.validation_scores_ is None:
        assert ours.validation_scores_ is None and ours.best_validation_score_ is None
    else:
        _close(ours.validation_scores_, mlp.validation_scores_, "validation_scores_")
        _close(ours.best_validation_score_, mlp.best_validation_score_, "best_validation_score_")


def _cases(kinds):
    return list(itertools.product(SCHEDULES, ACTIVATIONS, [False, True], kinds))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "schedule, activation, early_stopping, kind",
    _cases(["binary", "multiclass", "multilabel"]),
    ids=lambda v: "-".join(v) if isinstance(v, tuple) else str(v),
)
def test_classifier_is_mlpclassifier(backend, schedule, activation, early_stopping, kind):
    X, scores = _data()
    y = _targets(kind, scores)
    solver, learning_rate = schedule
    mlp = MLPClassifier(
        solver=solver,
        learning_rate=learning_rate,
        learning_rate_init=0.05,
        activation=activation,
        early_stopping=early_stopping,
        validation_fraction=0.25,
        **_settings(solver, learning_rate),
        **COMMON,
    )
    _fit_quietly(mlp, X, y)
    ours = _fit_quietly(ShallowNetClassifier(**mlp.get_params(), backend=backend), X, y)
    _assert_same_model(ours, mlp, X)
    np.testing.assert_array_equal(ours.classes_, mlp.classes_)
    np.testing.assert_array_equal(ours.predict(X), mlp.predict(X))
    _close(ours.predict_proba(X), mlp.predict_proba(X), "predict_proba")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "schedule, activation, early_stopping, kind",
    _cases(["single", "multi-output"]),
    ids=lambda v: "-".join(v) if isinstance(v, tuple) else str(v),
)
def test_regressor_is_mlpregressor(backend, schedule, activation, early_stopping, kind):
    X, scores = _data()
    y = _targets(kind, scores)
    solver, learning_rate = schedule
    mlp = MLPRegressor(
        solver=solver,
        learning_rate=learning_rate,
        learning_rate_init=0.01,
        activation=activation,
        early_stopping=early_stopping,
        validation_fraction=0.25,
        **_settings(solver, learning_rate),
        **COMMON,
    )
    _fit_quietly(mlp, X, y)
    ours = _fit_quietly(ShallowNetRegressor(**mlp.get_params(), backend=backend), X, y)
    _assert_same_model(ours, mlp, X)
    _close(ours.predict(X), mlp.predict(X), "predict")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("estimator", ["classifier", "regressor"])
def test_the_schedules_change_the_step_as_mlp(backend, estimator):
    """The grid above is not blind to the schedules: adaptive divides sgd's step, invscaling shrinks it."""
    X, scores = _data()
    mlp_cls, ours_cls, kind = (
        (MLPClassifier, ShallowNetClassifier, "multiclass")
        if estimator == "classifier"
        else (MLPRegressor, ShallowNetRegressor, "single")
    )
    y = _targets(kind, scores)
    for learning_rate in ("adaptive", "invscaling"):
        mlp = _fit_quietly(
            mlp_cls(
                solver="sgd", learning_rate=learning_rate, learning_rate_init=0.05, tol=0.03, max_iter=12, **COMMON
            ),
            X,
            y,
        )
        ours = _fit_quietly(ours_cls(**mlp.get_params(), backend=backend), X, y)
        assert mlp._optimizer.learning_rate < 0.05  # the schedule acted
        assert ours._learning_rate == pytest.approx(mlp._optimizer.learning_rate, rel=1e-12)
        _assert_same_model(ours, mlp, X)
        constant = _fit_quietly(ours_cls(**dict(mlp.get_params(), learning_rate="constant"), backend=backend), X, y)
        assert not np.allclose(constant.coefs_[0], ours.coefs_[0])


def test_early_stopping_stratifies_as_mlpclassifier():
    """MLP stratifies the validation split for two classes only: a class of one member trains with 3 classes."""
    X, scores = _data(n=60)
    y = np.array(["a", "b", "c"])[scores.argmax(axis=1)]
    y[0] = "lonely"  # a class with one member: a stratified split would raise
    kw = dict(early_stopping=True, validation_fraction=0.2, tol=1e-3, max_iter=12, **COMMON)
    mlp = _fit_quietly(MLPClassifier(**kw), X, y)
    ours = _fit_quietly(ShallowNetClassifier(**mlp.get_params()), X, y)
    _assert_same_model(ours, mlp, X)

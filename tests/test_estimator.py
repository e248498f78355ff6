"""ShallowNetClassifier: scikit-learn's estimator checks, MLPClassifier parity, solvers, persistence.

Training runs with ``filterwarnings = error``: every fit that may stop at
``max_iter`` goes through :func:`quiet_fit` (which ignores the
ConvergenceWarning, and only that) or states the warning with ``pytest.warns``.
"""

import functools
import os
import pickle
import subprocess
import sys
import textwrap
import tracemalloc
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.datasets import make_blobs, make_classification, make_moons  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from shallownet_fast import (  # noqa: E402
    ShallowNetClassifier,
    _minibatch,
    _numerics,  # noqa: E402
)
from shallownet_fast.datasets import load_planar_dataset  # noqa: E402

from conftest import tolerance  # noqa: E402

BACKENDS = ["fast", "reference"]
SOLVERS = ["gd", "sgd", "adam"]


def quiet_fit(est, X, y, **kwargs):
    """fit, ignoring the ConvergenceWarning of a run that reaches max_iter (and nothing else)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kwargs)


def weights_of(est):
    return [np.asarray(a) for a in est.coefs_ + est.intercepts_]


def assert_same_weights(a, b, dtype=np.float64, **tol):
    tol = tol or tolerance(dtype)
    for p, q in zip(weights_of(a), weights_of(b)):
        assert p.shape == q.shape and p.dtype == q.dtype
        np.testing.assert_allclose(p, q, **tol)


@functools.cache
def flower():
    X, Y = load_planar_dataset()
    return X.T.copy(), Y.ravel().astype(int)


def three_blobs(n=300, seed=0):
    return make_blobs(n_samples=n, centers=3, n_features=4, cluster_std=2.0, random_state=seed)


# ---------------------------------------------------------------- scikit-learn's checks


def _check_name(check):
    while isinstance(check, functools.partial):
        check = check.func
    return getattr(check, "__name__", repr(check))


_ARRAY_API_CHILD = """
import warnings
warnings.simplefilter("error")
from sklearn.exceptions import ConvergenceWarning
warnings.simplefilter("ignore", ConvergenceWarning)
from sklearn.utils.estimator_checks import check_array_api_input
from shallownet_fast import ShallowNetClassifier
check_array_api_input("ShallowNetClassifier", ShallowNetClassifier(backend={backend!r}),
                      array_namespace="numpy", expect_only_array_outputs=False)
"""


@parametrize_with_checks([ShallowNetClassifier(backend="fast"), ShallowNetClassifier(backend="reference")])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sklearn_compatible(estimator, check):
    """Every check of check_estimator, default tags (none is turned off), both backends.

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


# ---------------------------------------------------------------- MLPClassifier parity


def _mlp_twin(**kw):
    """The MLPClassifier with the same settings as ShallowNetClassifier(**kw)."""
    out = {}
    for k, v in kw.items():
        if k == "activation" and v == "sigmoid":
            v = "logistic"
        if k == "solver" and v == "gd":
            v = "sgd"
        out[k] = v
    return MLPClassifier(**out)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_same_model_as_mlpclassifier(solver, activation):
    """Same settings, same random_state: MLPClassifier's weights, loss curve and stopping epoch."""
    X, y = make_classification(n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=1)
    kw = dict(
        hidden_layer_sizes=(12,),
        activation=activation,
        solver=solver,
        learning_rate_init=0.01,
        batch_size=50,
        max_iter=60,
        alpha=1e-3,
        random_state=3,
    )
    ours = quiet_fit(ShallowNetClassifier(**kw), X, y)
    theirs = quiet_fit(_mlp_twin(**kw), X, y)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-9)
    for a, b in zip(weights_of(ours), theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-8, atol=1e-12)
    assert ours.t_ == theirs.t_ and ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=1e-9)


def test_gd_is_mlpclassifier_full_batch_sgd():
    X, y = flower()
    kw = dict(
        hidden_layer_sizes=(8,), activation="tanh", solver="gd", learning_rate_init=0.05, max_iter=40, random_state=0
    )
    ours = quiet_fit(ShallowNetClassifier(**kw), X, y)
    theirs = quiet_fit(_mlp_twin(**kw, batch_size=X.shape[0], shuffle=False), X, y)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-9)
    for a, b in zip(weights_of(ours), theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


def test_early_stopping_matches_mlpclassifier_binary():
    """Binary labels: the same stratified split, validation scores and restored best weights."""
    X, y = make_moons(n_samples=400, noise=0.25, random_state=0)
    kw = dict(
        hidden_layer_sizes=(10,),
        solver="adam",
        learning_rate_init=0.02,
        max_iter=200,
        early_stopping=True,
        n_iter_no_change=5,
        random_state=7,
    )
    ours = quiet_fit(ShallowNetClassifier(**kw), X, y)
    theirs = quiet_fit(_mlp_twin(**kw), X, y)
    assert ours.n_iter_ == theirs.n_iter_ < 200
    np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_)
    assert ours.best_validation_score_ == theirs.best_validation_score_
    for a, b in zip(weights_of(ours), theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize(
    "name, kw",
    [
        ("flower", dict(hidden_layer_sizes=(10,), activation="tanh", learning_rate_init=0.02, max_iter=400)),
        ("moons", dict(hidden_layer_sizes=(20,), learning_rate_init=0.01, max_iter=300)),
        ("blobs3", dict(hidden_layer_sizes=(20,), learning_rate_init=0.01, max_iter=300)),
    ],
)
@pytest.mark.parametrize("backend", BACKENDS)
def test_accuracy_at_least_mlpclassifier(name, kw, backend):
    """Held-out accuracy at least MLPClassifier's (same settings) minus 2 points."""
    if name == "flower":
        X, y = flower()
    elif name == "moons":
        X, y = make_moons(n_samples=600, noise=0.2, random_state=0)
    else:
        X, y = three_blobs(600)
    rng = np.random.default_rng(0)
    test = rng.random(len(y)) < 0.3
    ours = quiet_fit(ShallowNetClassifier(**kw, backend=backend, random_state=0), X[~test], y[~test])
    theirs = quiet_fit(_mlp_twin(**kw, random_state=0), X[~test], y[~test])
    a, b = ours.score(X[test], y[test]), theirs.score(X[test], y[test])
    assert a >= b - 0.02, (name, a, b)
    assert a > {"flower": 0.78, "moons": 0.9, "blobs3": 0.85}[name]


# ---------------------------------------------------------------- backends, solvers, gradients


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("solver", SOLVERS)
def test_fast_matches_reference(solver, dtype):
    X, y = make_classification(n_samples=400, n_features=12, n_informative=6, n_classes=3, random_state=0)
    X = X.astype(dtype)
    kw = dict(
        hidden_layer_sizes=(16,),
        solver=solver,
        activation="tanh",
        learning_rate_init=0.01 if solver == "adam" else 0.1,
        batch_size=64,
        max_iter=8,
        tol=-np.inf,
        random_state=0,
    )
    fast = quiet_fit(ShallowNetClassifier(backend="fast", **kw), X, y)
    ref = quiet_fit(ShallowNetClassifier(backend="reference", **kw), X, y)
    assert_same_weights(fast, ref, dtype)
    np.testing.assert_allclose(fast.loss_curve_, ref.loss_curve_, **tolerance(dtype))
    np.testing.assert_allclose(fast.predict_proba(X), ref.predict_proba(X), **tolerance(dtype))


def _random_problem(n_y, m=7, n_x=3, n_h=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m))
    Y = np.zeros((n_y, m))
    if n_y == 1:
        Y[0] = rng.integers(0, 2, m)
    else:
        Y[rng.integers(0, n_y, m), np.arange(m)] = 1
    params = {
        "W1": rng.standard_normal((n_h, n_x)),
        "b1": rng.standard_normal((n_h, 1)) * 0.3,
        "W2": rng.standard_normal((n_y, n_h)),
        "b2": rng.standard_normal((n_y, 1)) * 0.3,
    }
    w = rng.uniform(0.2, 3.0, m)
    return X, Y, params, w


@pytest.mark.parametrize("activation", ["relu", "tanh", "leaky_relu", "sigmoid"])
@pytest.mark.parametrize("n_y", [1, 3])
def test_gradients_by_finite_differences(n_y, activation):
    """_numerics.batch_loss_and_grads (the engine's formulas, with L2 and weights) against central differences."""
    X, Y, params, w = _random_problem(n_y)
    alpha, h = 0.3, 1e-6
    _, grads = _numerics.batch_loss_and_grads(params, X, Y, w, activation, alpha)
    for key, p in params.items():
        numeric = np.empty_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + h
            up, _ = _numerics.batch_loss_and_grads(params, X, Y, w, activation, alpha)
            p[idx] = old - h
            down, _ = _numerics.batch_loss_and_grads(params, X, Y, w, activation, alpha)
            p[idx] = old
            numeric[idx] = (up - down) / (2 * h)
        np.testing.assert_allclose(grads[key], numeric, rtol=1e-6, atol=1e-8, err_msg=key)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n_y", [1, 3])
def test_engine_step_is_the_gradient(backend, n_y):
    """One full-batch sgd step without momentum moves the parameters by -lr * gradient, returns the loss."""
    X, Y, params, w = _random_problem(n_y, m=9)
    alpha, lr = 0.2, 0.5
    loss, grads = _numerics.batch_loss_and_grads(params, X, Y, w, "tanh", alpha)
    work = {k: a.copy() for k, a in params.items()}
    state = _minibatch.make_state(work, "gd")
    got = _minibatch.run_epoch(
        backend,
        X,
        Y,
        w,
        None,
        X.shape[1],
        work,
        state,
        activation="tanh",
        solver="gd",
        learning_rate=lr,
        momentum=0.0,
        nesterov=False,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        alpha=alpha,
    )
    assert got == pytest.approx(loss, rel=1e-12)
    for k in params:
        np.testing.assert_allclose((params[k] - work[k]) / lr, grads[k], rtol=1e-10, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("backend", BACKENDS)
def test_integer_weights_equal_repeated_rows(backend):
    X, y = three_blobs(60, seed=2)
    w = np.random.default_rng(0).integers(0, 4, len(y))
    kw = dict(
        hidden_layer_sizes=(8,),
        solver="gd",
        learning_rate_init=0.05,
        max_iter=30,
        tol=-np.inf,
        backend=backend,
        random_state=0,
    )
    weighted = quiet_fit(ShallowNetClassifier(**kw), X, y, sample_weight=w)
    repeated = quiet_fit(ShallowNetClassifier(**kw), np.repeat(X, w, axis=0), np.repeat(y, w))
    assert_same_weights(weighted, repeated)
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-10)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("solver", SOLVERS)
def test_partial_fit_k_times_equals_fit_max_iter_k(solver, backend):
    X, y = three_blobs(250)
    kw = dict(
        hidden_layer_sizes=(10,),
        solver=solver,
        learning_rate_init=0.01,
        batch_size=32,
        shuffle=False,
        tol=-np.inf,
        n_iter_no_change=1000,
        backend=backend,
        random_state=4,
    )
    k = 5
    with pytest.warns(ConvergenceWarning, match="maximum number of epochs"):
        full = ShallowNetClassifier(max_iter=k, **kw).fit(X, y)
    inc = ShallowNetClassifier(**kw)
    for _ in range(k):
        inc.partial_fit(X, y, classes=np.unique(y))
    assert_same_weights(inc, full, rtol=1e-12, atol=0)
    np.testing.assert_allclose(inc.loss_curve_, full.loss_curve_, rtol=1e-12)
    assert inc.t_ == full.t_ == k * len(y)
    assert inc.n_iter_ == full.n_iter_ == k
    assert inc._solver_state["t"] == full._solver_state["t"]


@pytest.mark.parametrize("solver", SOLVERS)
def test_warm_start_continues_the_optimizer(solver):
    X, y = three_blobs(200)
    kw = dict(
        hidden_layer_sizes=(10,),
        solver=solver,
        learning_rate_init=0.01,
        batch_size=40,
        shuffle=False,
        tol=-np.inf,
        random_state=1,
    )
    once = quiet_fit(ShallowNetClassifier(max_iter=6, **kw), X, y)
    twice = quiet_fit(ShallowNetClassifier(max_iter=4, warm_start=True, **kw), X, y)
    quiet_fit(twice.set_params(max_iter=2), X, y)
    assert_same_weights(twice, once, rtol=1e-12, atol=0)
    assert twice.t_ == once.t_ and len(twice.loss_curve_) == 6 and twice.n_iter_ == 2


def test_partial_fit_chunks_with_missing_classes_and_weights():
    X, y = three_blobs(300)
    clf = ShallowNetClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, random_state=0)
    order = np.argsort(y, kind="stable")  # chunks each hold one or two classes
    for _ in range(30):
        for chunk in np.array_split(order, 6):
            clf.partial_fit(X[chunk], y[chunk], sample_weight=np.full(len(chunk), 2.0), classes=[0, 1, 2])
    assert list(clf.classes_) == [0, 1, 2]
    assert clf.stop_reason_ == "partial_fit"
    assert clf.score(X, y) > 0.8


# ---------------------------------------------------------------- data handling


@pytest.mark.parametrize("backend", BACKENDS)
def test_float32_stays_float32(backend):
    X, y = three_blobs(100)
    small = dict(hidden_layer_sizes=(5,), max_iter=3, backend=backend, random_state=0)
    clf = quiet_fit(ShallowNetClassifier(**small), X.astype(np.float32), y)
    assert all(a.dtype == np.float32 for a in weights_of(clf))
    assert clf.predict_proba(X.astype(np.float32)).dtype == np.float32
    assert clf.decision_function(X.astype(np.float32)).dtype == np.float32
    assert clf.predict_proba(X).dtype == np.float64  # float64 input is not rounded to float32
    for dtype in (np.float64, np.int64, np.float16):
        clf64 = quiet_fit(ShallowNetClassifier(**small), X.astype(dtype), y)
        assert all(a.dtype == np.float64 for a in weights_of(clf64))
    # A float32 network keeps its dtype through float64 partial_fit data.
    clf.partial_fit(X, y)
    assert all(a.dtype == np.float32 for a in weights_of(clf))


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_read_only_input(tmp_path, backend, order):
    X, y = three_blobs(120)
    path = tmp_path / "X.npy"
    np.save(path, np.asarray(X, order=order))
    Xm = np.load(path, mmap_mode="r")  # what joblib hands to its workers
    assert not Xm.flags.writeable
    yr = y.copy()
    yr.setflags(write=False)
    w = np.ones(len(y))
    w.setflags(write=False)
    clf = ShallowNetClassifier(hidden_layer_sizes=(6,), max_iter=5, backend=backend, random_state=0)
    quiet_fit(clf, Xm, yr, sample_weight=w)
    clf.partial_fit(Xm, yr)
    assert clf.predict(Xm).shape == (len(y),)


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["cat", "dog"]),
        np.array([False, True]),
        np.array([-3, 7]),
        np.array([-1.0, 2.0]),
        np.array(["a", "b", "c"], dtype=object),
        np.array([10, 20, 30, 40]),
    ],
    ids=["str", "bool", "int", "float", "object3", "int4"],
)
def test_labels_of_any_kind(labels):
    X, codes = make_blobs(n_samples=40 * len(labels), centers=len(labels), n_features=3, random_state=0)
    y = labels[codes]
    clf = ShallowNetClassifier(hidden_layer_sizes=(8,), learning_rate_init=0.05, max_iter=200, random_state=0).fit(X, y)
    # unique_labels turns an object array of strings into a str array; other dtypes stay.
    assert clf.classes_.dtype.kind == "U" if labels.dtype == object else clf.classes_.dtype == labels.dtype
    assert list(clf.classes_) == sorted(labels.tolist())
    assert clf.n_outputs_ == (1 if len(labels) == 2 else len(labels))
    pred = clf.predict(X)
    assert pred.dtype == clf.classes_.dtype and np.mean(pred == y) > 0.9
    proba = clf.predict_proba(X)
    assert proba.shape == (len(y), len(labels))
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], pred)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba), rtol=1e-10, atol=1e-12)
    dec = clf.decision_function(X)
    assert dec.shape == ((len(y),) if len(labels) == 2 else (len(y), len(labels)))


def test_predict_log_proba_stays_finite():
    X, y = make_blobs(n_samples=100, centers=2, n_features=2, random_state=0)
    clf = quiet_fit(
        ShallowNetClassifier(hidden_layer_sizes=(8,), learning_rate_init=0.05, max_iter=50, random_state=0), X, y
    )
    far = X * 1e4
    assert np.all(np.isfinite(clf.predict_log_proba(far)))


def test_dataframe_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = three_blobs(90)
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = quiet_fit(ShallowNetClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0), df, pd.Series(y))
    assert list(clf.feature_names_in_) == ["a", "b", "c", "d"]
    with pytest.warns(UserWarning, match="feature names"):
        np.testing.assert_array_equal(clf.predict(df), clf.predict(X))


def test_pipeline():
    X, y = three_blobs(200)
    pipe = make_pipeline(
        StandardScaler(), ShallowNetClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, random_state=0)
    )
    quiet_fit(pipe, X, y)
    assert pipe.score(X, y) > 0.85


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # also in the workers
def test_grid_search_two_jobs_string_labels():
    X, codes = make_blobs(n_samples=120, centers=2, n_features=3, cluster_std=2.0, random_state=0)
    y = np.array(["no", "yes"])[codes]
    grid = GridSearchCV(
        ShallowNetClassifier(learning_rate_init=0.02, max_iter=400, random_state=0),
        {"hidden_layer_sizes": [(4,), (8,)], "activation": ["relu", "tanh"]},
        cv=2,
        n_jobs=2,
        error_score="raise",
    )
    grid.fit(X, y)
    assert grid.best_score_ > 0.8 and set(grid.predict(X)) <= {"no", "yes"}
    assert set(grid.best_estimator_.classes_) == {"no", "yes"}


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"hidden_layer_sizes": 0}, ValueError, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": 2.5}, TypeError, "hidden_layer_sizes"),
        ({"activation": "softplus"}, ValueError, "activation"),
        ({"hidden_layer_sizes": (4, 4)}, ValueError, "hidden_layer_sizes"),
        ({"class_weight": "even"}, ValueError, "class_weight"),
        ({"max_fun": 0}, ValueError, "max_fun"),
        ({"power_t": -1.0}, ValueError, "power_t"),
        ({"solver": "newton"}, ValueError, "solver"),
        ({"backend": "gpu"}, ValueError, "backend"),
        ({"learning_rate_init": 0.0}, ValueError, "learning_rate_init"),
        ({"learning_rate_init": np.inf}, ValueError, "learning_rate_init"),
        ({"learning_rate": "optimal"}, ValueError, "learning_rate"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"batch_size": "all"}, ValueError, "batch_size"),
        ({"max_iter": 0}, ValueError, "max_iter"),
        ({"momentum": 1.5}, ValueError, "momentum"),
        ({"beta_1": 1.0}, ValueError, "beta_1"),
        ({"beta_2": -0.1}, ValueError, "beta_2"),
        ({"epsilon": 0.0}, ValueError, "epsilon"),
        ({"alpha": -1.0}, ValueError, "alpha"),
        ({"tol": np.nan}, ValueError, "tol"),
        ({"n_iter_no_change": 0}, ValueError, "n_iter_no_change"),
        ({"validation_fraction": 1.0}, ValueError, "validation_fraction"),
        ({"shuffle": "yes"}, TypeError, "shuffle"),
        ({"n_threads": 0}, ValueError, "n_threads"),
        ({"max_time": -1.0}, ValueError, "max_time"),
        ({"callback": 3}, TypeError, "callback"),
    ],
)
def test_bad_parameters(params, error, match):
    X, y = three_blobs(30)
    clf = ShallowNetClassifier(**params)
    with pytest.raises(error, match=match):
        clf.fit(X, y)
    assert not hasattr(clf, "coefs_") and not hasattr(clf, "n_features_in_")


def test_bad_input():
    X, y = three_blobs(60)
    clf = ShallowNetClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(bad, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        clf.fit(X, y[:-1])
    with pytest.raises(ValueError, match="2D array"):
        clf.fit(X[:, 0], y)
    with pytest.raises(ValueError, match="Unknown label type"):
        clf.fit(X, y + 0.5)
    with pytest.raises(ValueError, match="one class"):
        clf.fit(X, np.zeros(len(y)))
    with pytest.raises(ValueError, match="non-negative"):
        clf.fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="zero"):
        clf.fit(X, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(ValueError, match="class"):  # weights leave a single class
        clf.fit(X, y, sample_weight=(y == 0).astype(float))
    assert not hasattr(clf, "coefs_")
    quiet_fit(clf, X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :3])
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(bad)
    with pytest.raises(ValueError, match="warm_start"):
        quiet_fit(clf.set_params(warm_start=True), X, np.where(y == 2, 1, y))
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        quiet_fit(clf.set_params(hidden_layer_sizes=(5,)), X, y)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "params, match",
    [
        ({"activation": "bogus"}, "activation"),
        ({"backend": "nope"}, "backend"),
        ({"n_threads": 0}, "n_threads"),
        ({"n_threads": 1.5}, "n_threads"),
    ],
)
def test_predictions_check_the_hyperparameters_they_use(backend, params, match):
    """set_params after fit: every prediction entry refuses a bad value instead of predicting with another."""
    X, y = three_blobs(60)
    clf = quiet_fit(ShallowNetClassifier(hidden_layer_sizes=(4,), max_iter=3, backend=backend, random_state=0), X, y)
    expected = clf.predict_proba(X)
    clf.set_params(**params)
    for method in (clf.predict, clf.predict_proba, clf.predict_log_proba, clf.decision_function):
        with pytest.raises(ValueError, match=match):
            method(X)
    with pytest.raises(ValueError, match=match):
        clf.score(X, y)
    with pytest.raises(ValueError, match=match):
        clf.partial_fit(X, y)
    clf.set_params(activation="relu", backend=backend, n_threads=None)
    np.testing.assert_array_equal(clf.predict_proba(X), expected)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_parameter_constraints_cover_every_parameter(backend):
    """scikit-learn's own check: each parameter is declared, and a value of no declared kind is refused."""
    from sklearn.utils.estimator_checks import check_param_validation

    check_param_validation("ShallowNetClassifier", ShallowNetClassifier(backend=backend, max_iter=2))


def test_hyperparameters_are_checked_even_when_scikit_learn_skips_validation():
    X, y = three_blobs(60)
    with sklearn.config_context(skip_parameter_validation=True):
        with pytest.raises(ValueError, match="activation"):
            ShallowNetClassifier(activation="bogus").fit(X, y)
        clf = ShallowNetClassifier(hidden_layer_sizes=(4,)).partial_fit(X, y, classes=[0, 1, 2])
        with pytest.raises(ValueError, match="backend"):
            clf.set_params(backend="nope").partial_fit(X, y)


@pytest.mark.parametrize("backend", BACKENDS)
def test_numpy_numbers_are_accepted(backend):
    """NumPy integers wherever Python integers are accepted (and NumPy floats for the reals)."""
    X, y = three_blobs(90)
    ints = dict(
        hidden_layer_sizes=np.int64(4),
        max_iter=np.int32(3),
        batch_size=np.int64(32),
        n_iter_no_change=np.uint8(2),
        n_threads=np.int64(1),
        verbose=np.int64(0),
        random_state=np.int64(0),
    )
    reals = dict(
        learning_rate_init=np.float32(0.01),
        momentum=np.float64(0.8),
        beta_1=np.float32(0.5),
        beta_2=np.float64(0.9),
        epsilon=np.float32(1e-7),
        alpha=np.int64(0),
        tol=np.int64(0),
        validation_fraction=np.float32(0.2),
        max_time=np.int64(100),
    )
    python = {k: v.item() for k, v in {**ints, **reals}.items()}
    for solver in SOLVERS:
        a = quiet_fit(ShallowNetClassifier(solver=solver, backend=backend, **ints, **reals), X, y)
        b = quiet_fit(ShallowNetClassifier(solver=solver, backend=backend, **python), X, y)
        assert_same_weights(a, b)
        np.testing.assert_array_equal(a.predict(X), b.predict(X))
        a.partial_fit(X, y)
        assert a.n_iter_ == b.n_iter_ + 1
    es = quiet_fit(ShallowNetClassifier(early_stopping=True, backend=backend, **ints, **reals), X, y)
    assert len(es.validation_scores_) == es.n_iter_


@pytest.mark.parametrize(
    "params",
    [
        {"hidden_layer_sizes": True},
        {"max_iter": np.True_},
        {"batch_size": False},
        {"n_threads": True},
        {"learning_rate_init": True},
        {"alpha": False},
        {"tol": True},
        {"verbose": -1},
        {"random_state": "seed"},
        {"early_stopping": 1},
        {"callback": "print"},
    ],
)
def test_booleans_are_not_numbers_and_other_stricter_checks(params):
    X, y = three_blobs(30)
    clf = ShallowNetClassifier(**params)
    with pytest.raises((TypeError, ValueError), match=next(iter(params))):
        clf.fit(X, y)
    assert not hasattr(clf, "coefs_")


def test_partial_fit_errors():
    X, y = three_blobs(60)
    clf = ShallowNetClassifier(hidden_layer_sizes=(4,))
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X, y, classes=[0, 1])
    assert not hasattr(clf, "coefs_")
    clf.partial_fit(X, y, classes=[0, 1, 2, 3])
    with pytest.raises(ValueError, match="not the same as classes_"):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="early_stopping"):
        ShallowNetClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:, :2], y)


@pytest.mark.parametrize("backend", BACKENDS)
def test_divergence_names_the_learning_rate_and_undoes_the_call(backend):
    X, y = three_blobs(200)
    X = X.astype(np.float32)  # float32 overflows sooner
    kw = dict(hidden_layer_sizes=(20,), solver="sgd", backend=backend, random_state=0)
    clf = ShallowNetClassifier(learning_rate_init=1e6, max_iter=20, **kw)
    with np.errstate(all="ignore"):  # NumPy's overflow warnings on the way to inf
        with pytest.raises(FloatingPointError, match="learning_rate_init=1000000.0"):
            clf.fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    # A warm start that diverges leaves the previous model in place.
    good = quiet_fit(ShallowNetClassifier(max_iter=3, **kw), X, y)
    before = [a.copy() for a in weights_of(good)]
    curve = list(good.loss_curve_)
    good.set_params(warm_start=True, learning_rate_init=1e6, max_iter=20)
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError, match="learning_rate"):
        good.fit(X, y)
    for a, b in zip(weights_of(good), before):
        np.testing.assert_array_equal(a, b)
    assert good.loss_curve_ == curve


# ---------------------------------------------------------------- stopping


def test_convergence_warning_once_at_max_iter():
    X, y = three_blobs(100)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf = ShallowNetClassifier(hidden_layer_sizes=(4,), max_iter=7, tol=-np.inf, random_state=0).fit(X, y)
    assert [w.category for w in caught] == [ConvergenceWarning]
    assert clf.n_iter_ == 7 and clf.stop_reason_ == "max_iter"


def test_stopping_rule_without_early_stopping():
    """Stops after n_iter_no_change + 1 epochs in a row that do not beat best_loss_ - tol (no warning)."""
    X, y = three_blobs(200)
    clf = ShallowNetClassifier(
        hidden_layer_sizes=(8,), learning_rate_init=0.01, tol=0.05, n_iter_no_change=3, random_state=0
    )
    clf.fit(X, y)  # would raise (filterwarnings=error) if it warned
    assert clf.stop_reason_ == "converged"
    curve, best, count = clf.loss_curve_, np.inf, 0
    for i, loss in enumerate(curve):
        count = count + 1 if loss > best - 0.05 else 0
        best = min(best, loss)
        assert (count > 3) == (i == len(curve) - 1)
    assert clf.best_loss_ == min(curve) and clf.n_iter_ == len(curve)


def test_early_stopping_restores_the_best_epoch():
    X, y = three_blobs(400)
    seen = []

    def record(est):
        seen.append([a.copy() for a in weights_of(est)])

    clf = ShallowNetClassifier(
        hidden_layer_sizes=(8,),
        learning_rate_init=0.05,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=4,
        tol=0.0,
        random_state=0,
        callback=record,
    )
    quiet_fit(clf, X, y)
    scores = clf.validation_scores_
    assert len(scores) == clf.n_iter_ == len(seen) == len(clf.validation_loss_curve_)
    assert clf.best_loss_ is None and clf.best_validation_score_ == max(scores)
    best = int(np.argmax(scores))  # the first best epoch
    for a, b in zip(weights_of(clf), seen[best]):
        np.testing.assert_array_equal(a, b)
    assert clf.t_ == clf.n_iter_ * 320  # the validation fifth is not trained on


def test_callback_and_max_time_stop():
    X, y = three_blobs(100)
    calls = []

    def stop_at_3(est):
        calls.append(est.n_iter_)
        return est.n_iter_ == 3

    clf = ShallowNetClassifier(hidden_layer_sizes=(4,), tol=-np.inf, random_state=0, callback=stop_at_3)
    clf.fit(X, y)
    assert calls == [1, 2, 3] and clf.n_iter_ == 3 and clf.stop_reason_ == "callback"
    clf = ShallowNetClassifier(hidden_layer_sizes=(4,), tol=-np.inf, random_state=0, max_time=1e-9).fit(X, y)
    assert clf.n_iter_ == 1 and clf.stop_reason_ == "max_time"


def test_keyboard_interrupt_keeps_a_usable_model(monkeypatch):
    X, y = three_blobs(100)

    def interrupt(est):
        if est.n_iter_ == 3:
            raise KeyboardInterrupt

    clf = ShallowNetClassifier(hidden_layer_sizes=(4,), tol=-np.inf, random_state=0, callback=interrupt)
    with pytest.warns(UserWarning, match="interrupted"):
        clf.fit(X, y)
    assert clf.n_iter_ == 3 and clf.stop_reason_ == "interrupted" and len(clf.loss_curve_) == 3
    assert clf.predict(X).shape == (100,)

    # Inside the engine (mid-epoch): the model keeps the parameters of the last batch.
    real = _minibatch.run_epoch
    count = {"n": 0}

    def flaky(*args, **kwargs):
        count["n"] += 1
        if count["n"] == 5:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(_minibatch, "run_epoch", flaky)
    clf = ShallowNetClassifier(hidden_layer_sizes=(4,), tol=-np.inf, random_state=0)
    with pytest.warns(UserWarning, match="interrupted"):
        clf.fit(X, y)
    assert clf.n_iter_ == 4 and np.all(np.isfinite(clf.predict_proba(X)))
    # partial_fit lets it through, so that a loop over chunks stops.
    count["n"] = 4
    with pytest.raises(KeyboardInterrupt):
        clf.partial_fit(X, y)
    assert clf.predict(X).shape == (100,)


@pytest.mark.parametrize("bar", [True, False], ids=["tqdm", "plain"])
def test_verbose_progress(capsys, monkeypatch, bar):
    if bar:
        pytest.importorskip("tqdm")
    else:
        monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import fails: the plain lines
    X, y = three_blobs(100)
    quiet_fit(
        ShallowNetClassifier(hidden_layer_sizes=(4,), max_iter=3, early_stopping=True, verbose=2, random_state=0), X, y
    )
    out = capsys.readouterr()
    text = out.out + out.err
    if bar:
        assert "loss=" in text and "val_score=" in text and "3/3" in text
    else:
        assert "Epoch 3/3: loss = " in out.out and "validation score = " in out.out
    assert "max_iter=3" in text


@pytest.mark.parametrize("early_stopping", [False, True])
def test_verbose_prints_mlpclassifier_lines(capsys, early_stopping):
    """verbose=True prints MLPClassifier's lines: "Iteration N, loss = ..." (and "Validation score: ...")."""
    X, y = three_blobs(100)
    kw = dict(hidden_layer_sizes=(4,), max_iter=3, early_stopping=early_stopping, verbose=True, random_state=0)
    quiet_fit(MLPClassifier(**kw), X, y)
    theirs = capsys.readouterr().out.splitlines()
    quiet_fit(ShallowNetClassifier(**kw), X, y)
    ours = capsys.readouterr().out.splitlines()
    assert len(ours) == len(theirs) == (6 if early_stopping else 3)
    for a, b in zip(ours, theirs):
        head_a, _, value_a = a.rpartition(" ")
        head_b, _, value_b = b.rpartition(" ")
        assert head_a == head_b and float(value_a) == pytest.approx(float(value_b), rel=1e-6, abs=1e-6)


def test_n_threads():
    from threadpoolctl import threadpool_info

    X, y = three_blobs(300)
    seen = []

    def blas_threads(est):
        seen.append({d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas"})

    before = {d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas"}
    a = ShallowNetClassifier(hidden_layer_sizes=(64,), max_iter=2, n_threads=1, random_state=0, callback=blas_threads)
    quiet_fit(a, X, y)
    b = quiet_fit(ShallowNetClassifier(hidden_layer_sizes=(64,), max_iter=2, random_state=0), X, y)
    # n_threads=1 keeps the products on the calling thread without touching BLAS's process-wide count
    assert seen and all(s == before for s in seen)
    assert_same_weights(a, b)


# ---------------------------------------------------------------- persistence


def _fitted(labels=("x", "y", "z"), **kw):
    X, codes = three_blobs(120)
    y = np.array(labels)[codes]
    return quiet_fit(ShallowNetClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0, **kw), X, y), X, y


@pytest.mark.parametrize("backend", BACKENDS)
def test_pickle_round_trip_and_continue(backend):
    clf, X, y = _fitted(backend=backend)
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(copy.predict_proba(X), clf.predict_proba(X))
    clf.partial_fit(X, y)
    copy.partial_fit(X, y)
    assert_same_weights(copy, clf, rtol=0, atol=0)


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["x", "y", "z"]),
        np.array([3, 1, 2]),
        np.array([True, False]),
        np.array([-1.0, 2.0]),
        np.array(["u", "v"], dtype=object),
    ],
    ids=["str", "int", "bool", "float", "object"],
)
def test_save_load(tmp_path, labels):
    clf, X, y = _fitted(np.sort(labels)[np.arange(3) % len(labels)], early_stopping=True)
    path = tmp_path / "model.npz"
    clf.save(path)
    with np.load(path, allow_pickle=False) as f:  # plain arrays only
        assert int(f["format_version"]) == 2 and f["classes"].dtype.kind == "U"
    loaded = ShallowNetClassifier.load(path)
    assert loaded.get_params() == clf.get_params()
    assert loaded.classes_.dtype == clf.classes_.dtype
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    names = ("n_iter_", "t_", "loss_curve_", "validation_scores_", "best_validation_score_", "best_loss_")
    for name in names + ("n_features_in_", "stop_reason_"):
        assert getattr(loaded, name) == getattr(clf, name), name
    # The optimizer's state came along: training continues identically.
    for est in (clf, loaded):
        est.set_params(early_stopping=False).partial_fit(X, y)
    assert_same_weights(loaded, clf, rtol=0, atol=0)


def test_save_load_feature_names_and_dropped_params(tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = three_blobs(60)
    df = pd.DataFrame(X, columns=list("abcd"))
    clf = ShallowNetClassifier(
        hidden_layer_sizes=(3,), max_iter=2, random_state=np.random.RandomState(0), callback=print
    )
    quiet_fit(clf, df, y)
    clf.save(tmp_path / "m.npz")
    loaded = ShallowNetClassifier.load(tmp_path / "m.npz")
    assert list(loaded.feature_names_in_) == list("abcd")
    assert loaded.callback is None and loaded.random_state is None
    np.testing.assert_array_equal(loaded.predict(df), clf.predict(df))


def test_load_refuses_unknown_versions(tmp_path):
    clf, _, _ = _fitted()
    clf.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz") as f:
        data = dict(f)
    data["format_version"] = np.array(3)
    np.savez(tmp_path / "v3.npz", **data)
    with pytest.raises(ValueError, match="format version 3"):
        ShallowNetClassifier.load(tmp_path / "v3.npz")
    np.savez(tmp_path / "other.npz", W1=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="not a ShallowNetClassifier model"):
        ShallowNetClassifier.load(tmp_path / "other.npz")


# ---------------------------------------------------------------- larger than memory


def test_memmap_partial_fit_bounded_memory(tmp_path):
    """partial_fit over chunks of a memory map: the peak of traced allocations stays near a chunk's size."""
    n, n_x, chunk = 120_000, 40, 4_000
    X = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=np.float32, shape=(n, n_x))
    y = np.lib.format.open_memmap(tmp_path / "y.npy", mode="w+", dtype=np.int8, shape=(n,))
    rng = np.random.default_rng(0)
    w = rng.standard_normal(n_x).astype(np.float32)
    for s in range(0, n, 20_000):  # written block by block, never whole in memory
        block = rng.standard_normal((min(20_000, n - s), n_x)).astype(np.float32)
        X[s : s + len(block)] = block
        y[s : s + len(block)] = block @ w > 0
    X.flush()
    y.flush()
    del X, y
    X = np.load(tmp_path / "X.npy", mmap_mode="r")
    y = np.load(tmp_path / "y.npy", mmap_mode="r")
    clf = ShallowNetClassifier(hidden_layer_sizes=(32,), learning_rate_init=0.003, random_state=0)
    tracemalloc.start()
    try:
        for s in range(0, n, chunk):
            clf.partial_fit(X[s : s + chunk], y[s : s + chunk], classes=[0, 1])
        _, train_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        accuracy = clf.score(X, y)  # predictions run over row blocks of the map
        _, predict_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert X.nbytes == 19_200_000
    assert train_peak < X.nbytes / 10, f"training peak {train_peak} bytes for a {X.nbytes}-byte memory map"
    assert predict_peak < X.nbytes / 3, f"prediction peak {predict_peak} bytes for a {X.nbytes}-byte memory map"
    assert accuracy > 0.95
    assert clf.t_ == n


# ---------------------------------------------------------------- packaging


def test_import_without_sklearn_names_the_extra():
    code = textwrap.dedent(
        """
        import sys
        sys.modules["sklearn"] = None  # as if scikit-learn were not installed
        import shallownet_fast
        shallownet_fast.fast, shallownet_fast.reference
        try:
            shallownet_fast.ShallowNetClassifier
        except ImportError as exc:
            print(exc)
        else:
            raise SystemExit("no ImportError")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert 'pip install "shallownet_fast[sklearn]"' in out.stdout


def test_lazy_export():
    import shallownet_fast

    assert shallownet_fast.ShallowNetClassifier is ShallowNetClassifier
    with pytest.raises(AttributeError):
        _ = shallownet_fast.NoSuchThing

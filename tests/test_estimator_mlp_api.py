"""MLP's API on ShallowNetClassifier: names, deprecated names, multilabel y, class_weight, partial_fit's
arguments, the lbfgs step."""

import sys
import types
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import make_blobs  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402

from shallownet_fast import ShallowNetClassifier, ShallowNetRegressor  # noqa: E402

BACKENDS = ["fast", "reference"]


def quiet_fit(est, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kwargs)


def blobs(n=120, seed=0):
    return make_blobs(n_samples=n, centers=3, n_features=4, cluster_std=2.0, random_state=seed)


def same_weights(a, b, rtol=0.0):
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_allclose(p, q, rtol=rtol, atol=0)


# ---------------------------------------------------------------- names


@pytest.mark.parametrize("mlp", [MLPClassifier(hidden_layer_sizes=(7,)), MLPRegressor(hidden_layer_sizes=(7,))])
def test_every_mlp_parameter_is_accepted(mlp):
    ours = ShallowNetClassifier if isinstance(mlp, MLPClassifier) else ShallowNetRegressor
    est = ours(**mlp.get_params())
    assert set(mlp.get_params()) <= set(est.get_params())
    est._validate_hyperparameters()
    assert est._n_hidden() == 7


def test_mlp_grid_runs():
    X, y = blobs()
    grid = GridSearchCV(
        ShallowNetClassifier(max_iter=20, random_state=0),
        {"hidden_layer_sizes": [(4,), 8], "learning_rate_init": [0.01], "nesterovs_momentum": [True, False]},
        cv=2,
    )
    quiet_fit(grid, X, y)
    assert len(grid.cv_results_["params"]) == 4


@pytest.mark.parametrize("sizes", [(4, 4), [], (0,), (2.5,)])
def test_one_hidden_layer_only(sizes):
    X, y = blobs()
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        ShallowNetClassifier(hidden_layer_sizes=sizes).fit(X, y)


@pytest.mark.parametrize(
    "old, new",
    [
        (dict(hidden_units=6), dict(hidden_layer_sizes=(6,))),
        (dict(learning_rate=0.02), dict(learning_rate_init=0.02)),
        (dict(nesterov=False, solver="sgd"), dict(nesterovs_momentum=False, solver="sgd")),
    ],
    ids=["hidden_units", "learning_rate-number", "nesterov"],
)
def test_deprecated_names_warn_and_still_work(old, new):
    X, y = blobs()
    name = next(iter(old))
    kw = dict(max_iter=5, random_state=0)
    with pytest.warns(FutureWarning, match=f"{name}.*deprecated.*use {next(iter(new))}"):
        a = quiet_fit(ShallowNetClassifier(**old, **kw), X, y)
    b = quiet_fit(ShallowNetClassifier(**new, **kw), X, y)
    same_weights(a, b)


@pytest.mark.parametrize(
    "params",
    [
        dict(hidden_units=6, hidden_layer_sizes=(5,)),
        dict(learning_rate=0.02, learning_rate_init=0.5),
        dict(nesterov=True, nesterovs_momentum=False),
    ],
    ids=["hidden", "learning_rate", "nesterov"],
)
def test_deprecated_and_new_names_that_disagree_are_refused(params):
    X, y = blobs()
    est = ShallowNetClassifier(max_iter=2, **params)
    with pytest.raises(ValueError, match="disagree"):
        est.fit(X, y)
    assert not hasattr(est, "coefs_")


@pytest.mark.parametrize("backend", BACKENDS)
def test_logistic_is_sigmoid(backend):
    X, y = blobs()
    kw = dict(hidden_layer_sizes=(5,), max_iter=5, random_state=0, backend=backend)
    same_weights(
        quiet_fit(ShallowNetClassifier(activation="logistic", **kw), X, y),
        quiet_fit(ShallowNetClassifier(activation="sigmoid", **kw), X, y),
    )


def test_partial_fit_takes_mlps_argument_order():
    """partial_fit(X, y, sample_weight, classes), as MLPClassifier's (scikit-learn >= 1.7)."""
    X, y = blobs()
    w = np.linspace(0.5, 1.5, len(y))
    kw = dict(hidden_layer_sizes=(5,), random_state=0, shuffle=False)
    a = ShallowNetClassifier(**kw).partial_fit(X, y, w, [0, 1, 2])
    b = ShallowNetClassifier(**kw).partial_fit(X, y, sample_weight=w, classes=[0, 1, 2])
    same_weights(a, b)
    mlp = MLPClassifier(**kw).partial_fit(X, y, w, [0, 1, 2])
    same_weights(a, mlp, rtol=1e-10)
    with pytest.raises(ValueError, match="classes must be passed.*sample_weight=None, classes=None"):
        ShallowNetClassifier(**kw).partial_fit(X, y)


# ---------------------------------------------------------------- multilabel, class_weight


@pytest.mark.parametrize("backend", BACKENDS)
def test_multilabel(backend):
    X, c = blobs()
    Y = np.column_stack([c == 0, c != 1, X[:, 0] > 0]).astype(int)
    kw = dict(hidden_layer_sizes=(8,), learning_rate_init=0.03, max_iter=60, random_state=0)
    est = quiet_fit(ShallowNetClassifier(**kw, backend=backend), X, Y)
    assert est.out_activation_ == "logistic" and est.n_outputs_ == 3
    np.testing.assert_array_equal(est.classes_, [0, 1, 2])
    P = est.predict_proba(X)
    assert P.shape == (len(X), 3) and np.all((P > 0) & (P < 1))
    np.testing.assert_array_equal(est.predict(X), (P > 0.5).astype(int))
    np.testing.assert_allclose(np.exp(est.predict_log_proba(X)), P, rtol=1e-12)
    assert est.score(X, Y) == quiet_fit(MLPClassifier(**kw), X, Y).score(X, Y) > 0.5
    with pytest.raises(ValueError, match="multilabel"):
        est.set_params(warm_start=True).fit(X, c)


@pytest.mark.parametrize("backend", BACKENDS)
def test_class_weight_is_sample_weight(backend):
    X, y = blobs()
    kw = dict(hidden_layer_sizes=(5,), max_iter=5, random_state=0, backend=backend)
    a = quiet_fit(ShallowNetClassifier(class_weight={0: 3.0, 2: 0.5}, **kw), X, y)
    b = quiet_fit(ShallowNetClassifier(**kw), X, y, sample_weight=np.array([3.0, 1.0, 0.5])[y])
    same_weights(a, b)
    counts = np.bincount(y[:100])
    balanced = quiet_fit(ShallowNetClassifier(class_weight="balanced", **kw), X[:100], y[:100])
    explicit = quiet_fit(ShallowNetClassifier(**kw), X[:100], y[:100], sample_weight=100 / (3 * counts[y[:100]]))
    same_weights(balanced, explicit, rtol=1e-12)


def test_multiclass_multioutput_y_is_refused_clearly():
    X, y = blobs()
    Y = np.column_stack([y, y % 2])
    Y[:, 1] += 5  # not 0/1: several multiclass outputs
    with pytest.raises(ValueError, match="multilabel indicator matrix"):
        ShallowNetClassifier(max_iter=2).fit(X, Y)


@pytest.mark.parametrize(
    "class_weight, match",
    [({7: 1.0}, "not among classes_"), ({0: -1.0}, "non-negative"), ({0: np.nan}, "finite")],
)
def test_bad_class_weight(class_weight, match):
    X, y = blobs()
    with pytest.raises(ValueError, match=match):
        ShallowNetClassifier(class_weight=class_weight, max_iter=2).fit(X, y)


# ---------------------------------------------------------------- lbfgs


def test_lbfgs_calls_the_minimizer(monkeypatch):
    """solver="lbfgs" hands shallownet_fast._lbfgs.minimize the data one example per column and the output layer."""
    calls = []

    def minimize(backend, X, Y, sample_weight, params, *, activation, output, alpha, max_iter, max_fun, tol, callback):
        calls.append(dict(backend=backend, X=X, Y=Y, sw=sample_weight, output=output, max_fun=max_fun, tol=tol))
        params["W2"][...] = 0.0
        params["b2"][...] = np.arange(params["b2"].shape[0]).reshape(-1, 1)
        return 3, 0.25, [1.0, 0.5, 0.25]

    fake = types.ModuleType("shallownet_fast._lbfgs")
    fake.minimize = minimize
    monkeypatch.setitem(sys.modules, "shallownet_fast._lbfgs", fake)
    import shallownet_fast

    monkeypatch.setattr(shallownet_fast, "_lbfgs", fake, raising=False)
    X, y = blobs()
    est = ShallowNetClassifier(solver="lbfgs", hidden_layer_sizes=(4,), max_fun=77, tol=1e-3).fit(X, y)
    (call,) = calls
    assert call["X"].shape == (4, len(X)) and call["X"].flags.c_contiguous and call["output"] == "softmax"
    assert call["Y"].shape == (3, len(X)) and call["max_fun"] == 77 and call["tol"] == 1e-3
    assert est.n_iter_ == 3 and est.loss_ == 0.25 and est.loss_curve_ == [1.0, 0.5, 0.25]
    np.testing.assert_array_equal(est.predict(X), np.full(len(X), 2))  # the b2 the minimizer set
    assert not hasattr(est, "partial_fit")
    reg = ShallowNetRegressor(solver="lbfgs", hidden_layer_sizes=(4,)).fit(X, X[:, :2])
    assert calls[-1]["output"] == "identity" and reg.n_iter_ == 3


# ---------------------------------------------------------------- the README


def test_readme_estimator_examples_run_as_pasted(tmp_path):
    """The Python examples at the head of the README's estimator section make their own data and run."""
    import os
    import re
    import subprocess
    from pathlib import Path

    readme = Path(__file__).resolve().parents[1] / "README.md"
    if not readme.exists():
        pytest.skip("no README.md next to the tests")
    text = readme.read_text(encoding="utf-8")
    section = text[text.index("## The scikit-learn estimators") : text.index("### Parameters and what they do")]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 4
    import shallownet_fast

    root = str(Path(shallownet_fast.__file__).resolve().parents[1])  # where the imported package lives
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for code in blocks:
        proc = subprocess.run(
            [sys.executable, "-W", "error::FutureWarning", "-c", code],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout  # the grid prints its best parameters

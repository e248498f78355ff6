"""Prediction: the latency path of fast.predict, the row-layout kernel, and the estimators' lean path.

fast.predict answers a few examples of the common case in one compiled call
(`predict_labels`); the estimators predict through `predict_rows`, which reads
scikit-learn's (n_samples, n_features) layout in place, by blocks shared by a
team of the kernels' own threads; a plain ndarray of a few rows skips
scikit-learn's validation for checks of the same effect (`_plain_outputs`).
Each shortcut must give what the general path gives, and fall back to it
(which checks and raises) for anything else.
"""

import tracemalloc
import warnings

import numpy as np
import pytest

from shallownet_fast import _numerics, _threads, fast
from shallownet_fast._dispatch import kernels

from conftest import DTYPE_IDS, DTYPES, assert_close, make_parameters

sklearn = pytest.importorskip("sklearn")
from sklearn.exceptions import NotFittedError  # noqa: E402

from shallownet_fast.estimators import (  # noqa: E402
    ShallowNetClassifier,
    ShallowNetRegressor,
    _base,  # noqa: E402
)

EVERY_ACTIVATION = ["tanh", "relu", "leaky_relu", "sigmoid", "identity"]
SHAPES = [(2, 4, 1, 1), (2, 4, 1, 37), (5, 7, 3, 9), (50, 64, 3, 20), (3, 5, 1, 400)]


def _general_predict(parameters, X, activation):
    """fast.predict on the general path: an F-ordered copy of X is never the common case."""
    Xf = np.asfortranarray(X)
    if X.shape[1] > 1:
        assert not Xf.flags.c_contiguous
        return fast.predict(parameters, Xf, activation=activation)
    # one column is both C- and F-contiguous: a list takes the general path
    return fast.predict(parameters, X.tolist(), activation=activation)


# ---------------------------------------------------------------- fast.predict's latency path


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("activation", EVERY_ACTIVATION)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_latency_path_gives_the_general_paths_labels(dtype, activation, shape):
    n_x, n_h, n_y, m = shape
    p = make_parameters(1, n_x, n_h, n_y, dtype, scale=3.0)
    X = np.random.default_rng(2).standard_normal((n_x, m)).astype(dtype)
    labels = kernels.predict_labels(p, X, activation, np.inf)
    assert labels is not None
    want = _general_predict(p, X, activation)
    assert labels.dtype == want.dtype and labels.shape == want.shape
    np.testing.assert_array_equal(labels, want)
    np.testing.assert_array_equal(fast.predict(p, X, activation=activation), want)


def _uncommon_cases():
    """name -> (parameters, X, activation, most): every way out of the common case."""
    p = make_parameters(1, 3, 4, 2)
    X = np.random.default_rng(2).standard_normal((3, 5))
    nan_W2 = dict(p, W2=p["W2"].copy())
    nan_W2["W2"][1, 2] = np.nan
    nan_X = X.copy()
    nan_X[2, 4] = np.inf

    class Params(dict):
        pass

    return {
        "F-ordered X": (p, np.asfortranarray(X), "tanh", np.inf),
        "strided X": (p, np.repeat(X, 2, axis=1)[:, ::2], "tanh", np.inf),
        "float32 X": (p, X.astype(np.float32), "tanh", np.inf),
        "big-endian X": (p, X.astype(">f8"), "tanh", np.inf),
        "b1 of shape (n_h,)": (dict(p, b1=p["b1"].ravel()), X, "tanh", np.inf),
        "float32 b2": (dict(p, b2=p["b2"].astype(np.float32)), X, "tanh", np.inf),
        "NaN in W2": (nan_W2, X, "tanh", np.inf),
        "inf in X": (p, nan_X, "tanh", np.inf),
        "a dict subclass": (Params(p), X, "tanh", np.inf),
        "a list X": (p, X.tolist(), "tanh", np.inf),
        "no examples": (p, X[:, :0].copy(), "tanh", np.inf),
        "unknown activation": (p, X, "swish", np.inf),
        "activation not a string": (p, X, ["tanh"], np.inf),
        "missing W1": ({k: v for k, v in p.items() if k != "W1"}, X, "tanh", np.inf),
        "X of the wrong height": (p, X[:2].copy(), "tanh", np.inf),
        "more work than most": (p, X, "tanh", 3 * 4 * 5 - 1),
    }


UNCOMMON = _uncommon_cases()


@pytest.mark.parametrize("case", list(UNCOMMON))
def test_latency_path_leaves_everything_else_to_the_general_path(case):
    parameters, X, activation, most = UNCOMMON[case]
    assert kernels.predict_labels(parameters, X, activation, most) is None


@pytest.mark.parametrize(
    "case", ["NaN in W2", "inf in X", "unknown activation", "missing W1", "X of the wrong height", "b1 of shape (n_h,)"]
)
def test_fast_predict_still_raises_what_it_raised(case):
    from shallownet_fast import reference

    parameters, X, activation, _ = UNCOMMON[case]
    with pytest.raises((ValueError, TypeError)) as ours:
        fast.predict(parameters, X, activation=activation)
    with pytest.raises(type(ours.value)) as theirs:
        reference.predict(parameters, X, activation=activation)
    assert str(ours.value) == str(theirs.value)


# ---------------------------------------------------------------- the row-layout kernel


def _rows(X, p, activation, output, team, block):
    dt = X.dtype
    out = np.full((X.shape[0], p["W2"].shape[0]), np.nan, dt)
    n_x, n_h, n_y = p["W1"].shape[1], p["W1"].shape[0], p["W2"].shape[0]
    S = np.empty((team, kernels.predict_scratch(n_x, n_h, n_y, block, True)), dt)
    kernels.predict_rows(
        X,
        p["W1"],
        p["b1"].ravel(),
        p["W2"],
        p["b2"].ravel(),
        kernels.ACTIVATION_CODES[activation],
        kernels.OUTPUT_CODES[output],
        out,
        S,
        block,
    )
    return out


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("activation", EVERY_ACTIVATION)
@pytest.mark.parametrize(
    "output,n_y", [("identity", 1), ("identity", 3), ("logistic", 1), ("logistic", 4), ("softmax", 3)]
)
def test_rows_kernel_matches_the_formulas(dtype, activation, output, n_y):
    n_x, n_h, m = 50, 64, 203
    p = make_parameters(3, n_x, n_h, n_y, dtype)
    X = np.random.default_rng(4).standard_normal((m, n_x)).astype(dtype)
    want = _numerics.output(_numerics.logits(X.T.astype(np.float64), *_as64(p), activation), output).T
    for team, block in [(1, m), (1, 16), (2, 7), (3, 64)]:
        got = _rows(X, p, activation, output, team, block)
        assert got.dtype == dtype
        assert_close(got, want, dtype, err_msg=f"team {team}, block {block}")


def _as64(p):
    return [p[k].astype(np.float64) for k in ("W1", "b1", "W2", "b2")]


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_rows_kernel_results_do_not_depend_on_the_team(dtype):
    p = make_parameters(5, 20, 32, 3, dtype)
    X = np.random.default_rng(6).standard_normal((1000, 20)).astype(dtype)
    one = _rows(X, p, "relu", "softmax", 1, 64)
    for team in (2, 3, 5):
        np.testing.assert_array_equal(_rows(X, p, "relu", "softmax", team, 64), one)


# ---------------------------------------------------------------- the estimators


def _classifier(n_classes=3, multilabel=False, dtype=np.float64, **kw):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((300, 6)).astype(dtype)
    if multilabel:
        y = (X[:, :3] + 0.3 * rng.standard_normal((300, 3)) > 0).astype(int)
    else:
        y = np.digitize(X[:, 0] + X[:, 1], np.quantile(X[:, 0] + X[:, 1], np.linspace(0, 1, n_classes + 1)[1:-1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ShallowNetClassifier(hidden_layer_sizes=(9,), max_iter=30, random_state=0, **kw).fit(X, y), X


def _regressor(n_outputs=2):
    rng = np.random.default_rng(8)
    X = rng.standard_normal((300, 6))
    Y = X[:, :n_outputs] * 2 + 0.1 * rng.standard_normal((300, n_outputs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ShallowNetRegressor(hidden_layer_sizes=(9,), max_iter=30, random_state=0)
        return model.fit(X, Y[:, 0] if n_outputs == 1 else Y), X


MODELS = {
    "binary": lambda: _classifier(2),
    "multiclass": lambda: _classifier(4),
    "multilabel": lambda: _classifier(multilabel=True),
    "float32": lambda: _classifier(3, dtype=np.float32),
    "regressor": lambda: _regressor(2),
    "regressor-1": lambda: _regressor(1),
}
METHODS = {
    ShallowNetClassifier: ("predict", "predict_proba", "predict_log_proba", "decision_function"),
    ShallowNetRegressor: ("predict",),
}


@pytest.fixture(scope="module")
def models():
    return {name: make() for name, make in MODELS.items()}


def _without_validation(monkeypatch):
    """scikit-learn's validation made to fail: only the lean path can answer."""

    def refuse(*args, **kwargs):
        raise AssertionError("validate_data was called")

    monkeypatch.setattr(_base, "validate_data", refuse)


@pytest.mark.parametrize("name", list(MODELS))
def test_a_plain_row_skips_validation_and_gives_the_general_answer(models, monkeypatch, name):
    model, X = models[name]
    rows = X[:3]
    general = np.asfortranarray(rows)  # not C-contiguous: the general path
    assert not general.flags.c_contiguous
    want = {m: getattr(model, m)(general) for m in METHODS[type(model)]}
    _without_validation(monkeypatch)
    for method, expected in want.items():
        got = getattr(model, method)(np.ascontiguousarray(rows, dtype=X.dtype))
        assert got.dtype == expected.dtype and got.shape == expected.shape, method
        np.testing.assert_allclose(got, expected, rtol=1e-14 if X.dtype == np.float64 else 1e-6, err_msg=method)


def test_every_method_gives_the_same_on_both_paths(models):
    for model, X in models.values():
        for method in METHODS[type(model)]:
            lean = getattr(model, method)(np.ascontiguousarray(X[:5]))
            general = getattr(model, method)(np.asfortranarray(X[:5]))
            np.testing.assert_allclose(lean, general, rtol=1e-14 if X.dtype == np.float64 else 1e-6, err_msg=method)


def test_the_lean_path_keeps_every_check(models):
    import pandas as pd
    from sklearn.utils._param_validation import InvalidParameterError

    model, X = models["multiclass"]
    row = np.ascontiguousarray(X[:1])
    with pytest.raises(NotFittedError):
        ShallowNetClassifier().predict_proba(row)
    with pytest.raises(ValueError, match="features"):
        model.predict_proba(np.ascontiguousarray(X[:1, :5]))
    bad = row.copy()
    bad[0, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.predict_proba(bad)
    for params, error in [({"activation": "swish"}, InvalidParameterError), ({"n_threads": 0}, InvalidParameterError)]:
        broken = sklearn.base.clone(model).set_params(**params)
        broken.__dict__.update({k: v for k, v in vars(model).items() if k.endswith("_") or k.startswith("_")})
        with pytest.raises(error):
            broken.predict_proba(row)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        named = ShallowNetClassifier(hidden_layer_sizes=(9,), max_iter=5, random_state=0).fit(
            frame, model.classes_[np.arange(300) % 4]
        )
    with pytest.warns(UserWarning, match="feature names"):
        named.predict_proba(row)
    # float32 rows on a float64 model: float64 out (the general path's rule)
    assert model.predict_proba(row.astype(np.float32)).dtype == np.float64


@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_estimator_predictions_do_not_depend_on_threads(n_threads):
    rng = np.random.default_rng(9)
    X = rng.standard_normal((5000, 30))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ShallowNetClassifier(hidden_layer_sizes=(40,), max_iter=3, random_state=0).fit(X, y)
    want = model.predict_proba(X)
    model.set_params(n_threads=n_threads)
    np.testing.assert_array_equal(model.predict_proba(X), want)
    np.testing.assert_array_equal(model.predict_proba(np.asfortranarray(X)), want)


@pytest.mark.parametrize("layout", ["C", "F"])
def test_batch_prediction_memory_is_the_output_plus_blocks(layout):
    """Peak traced memory of predict_proba beyond its output does not grow with the number of rows."""
    rng = np.random.default_rng(10)
    X = rng.standard_normal((2000, 50))
    y = np.arange(2000) % 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ShallowNetClassifier(hidden_layer_sizes=(64,), max_iter=2, random_state=0).fit(X, y)
    extra = {}
    for m in (50_000, 200_000):
        big = rng.standard_normal((m, 50))
        big = np.asfortranarray(big) if layout == "F" else big
        model.predict_proba(big[:100])  # anything allocated once, before tracing
        tracemalloc.start()
        out = model.predict_proba(big)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        extra[m] = peak - out.nbytes
    block_bytes = _threads._PREDICT_BLOCK_BYTES
    assert extra[200_000] < extra[50_000] + block_bytes / 4, extra
    assert extra[200_000] < 4 * block_bytes, extra


def test_coefficients_set_by_hand_take_the_lean_path_too(models, monkeypatch):
    """coefs_ of any layout (a loaded model's, or set by hand from MLPClassifier's) give the same answers."""
    model, X = models["multiclass"]
    want = model.predict_proba(np.asfortranarray(X[:4]))
    other = sklearn.base.clone(model)
    other.__dict__.update({k: v for k, v in vars(model).items() if k.endswith("_") or k.startswith("_")})
    other.coefs_ = [np.ascontiguousarray(c) for c in model.coefs_]
    assert not other.coefs_[0].T.flags.c_contiguous
    _without_validation(monkeypatch)
    np.testing.assert_allclose(other.predict_proba(np.ascontiguousarray(X[:4])), want, rtol=1e-14)

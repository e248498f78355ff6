"""ONNX export (shallownet_fast.onnx): ONNX Runtime's outputs equal the estimators'.

Each fitted estimator, alone and after a StandardScaler in a Pipeline, is
converted with skl2onnx's ``to_onnx`` and run by ONNX Runtime; its labels must
equal ``predict``'s and its probabilities (regression outputs) ``predict_proba``'s
(``predict``'s) to ``ONNX_TOLERANCE``: 1e-6 for a float32 model, 1e-12 for a
float64 one, absolute and relative.  That bound is the export's promise, not
the fast-versus-reference table of conftest (the two compute the same formulas
with different matrix products and libm).

skl2onnx, onnx and onnxruntime are in the ``test`` extra: the suite needs them.
"""

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, numpy_helper
from skl2onnx import to_onnx
from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import shallownet_fast.onnx as snf_onnx
from shallownet_fast import _validation, estimators
from shallownet_fast.estimators import ShallowNetClassifier

from conftest import DTYPE_IDS, DTYPES

ONNX_TOLERANCE = {np.dtype(np.float32): 1e-6, np.dtype(np.float64): 1e-12}
ESTIMATOR_BACKENDS = ["fast", "reference"]
FLOAT_PROTO = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE}


def assert_onnx_close(actual, desired, dtype, what):
    tol = ONNX_TOLERANCE[np.dtype(dtype)]
    actual, desired = np.asarray(actual), np.asarray(desired)
    assert actual.shape == desired.shape, f"{what}: shape {actual.shape} != {desired.shape}"
    np.testing.assert_allclose(actual, desired, rtol=tol, atol=tol, err_msg=what)


def run_onnx(onx, X):
    """The outputs of ONNX Runtime (one thread) on X, by output name."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(onx.SerializeToString(), options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {session.get_inputs()[0].name: X})))


def float_initializers(onx):
    """The floating-point initializers of the graph, as arrays."""
    return [
        numpy_helper.to_array(t)
        for t in onx.graph.initializer
        if t.data_type in (TensorProto.FLOAT, TensorProto.DOUBLE)
    ]


def fit_quietly(model, X, y):
    """fit, ignoring the ConvergenceWarning of a run that reaches max_iter (and nothing else)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def classification_data(n_classes, dtype, seed=0):
    """Training data, and test data spread wider (saturated units, negative pre-activations)."""
    X, y = make_classification(
        n_samples=260, n_features=6, n_informative=4, n_redundant=1, n_classes=n_classes, random_state=seed
    )
    X = X * 2 + 1
    return X[:160].astype(dtype), y[:160], (X[160:] * 2).astype(dtype)


def make_classifier(activation="tanh", backend="fast", **kw):
    kw = {"hidden_layer_sizes": (7,), "max_iter": 40, "learning_rate_init": 0.01, "random_state": 0, **kw}
    return ShallowNetClassifier(activation=activation, backend=backend, **kw)


# ---------------------------------------------------------------- the classifier


def test_every_activation_of_the_estimators_converts():
    assert set(_validation.ACTIVATIONS) <= set(snf_onnx.ACTIVATIONS)


@pytest.mark.parametrize("in_pipeline", [False, True], ids=["estimator", "pipeline"])
@pytest.mark.parametrize("backend", ESTIMATOR_BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("n_classes", [2, 3], ids=["binary", "multiclass"])
@pytest.mark.parametrize("activation", _validation.ACTIVATIONS)
def test_classifier_onnx_equals_estimator(activation, n_classes, dtype, backend, in_pipeline):
    X, y, X_test = classification_data(n_classes, dtype)
    clf = make_classifier(activation, backend)
    model = make_pipeline(StandardScaler(), clf) if in_pipeline else clf
    fit_quietly(model, X, y)
    assert clf.coefs_[0].dtype == dtype

    onx = to_onnx(model, X[:1], options={ShallowNetClassifier: {"zipmap": False}})
    assert all(a.dtype == dtype for a in float_initializers(onx)), "a parameter is not in the model's dtype"
    out = run_onnx(onx, X_test)
    labels, proba = out["label"], out["probabilities"]

    np.testing.assert_array_equal(labels, model.predict(X_test))
    assert proba.dtype == dtype
    assert_onnx_close(proba, model.predict_proba(X_test), dtype, "probabilities")


@pytest.mark.parametrize("zipmap", [True, "columns"])
def test_classifier_zipmap_gives_the_probabilities_by_class(zipmap):
    # ZipMap takes float32 probabilities: a float32 model (columns work in float64 too, see below).
    X, y, X_test = classification_data(3, np.float32)
    y = np.array(["ant", "bee", "cat"])[y]
    clf = fit_quietly(make_classifier("relu"), X, y)
    onx = to_onnx(clf, X[:1], options={ShallowNetClassifier: {"zipmap": zipmap}} if zipmap is not True else None)
    out = run_onnx(onx, X_test)
    expected = clf.predict_proba(X_test)

    np.testing.assert_array_equal(out["output_label"], clf.predict(X_test))
    if zipmap is True:
        rows = out["output_probability"]
        assert [sorted(r) for r in rows] == [["ant", "bee", "cat"]] * len(X_test)
        got = np.array([[r[c] for c in clf.classes_] for r in rows])
        assert_onnx_close(got, expected, np.float32, "zipmap probabilities")
    else:
        got = np.column_stack([out[f"s{c}"] for c in clf.classes_])
        assert_onnx_close(got, expected, np.float32, "probability columns")


def test_classifier_zipmap_columns_in_float64():
    X, y, X_test = classification_data(3, np.float64)
    clf = fit_quietly(make_classifier("relu"), X, y)
    out = run_onnx(to_onnx(clf, X[:1], options={ShallowNetClassifier: {"zipmap": "columns"}}), X_test)
    got = np.column_stack([out[f"i{c}"] for c in clf.classes_])
    assert_onnx_close(got, clf.predict_proba(X_test), np.float64, "probability columns")


def test_classifier_default_zipmap_on_a_double_input_is_refused_clearly():
    X, y, _ = classification_data(3, np.float64)
    clf = fit_quietly(make_classifier("relu"), X, y)
    with pytest.raises(ValueError, match="zipmap.: False"):
        to_onnx(clf, X[:1])


@pytest.mark.parametrize(
    "labels, onnx_labels",
    [
        (np.array([False, True]), np.array([0, 1])),
        (np.array([-3.0, 7.0]), np.array([-3, 7])),
        (np.array([10, 20, 30]), np.array([10, 20, 30])),
        (np.array(["no", "yes"]), np.array(["no", "yes"], dtype=object)),
    ],
    ids=["bool", "whole-floats", "int", "str"],
)
def test_classifier_label_kinds(labels, onnx_labels):
    X, y, X_test = classification_data(len(labels), np.float64)
    clf = fit_quietly(make_classifier("tanh"), X, labels[y])
    out = run_onnx(to_onnx(clf, X[:1], options={ShallowNetClassifier: {"zipmap": False}}), X_test)
    codes = np.searchsorted(clf.classes_, clf.predict(X_test))
    assert len(np.unique(codes)) == len(labels), "the test data should predict every class"
    np.testing.assert_array_equal(out["label"], onnx_labels[codes])


def test_classifier_nocl_and_output_class_labels():
    X, y, X_test = classification_data(3, np.float32)
    y = np.array(["ant", "bee", "cat"])[y]
    clf = fit_quietly(make_classifier("sigmoid"), X, y)
    expected_codes = np.searchsorted(clf.classes_, clf.predict(X_test))

    out = run_onnx(to_onnx(clf, X[:1], options={ShallowNetClassifier: {"zipmap": False, "nocl": True}}), X_test)
    np.testing.assert_array_equal(out["label"], expected_codes)

    opts = {ShallowNetClassifier: {"zipmap": False, "output_class_labels": True}}
    out = run_onnx(to_onnx(clf, X[:1], options=opts), X_test)
    np.testing.assert_array_equal(out["class_labels"], clf.classes_)
    np.testing.assert_array_equal(out["label"], clf.predict(X_test))


def test_classifier_with_non_integral_float_classes_is_refused():
    # fit refuses such labels (they are not classes for scikit-learn): a foreign or altered object.
    X, y, _ = classification_data(2, np.float64)
    clf = fit_quietly(make_classifier(), X, y)
    clf.classes_ = np.array([0.5, 1.5])
    with pytest.raises(ValueError, match="not whole numbers"):
        to_onnx(clf, X[:1], options={ShallowNetClassifier: {"zipmap": False}})


def test_unfitted_classifier_is_refused():
    X, _, _ = classification_data(2, np.float64)
    with pytest.raises(NotFittedError):
        to_onnx(make_classifier(), X[:1])


def test_unknown_activation_is_refused():
    X, y, _ = classification_data(2, np.float64)
    clf = fit_quietly(make_classifier(), X, y)
    clf.activation = "swish"  # as a corrupted or foreign object could hold it
    with pytest.raises(ValueError, match="activation='swish'"):
        to_onnx(clf, X[:1])


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("target_opset", [11, 13, 17, None])
def test_classifier_target_opsets(target_opset, dtype):
    X, y, X_test = classification_data(3, dtype)
    clf = fit_quietly(make_classifier("leaky_relu"), X, y)
    opset = None if target_opset is None else {"": target_opset, "ai.onnx.ml": 1}
    onx = to_onnx(clf, X[:1], target_opset=opset, options={ShallowNetClassifier: {"zipmap": False}})
    if target_opset is not None:
        assert {o.domain: o.version for o in onx.opset_import}[""] <= target_opset
    out = run_onnx(onx, X_test)
    np.testing.assert_array_equal(out["label"], clf.predict(X_test))
    assert_onnx_close(out["probabilities"], clf.predict_proba(X_test), dtype, "probabilities")


def test_float32_network_in_a_double_graph_is_widened_exactly():
    """initial_types with DoubleTensorType: float64 arithmetic on the float32 parameters, as predict on float64 X."""
    X, y, X_test = classification_data(3, np.float32)
    clf = fit_quietly(make_classifier("leaky_relu"), X, y)
    onx = to_onnx(
        clf,
        initial_types=[("features", DoubleTensorType([None, X.shape[1]]))],
        options={ShallowNetClassifier: {"zipmap": False}},
    )
    X64 = X_test.astype(np.float64)
    out = run_onnx(onx, X64)
    np.testing.assert_array_equal(out["label"], clf.predict(X64))
    assert_onnx_close(out["probabilities"], clf.predict_proba(X64), np.float64, "probabilities")


def test_loaded_model_converts(tmp_path):
    X, y, X_test = classification_data(2, np.float64)
    clf = fit_quietly(make_classifier("leaky_relu"), X, y)
    clf.save(tmp_path / "model.npz")
    loaded = ShallowNetClassifier.load(tmp_path / "model.npz")
    out = run_onnx(to_onnx(loaded, X[:1], options={ShallowNetClassifier: {"zipmap": False}}), X_test)
    assert_onnx_close(out["probabilities"], clf.predict_proba(X_test), np.float64, "probabilities")


# ---------------------------------------------------------------- leaky ReLU's slope


def test_leaky_relu_slope_is_a_float64_initializer_in_a_double_model():
    X, y, _ = classification_data(2, np.float64)
    clf = fit_quietly(make_classifier("leaky_relu"), X, y)
    onx = to_onnx(clf, X[:1], options={ShallowNetClassifier: {"zipmap": False}})
    assert not [n for n in onx.graph.node if n.op_type == "LeakyRelu"], "LeakyRelu's float32 alpha is not 0.01"
    slopes = [
        t for t in onx.graph.initializer if t.data_type == TensorProto.DOUBLE and numpy_helper.to_array(t).size == 1
    ]
    assert 0.01 in [numpy_helper.to_array(t).item() for t in slopes]


# ---------------------------------------------------------------- the regressor


class RegressorStandIn(RegressorMixin, BaseEstimator):
    """STAND-IN for ShallowNetRegressor, to be replaced by the real class where it exists.

    It holds the fitted attributes the regressor's converter reads, as
    MLPRegressor names them (``coefs_``, ``intercepts_``, ``activation``,
    ``n_outputs_``, ``out_activation_``); fit draws parameters (in X's dtype)
    instead of training, and predict writes the network's formula out in
    NumPy here, independently of the code under test.
    """

    def __init__(self, activation="relu", hidden_units=7, random_state=0):
        self.activation = activation
        self.hidden_units = hidden_units
        self.random_state = random_state

    def fit(self, X, y):
        X, y = np.asarray(X), np.asarray(y)
        rng = np.random.default_rng(self.random_state)
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        self.coefs_ = [
            (rng.standard_normal((X.shape[1], self.hidden_units)) * 1.5).astype(X.dtype),
            rng.standard_normal((self.hidden_units, n_outputs)).astype(X.dtype),
        ]
        self.intercepts_ = [rng.standard_normal(self.hidden_units).astype(X.dtype), rng.standard_normal(n_outputs)]
        self.intercepts_[1] = self.intercepts_[1].astype(X.dtype)
        self.n_features_in_, self.n_outputs_, self.out_activation_ = X.shape[1], n_outputs, "identity"
        return self

    def predict(self, X):
        X = np.asarray(X)
        W1, W2 = (w.astype(X.dtype) for w in self.coefs_)
        b1, b2 = (b.astype(X.dtype) for b in self.intercepts_)
        Z = X @ W1 + b1
        H = {
            "identity": lambda: Z,
            "logistic": lambda: 1 / (1 + np.exp(-Z)),
            "sigmoid": lambda: 1 / (1 + np.exp(-Z)),
            "tanh": lambda: np.tanh(Z),
            "relu": lambda: np.maximum(Z, 0),
            "leaky_relu": lambda: np.where(Z > 0, Z, Z * X.dtype.type(0.01)),
        }[self.activation]()
        out = H @ W2 + b2
        return out[:, 0] if self.n_outputs_ == 1 else out


snf_onnx._register_regressor(RegressorStandIn)

_REAL_REGRESSOR = getattr(estimators, "ShallowNetRegressor", None)
# (class, activation, backend): the stand-in covers every activation the converter knows, the real class
# (once it exists) every activation it accepts, with both backends.
REGRESSOR_CASES = [(RegressorStandIn, a, None) for a in snf_onnx.ACTIVATIONS]
if _REAL_REGRESSOR is not None:
    REGRESSOR_CASES += [(_REAL_REGRESSOR, a, b) for a in _validation.ACTIVATIONS for b in ESTIMATOR_BACKENDS]


def regression_data(n_outputs, dtype, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((200, 5)) * 2
    y = X[:, :n_outputs] ** 2 - X[:, 1:2] + 0.1 * rng.standard_normal((200, n_outputs))
    return X[:150].astype(dtype), (y[:150, 0] if n_outputs == 1 else y[:150]).astype(dtype), X[150:].astype(dtype)


@pytest.mark.parametrize("in_pipeline", [False, True], ids=["estimator", "pipeline"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize(
    "cls, activation, backend",
    REGRESSOR_CASES,
    ids=["-".join(filter(None, (c.__name__, a, b))) for c, a, b in REGRESSOR_CASES],
)
def test_regressor_onnx_equals_estimator(cls, activation, backend, n_outputs, dtype, in_pipeline):
    X, y, X_test = regression_data(n_outputs, dtype)
    kw = {"activation": activation, "random_state": 0}
    if backend is not None:
        kw.update(backend=backend, hidden_layer_sizes=(7,), max_iter=40, learning_rate_init=0.01)
    reg = cls(**kw)
    model = make_pipeline(StandardScaler(), reg) if in_pipeline else reg
    fit_quietly(model, X, y)
    assert reg.coefs_[0].dtype == dtype

    onx = to_onnx(model, X[:1])
    assert all(a.dtype == dtype for a in float_initializers(onx)), "a parameter is not in the model's dtype"
    (pred,) = run_onnx(onx, X_test).values()
    assert pred.dtype == dtype
    expected = np.reshape(model.predict(X_test), (len(X_test), n_outputs))
    assert_onnx_close(pred, expected, dtype, "predictions")


def test_regressor_float_input_types():
    X, y, X_test = regression_data(2, np.float32)
    reg = RegressorStandIn("leaky_relu").fit(X, y)
    onx = to_onnx(reg, initial_types=[("X", FloatTensorType([None, X.shape[1]]))])
    (pred,) = run_onnx(onx, X_test).values()
    assert pred.shape == (len(X_test), 2)
    assert_onnx_close(pred, reg.predict(X_test), np.float32, "predictions")


# ---------------------------------------------------------------- the README's example


def test_readme_example_runs_as_pasted(tmp_path, monkeypatch):
    readme = Path(__file__).resolve().parents[1] / "README.md"
    text = readme.read_text(encoding="utf-8")
    section = text[text.index("### ONNX export") :]
    code = section[section.index("```python\n") + len("```python\n") :]
    code = code[: code.index("```")]
    monkeypatch.chdir(tmp_path)  # it writes model.onnx
    exec(compile(code, f"{readme} (ONNX export)", "exec"), {"__name__": "readme_example"})
    assert (tmp_path / "model.onnx").stat().st_size > 0


def test_network_of_the_wrong_shape_is_refused():
    X, y, _ = classification_data(2, np.float64)
    clf = fit_quietly(make_classifier(), X, y)
    clf.coefs_ = clf.coefs_ + [clf.coefs_[1]]  # two hidden layers, as MLPClassifier could have
    with pytest.raises(ValueError, match="expected one hidden layer"):
        to_onnx(clf, X[:1], options={ShallowNetClassifier: {"zipmap": False}})


@pytest.mark.parametrize(
    "n_classes, out_activation", [(3, "logistic"), (2, "softmax")], ids=["multilabel-like", "binary-softmax"]
)
def test_output_layer_the_converter_does_not_write_is_refused(n_classes, out_activation):
    X, y, _ = classification_data(n_classes, np.float64)
    clf = fit_quietly(make_classifier(), X, y)
    clf.out_activation_ = out_activation
    with pytest.raises(ValueError, match=f"out_activation_='{out_activation}'"):
        to_onnx(clf, X[:1], options={ShallowNetClassifier: {"zipmap": False}})


def test_import_without_skl2onnx_names_the_extra():
    code = (
        "import sys\n"
        "sys.modules['skl2onnx'] = None  # as if skl2onnx were not installed\n"
        "try:\n"
        "    import shallownet_fast.onnx\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
        "else:\n"
        "    raise SystemExit('no ImportError')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert 'pip install "shallownet_fast[onnx]"' in out.stdout

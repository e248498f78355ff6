"""ONNX export of the shallownet_fast estimators through skl2onnx.

Importing this module registers a shape calculator, a converter and (for the
classifier) skl2onnx's classifier parser for :class:`ShallowNetClassifier`
and :class:`ShallowNetRegressor`, so that :func:`skl2onnx.to_onnx` converts
them alone and inside a :class:`~sklearn.pipeline.Pipeline`::

    import shallownet_fast.onnx  # noqa: F401  (registers the converters)
    from skl2onnx import to_onnx

    onx = to_onnx(estimator, X[:1])  # float32 X: a float model; float64 X: a double one

The graphs follow skl2onnx's converter of MLPClassifier / MLPRegressor
(``skl2onnx/operator_converters/multilayer_perceptron.py``) and compute the
estimators' formulas (:mod:`shallownet_fast._numerics`):

- hidden layer ``H = g(X @ coefs_[0] + intercepts_[0])`` for every activation
  g: identity, logistic (sigmoid), tanh, relu and leaky_relu, the last built
  from ``Where(Z > 0, Z, Z * slope)`` with the slope an initializer of the
  model's float type (ONNX's LeakyRelu holds its slope as a float32 attribute,
  which is not 0.01 in float64);
- output ``Z = H @ coefs_[1] + intercepts_[1]``;
- classifier: probabilities ``[sigmoid(-z), sigmoid(z)]`` for two classes (one
  output unit), ``softmax(Z)`` otherwise; the label is the class of the
  largest logit (``z > 0`` for two classes), as ``predict`` chooses it.
  skl2onnx's options ``zipmap`` (True, False, "columns"), ``nocl`` and
  ``output_class_labels`` work as for MLPClassifier (ONNX's ZipMap takes
  float32 only: a double model needs ``zipmap=False`` or ``"columns"``, and
  converting one with the default ``zipmap=True`` raises ValueError where
  skl2onnx would write a graph ONNX Runtime refuses);
- regressor: ``Z`` itself (identity output), of shape (N, n_outputs_).

A float input (``FloatTensorType``) gives a float32 graph, a double input
(``DoubleTensorType``) a float64 graph; the parameters are stored in the
graph's type.

skl2onnx, onnx (and onnxruntime, to run the models) are optional dependencies:
``pip install "shallownet_fast[onnx]"``.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from . import estimators as _estimators
from ._numerics import LEAKY_SLOPE
from .estimators import ShallowNetClassifier

_INSTALL_HINT = (
    'shallownet_fast.onnx needs skl2onnx and onnx, which are not installed: pip install "shallownet_fast[onnx]"'
)

try:
    from skl2onnx import update_registered_converter
    from skl2onnx._parse import _parse_sklearn_classifier
    from skl2onnx.common._apply_operation import (
        apply_add,
        apply_cast,
        apply_concat,
        apply_identity,
        apply_reshape,
    )
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        guess_proto_type,
    )
    from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes
    from skl2onnx.common.utils import check_input_and_output_numbers, check_input_and_output_types
    from skl2onnx.common.utils_classifier import get_label_classes
    from skl2onnx.proto import onnx_proto
except ImportError as exc:  # pragma: no cover - exercised only without the optional dependency
    raise ImportError(_INSTALL_HINT) from exc

# The regressor, where this version of the package has it.
ShallowNetRegressor = getattr(_estimators, "ShallowNetRegressor", None)

__all__ = ["ACTIVATIONS", "CLASSIFIER_ALIAS", "REGRESSOR_ALIAS"]

# The hidden activations the converters know ("logistic" is "sigmoid"'s scikit-learn name).
ACTIVATIONS = ("identity", "logistic", "sigmoid", "tanh", "relu", "leaky_relu")

CLASSIFIER_ALIAS = "ShallowNetFastClassifier"
REGRESSOR_ALIAS = "ShallowNetFastRegressor"

# Options of the classifier's converter: those of skl2onnx's MLPClassifier converter,
# all handled by skl2onnx's classifier parser and get_label_classes.
CLASSIFIER_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "output_class_labels": [False, True],
    "nocl": [True, False],
}


# ---------------------------------------------------------------- the network


def _proto_dtype(operator):
    """DOUBLE for a double input, FLOAT for any other (as skl2onnx's MLP converters choose)."""
    proto_dtype = guess_proto_type(operator.inputs[0].type)
    return (
        onnx_proto.TensorProto.DOUBLE if proto_dtype == onnx_proto.TensorProto.DOUBLE else onnx_proto.TensorProto.FLOAT
    )


def _numpy_dtype(proto_dtype):
    return np.float64 if proto_dtype == onnx_proto.TensorProto.DOUBLE else np.float32


def _check_model(model):
    """The fitted model's activation and layer shapes, checked before any node is written."""
    check_is_fitted(model)
    if model.activation not in ACTIVATIONS:
        raise ValueError(
            f"{type(model).__name__} with activation={model.activation!r} cannot be converted to ONNX: "
            f"the converter knows {ACTIVATIONS}"
        )
    coef_shapes = [np.shape(c) for c in model.coefs_]
    intercept_shapes = [np.shape(b) for b in model.intercepts_]
    one_hidden_layer = (
        len(coef_shapes) == 2
        and all(len(shape) == 2 for shape in coef_shapes)
        and coef_shapes[1][0] == coef_shapes[0][1]
        and intercept_shapes == [(coef_shapes[0][1],), (coef_shapes[1][1],)]
    )
    if not one_hidden_layer:
        raise ValueError(
            f"{type(model).__name__} has coefs_ of shapes {coef_shapes} and intercepts_ of shapes "
            f"{intercept_shapes}: expected one hidden layer"
        )


def _initializer(scope, container, name, proto_dtype, array):
    """A named constant of the graph's float type (float32 parameters are widened exactly in a double graph)."""
    array = np.asarray(array, dtype=_numpy_dtype(proto_dtype))
    unique = scope.get_unique_variable_name(name)
    container.add_initializer(unique, proto_dtype, list(array.shape), array.ravel())
    return unique


def _dense(scope, container, input_name, W, b, proto_dtype):
    """input @ W + b."""
    product = scope.get_unique_variable_name("mul_result")
    total = scope.get_unique_variable_name("add_result")
    W_name = _initializer(scope, container, "coefficient", proto_dtype, W)
    b_name = _initializer(scope, container, "intercepts", proto_dtype, np.reshape(b, (1, -1)))
    container.add_node("MatMul", [input_name, W_name], product, name=scope.get_unique_operator_name("MatMul"))
    apply_add(scope, [product, b_name], total, container, broadcast=1)
    return total


def _activate(scope, container, Z, activation, proto_dtype):
    """g(Z) for the hidden activation g, as :func:`shallownet_fast._numerics.activate` computes it."""
    if activation == "identity":
        return Z
    A = scope.get_unique_variable_name("next_activations")
    if activation in ("logistic", "sigmoid"):
        container.add_node("Sigmoid", Z, A, name=scope.get_unique_operator_name("Sigmoid"))
    elif activation == "tanh":
        container.add_node("Tanh", Z, A, name=scope.get_unique_operator_name("Tanh"))
    elif activation == "relu":
        container.add_node("Relu", Z, A, name=scope.get_unique_operator_name("Relu"))
    else:  # leaky_relu: where(Z > 0, Z, Z * slope), the slope in the graph's float type
        zero = _initializer(scope, container, "zero", proto_dtype, 0.0)
        slope = _initializer(scope, container, "leaky_slope", proto_dtype, LEAKY_SLOPE)
        positive = scope.get_unique_variable_name("positive")
        scaled = scope.get_unique_variable_name("scaled")
        container.add_node("Greater", [Z, zero], positive, name=scope.get_unique_operator_name("Greater"))
        container.add_node("Mul", [Z, slope], scaled, name=scope.get_unique_operator_name("Mul"))
        container.add_node("Where", [positive, Z, scaled], A, name=scope.get_unique_operator_name("Where"))
    return A


def _logits(scope, operator, container, proto_dtype):
    """Z = g(X @ coefs_[0] + intercepts_[0]) @ coefs_[1] + intercepts_[1], of shape (N, n_outputs)."""
    model = operator.raw_operator
    X = scope.get_unique_variable_name("cast_input")
    apply_cast(scope, operator.inputs[0].full_name, X, container, to=proto_dtype)
    Z1 = _dense(scope, container, X, model.coefs_[0], model.intercepts_[0], proto_dtype)
    A1 = _activate(scope, container, Z1, model.activation, proto_dtype)
    return _dense(scope, container, A1, model.coefs_[1], model.intercepts_[1], proto_dtype)


# ---------------------------------------------------------------- the classifier


def _label_classes(scope, model):
    """The classes as the label output holds them: (array, INT64 or STRING)."""
    classes = np.asarray(get_label_classes(scope, model))
    if classes.dtype == np.bool_ or np.issubdtype(classes.dtype, np.integer):
        return classes.astype(np.int64), onnx_proto.TensorProto.INT64
    if np.issubdtype(classes.dtype, np.floating):
        if not np.all(classes == np.round(classes)):
            raise ValueError(
                f"classes_ {classes!r} are not whole numbers: the ONNX label output of a classifier is int64 "
                "or string (skl2onnx's convention); fit on integer or string labels to export"
            )
        return classes.astype(np.int64), onnx_proto.TensorProto.INT64
    return np.array([str(c).encode("utf-8") for c in classes]), onnx_proto.TensorProto.STRING


def _parse_classifier(scope, model, inputs, custom_parsers=None):
    """skl2onnx's classifier parser (labels, probabilities, zipmap), after checking that `model` converts."""
    _check_model(model)
    out_activation = getattr(model, "out_activation_", None)
    n_outputs = np.shape(model.coefs_[1])[1]
    n_classes = len(model.classes_) if np.ndim(model.classes_) == 1 else None
    binary = out_activation == "logistic" and n_classes == 2 and n_outputs == 1
    multiclass = out_activation == "softmax" and n_classes is not None and n_classes == n_outputs >= 3
    if not (binary or multiclass):
        raise ValueError(
            f"{type(model).__name__} with out_activation_={out_activation!r}, {n_outputs} output unit(s) and "
            f"classes_ of shape {np.shape(model.classes_)} cannot be converted to ONNX: the converter handles "
            "two classes (one logistic unit) and more classes (a softmax over one unit per class)"
        )
    zipmap = scope.get_options(model, {"zipmap": True})["zipmap"]
    if zipmap is True and isinstance(inputs[0].type, DoubleTensorType):
        raise ValueError(
            "ONNX's ZipMap takes float32 probabilities only, and this model's input is double: convert with "
            f"options={{{type(model).__name__}: {{'zipmap': False}}}} (probabilities as a float64 tensor) or "
            "{'zipmap': 'columns'}, or give the model a float32 input"
        )
    return _parse_sklearn_classifier(scope, model, inputs, custom_parsers=custom_parsers)


def _convert_classifier(scope, operator, container):
    """Labels (output 0) and probabilities (output 1) of a fitted ShallowNetClassifier."""
    model = operator.raw_operator
    proto_dtype = _proto_dtype(operator)
    Z = _logits(scope, operator, container, proto_dtype)
    n_outputs = np.shape(model.coefs_[1])[1]
    probabilities = operator.outputs[1].full_name
    index = scope.get_unique_variable_name("class_index")
    if n_outputs == 1:
        # Two classes: [sigmoid(-z), sigmoid(z)] as predict_proba; the label is classes_[z > 0] as predict.
        minus_Z = scope.get_unique_variable_name("minus_logits")
        p0 = scope.get_unique_variable_name("negative_class_proba")
        p1 = scope.get_unique_variable_name("positive_class_proba")
        container.add_node("Neg", Z, minus_Z, name=scope.get_unique_operator_name("Neg"))
        container.add_node("Sigmoid", minus_Z, p0, name=scope.get_unique_operator_name("Sigmoid"))
        container.add_node("Sigmoid", Z, p1, name=scope.get_unique_operator_name("Sigmoid"))
        apply_concat(scope, [p0, p1], probabilities, container, axis=1)
        zero = _initializer(scope, container, "zero", proto_dtype, 0.0)
        positive = scope.get_unique_variable_name("positive")
        container.add_node("Greater", [Z, zero], positive, name=scope.get_unique_operator_name("Greater"))
        apply_cast(scope, positive, index, container, to=onnx_proto.TensorProto.INT64)
    else:
        # Softmax over the classes; the label is the class of the largest logit (argmax, first on ties).
        container.add_node("Softmax", Z, probabilities, axis=1, name=scope.get_unique_operator_name("Softmax"))
        container.add_node("ArgMax", Z, index, axis=1, name=scope.get_unique_operator_name("ArgMax"))
    classes, class_type = _label_classes(scope, model)
    classes_name = scope.get_unique_variable_name("classes")
    container.add_initializer(classes_name, class_type, list(classes.shape), classes.tolist())
    labels = scope.get_unique_variable_name("array_feature_extractor_result")
    container.add_node(
        "ArrayFeatureExtractor",
        [classes_name, index],
        labels,
        op_domain="ai.onnx.ml",
        name=scope.get_unique_operator_name("ArrayFeatureExtractor"),
    )
    apply_reshape(scope, labels, operator.outputs[0].full_name, container, desired_shape=(-1,))


# ---------------------------------------------------------------- the regressor


def _regressor_shapes(operator):
    """[N, C] -> [N, n_outputs_], in the input's float type (float for any other)."""
    model = operator.raw_operator
    _check_model(model)
    if getattr(model, "out_activation_", "identity") != "identity":
        raise ValueError(
            f"{type(model).__name__} with out_activation_={model.out_activation_!r} cannot be converted to ONNX: "
            "the regressor's converter writes the identity output"
        )
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
    check_input_and_output_types(operator, good_input_types=[DoubleTensorType, FloatTensorType, Int64TensorType])
    cls_type = DoubleTensorType if isinstance(operator.inputs[0].type, DoubleTensorType) else FloatTensorType
    N = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = cls_type([N, np.shape(model.coefs_[1])[1]])


def _convert_regressor(scope, operator, container):
    """The predictions (N, n_outputs_) of a fitted ShallowNetRegressor: the output layer's Z."""
    Z = _logits(scope, operator, container, _proto_dtype(operator))
    apply_identity(scope, Z, operator.outputs[0].full_name, container)


# ---------------------------------------------------------------- registration


def _register_classifier(cls):
    update_registered_converter(
        cls,
        CLASSIFIER_ALIAS,
        calculate_linear_classifier_output_shapes,
        _convert_classifier,
        parser=_parse_classifier,
        options=CLASSIFIER_OPTIONS,
    )


def _register_regressor(cls):
    update_registered_converter(cls, REGRESSOR_ALIAS, _regressor_shapes, _convert_regressor)


_register_classifier(ShallowNetClassifier)
if ShallowNetRegressor is not None:
    _register_regressor(ShallowNetRegressor)

"""Bad inputs raise the documented error, naming the argument, in both backends.

Each case is (id, call, exception, match): `call(backend)` must raise
`exception` with a message matching `match` (which always contains the
argument's name).  A last group checks the numerically extreme but valid
inputs: they must not raise, warn, or produce NaN.
"""

import warnings

import numpy as np
import pytest

from shallownet_fast import _validation

from conftest import ACTIVATIONS, CACHE_KEYS, GRAD_KEYS, PARAM_KEYS, make_parameters, reference

N_X, N_H, M = 3, 4, 6
# NumPy's default floating-point error handling (underflow to 0 is not an error);
# with warnings turned into errors, overflow or an invalid operation would raise.
NUMPY_DEFAULT_ERRSTATE = {"over": "warn", "divide": "warn", "invalid": "warn", "under": "ignore"}


def _data():
    X = np.random.default_rng(50).standard_normal((N_X, M))
    Y = np.array([[0, 1, 1, 0, 1, 0]], dtype=np.float64)
    Y3 = np.eye(3)[:, [0, 1, 2, 2, 1, 0]]
    return X, Y, Y3


def _params(n_y=1):
    return make_parameters(51, N_X, N_H, n_y)


def _with(d, **changes):
    out = {k: v.copy() for k, v in d.items()}
    out.update(changes)
    return out


def _without(d, key):
    return {k: v for k, v in d.items() if k != key}


def _cache(params, X):
    return reference.forward_propagation(X, params)[1]


def _grads(params):
    return {"d" + k: np.full_like(v, 0.1) for k, v in params.items()}


def _poisoned(a, value):
    out = np.array(a, dtype=np.float64, copy=True)
    out.flat[out.size // 2] = value
    return out


X, Y, Y3 = _data()
P = _params()
P3 = _params(3)
C = _cache(P, X)
G = _grads(P)

CASES = []


def case(id, call, exc, match):
    CASES.append(pytest.param(call, exc, match, id=id))


# ---------------------------------------------------------------- dimensions
for bad_x, name in [(X[0], "1d"), (X[None], "3d"), (np.float64(1.0), "0d")]:
    case(f"X-{name}-forward", lambda b, bx=bad_x: b.forward_propagation(bx, P), ValueError, "X must have 2 dimensions")
    case(f"X-{name}-nn_model", lambda b, bx=bad_x: b.nn_model(bx, Y, N_H, 1), ValueError, "X must have 2 dimensions")
    case(f"X-{name}-predict", lambda b, bx=bad_x: b.predict(P, bx), ValueError, "X must have 2 dimensions")
    case(f"X-{name}-layer_sizes", lambda b, bx=bad_x: b.layer_sizes(bx, Y), ValueError, "X must have 2 dimensions")
    case(f"X-{name}-backward", lambda b, bx=bad_x: b.backward_propagation(P, C, bx, Y), ValueError, "X must have 2")
for bad_y, name in [(Y[0], "1d"), (Y[None], "3d")]:
    case(f"Y-{name}-nn_model", lambda b, by=bad_y: b.nn_model(X, by, N_H, 1), ValueError, "Y must have 2 dimensions")
    case(f"Y-{name}-layer_sizes", lambda b, by=bad_y: b.layer_sizes(X, by), ValueError, "Y must have 2 dimensions")
    case(f"Y-{name}-backward", lambda b, by=bad_y: b.backward_propagation(P, C, X, by), ValueError, "Y must have 2")
    case(f"Y-{name}-cost", lambda b, by=bad_y: b.compute_cost(C["A2"], by), ValueError, "Y must have 2 dimensions")
case("A2-1d-cost", lambda b: b.compute_cost(C["A2"][0], Y), ValueError, "A2 must have 2 dimensions")
for k in PARAM_KEYS:
    bad = _with(P, **{k: P[k].ravel()})
    case(f"{k}-1d-forward", lambda b, p=bad: b.forward_propagation(X, p), ValueError, f"{k} must have 2 dimensions")
    case(f"{k}-1d-nn_model", lambda b, p=bad: b.nn_model(X, Y, N_H, 1, parameters=p), ValueError, f"{k} must have 2")
    case(f"{k}-1d-update", lambda b, p=bad: b.update_parameters(p, G), ValueError, f"{k} must have 2 dimensions")
    bad3 = _with(P, **{k: P[k][None]})
    case(f"{k}-3d-predict", lambda b, p=bad3: b.predict(p, X), ValueError, f"{k} must have 2 dimensions")
for k in GRAD_KEYS:
    bad = _with(G, **{k: G[k].ravel()})
    case(f"{k}-1d-update", lambda b, g=bad: b.update_parameters(P, g), ValueError, f"{k} must have 2 dimensions")

# ---------------------------------------------------------------- shapes
case("XY-columns-nn_model", lambda b: b.nn_model(X, Y[:, :-1], N_H, 1), ValueError, "X and Y")
case("XY-columns-layer_sizes", lambda b: b.layer_sizes(X[:, :-1], Y), ValueError, "X and Y")
case("XY-columns-backward", lambda b: b.backward_propagation(P, C, X, Y[:, :-1]), ValueError, "X and Y")
case("A2Y-shape-cost", lambda b: b.compute_cost(C["A2"], Y3), ValueError, "A2 and Y")
case("A2Y-columns-cost", lambda b: b.compute_cost(C["A2"][:, :-1], Y), ValueError, "Y")
bad_b1 = _with(P, b1=np.zeros((N_H + 1, 1)))
case("b1-rows-forward", lambda b: b.forward_propagation(X, bad_b1), ValueError, "b1 must have shape")
case("b1-rows-nn_model", lambda b: b.nn_model(X, Y, N_H, 1, parameters=bad_b1), ValueError, "b1 must have shape")
bad_b1_row = _with(P, b1=np.zeros((1, N_H)))
case("b1-transposed-forward", lambda b: b.forward_propagation(X, bad_b1_row), ValueError, "b1 must have shape")
bad_b1_wide = _with(P, b1=np.zeros((N_H, M)))
case("b1-per-example-forward", lambda b: b.forward_propagation(X, bad_b1_wide), ValueError, "b1 must have shape")
bad_W2 = _with(P, W2=np.zeros((1, N_H + 1)))
case("W2-columns-forward", lambda b: b.forward_propagation(X, bad_W2), ValueError, "W2 must have shape")
case("W2-columns-update", lambda b: b.update_parameters(bad_W2, G), ValueError, "W2 must have shape")
case("W2-columns-predict", lambda b: b.predict(bad_W2, X), ValueError, "W2 must have shape")
bad_b2 = _with(P, b2=np.zeros((2, 1)))
case("b2-rows-forward", lambda b: b.forward_propagation(X, bad_b2), ValueError, "b2 must have shape")
case("W1-columns-forward", lambda b: b.forward_propagation(X[:-1], P), ValueError, "W1")
case("W1-columns-predict", lambda b: b.predict(P, X[:-1]), ValueError, "W1")
case("W1-columns-backward", lambda b: b.backward_propagation(P, C, X[:-1], Y), ValueError, "W1")
case("W1-columns-nn_model", lambda b: b.nn_model(X[:-1], Y, N_H, 1, parameters=P), ValueError, "W1")
case("W1-empty-forward", lambda b: b.forward_propagation(X[:0], _with(P, W1=np.zeros((N_H, 0)))), ValueError, "W1")
case("W2-rows-nn_model", lambda b: b.nn_model(X, Y3, N_H, 1, parameters=P), ValueError, "W2")
case("W2-rows-backward", lambda b: b.backward_propagation(P, C, X, Y3), ValueError, "W2")
case("n_h-vs-parameters-nn_model", lambda b: b.nn_model(X, Y, N_H + 1, 1, parameters=P), ValueError, "n_h")
case("dW1-shape-update", lambda b: b.update_parameters(P, _with(G, dW1=G["dW1"].T)), ValueError, "dW1")
case("db2-shape-update", lambda b: b.update_parameters(P, _with(G, db2=np.zeros((2, 1)))), ValueError, "db2")
case("cache-Z1-shape", lambda b: b.backward_propagation(P, _with(C, Z1=C["Z1"][:, :-1]), X, Y), ValueError, "Z1")
case("cache-A1-shape", lambda b: b.backward_propagation(P, _with(C, A1=C["A1"][:-1]), X, Y), ValueError, "A1")
case("cache-A2-shape", lambda b: b.backward_propagation(P, _with(C, A2=C["A2"][:, :-1]), X, Y), ValueError, "A2")

# ---------------------------------------------------------------- empty batches
X0, Y0 = np.zeros((N_X, 0)), np.zeros((1, 0))
case("m0-nn_model", lambda b: b.nn_model(X0, Y0, N_H, 1), ValueError, "X must not be empty")
case("m0-backward", lambda b: b.backward_propagation(P, _cache(P, X0), X0, Y0), ValueError, "X must not be empty")
case("m0-cost", lambda b: b.compute_cost(np.zeros((1, 0)), Y0), ValueError, "A2")

# ---------------------------------------------------------------- non-finite values
for value, vname in [(np.nan, "nan"), (np.inf, "inf"), (-np.inf, "-inf")]:
    Xp, Yp = _poisoned(X, value), _poisoned(Y, value)
    case(f"X-{vname}-forward", lambda b, x=Xp: b.forward_propagation(x, P), ValueError, "X must contain only finite")
    case(f"X-{vname}-nn_model", lambda b, x=Xp: b.nn_model(x, Y, N_H, 1), ValueError, "X must contain only finite")
    case(f"X-{vname}-predict", lambda b, x=Xp: b.predict(P, x), ValueError, "X must contain only finite")
    case(f"X-{vname}-backward", lambda b, x=Xp: b.backward_propagation(P, C, x, Y), ValueError, "X must contain")
    case(f"Y-{vname}-nn_model", lambda b, y=Yp: b.nn_model(X, y, N_H, 1), ValueError, "Y must contain only finite")
    case(f"Y-{vname}-backward", lambda b, y=Yp: b.backward_propagation(P, C, X, y), ValueError, "Y must contain")
    case(f"Y-{vname}-cost", lambda b, y=Yp: b.compute_cost(C["A2"], y), ValueError, "Y must contain only finite")
    case(f"Y-{vname}-layer_sizes", lambda b, y=Yp: b.layer_sizes(X, y), ValueError, "Y must contain only finite")
    a2 = _poisoned(C["A2"], value)
    case(f"A2-{vname}-cost", lambda b, a=a2: b.compute_cost(a, Y), ValueError, "A2 must contain")
    for k in PARAM_KEYS:
        bad = _with(P, **{k: _poisoned(P[k], value)})
        case(f"{k}-{vname}-forward", lambda b, p=bad: b.forward_propagation(X, p), ValueError, f"{k} must contain")
        case(f"{k}-{vname}-nn_model", lambda b, p=bad: b.nn_model(X, Y, N_H, 1, parameters=p), ValueError, f"{k} must")
        case(f"{k}-{vname}-backward", lambda b, p=bad: b.backward_propagation(p, C, X, Y), ValueError, f"{k} must")
        case(f"{k}-{vname}-update", lambda b, p=bad: b.update_parameters(p, G), ValueError, f"{k} must contain")
        case(f"{k}-{vname}-predict", lambda b, p=bad: b.predict(p, X), ValueError, f"{k} must contain")
    for k in GRAD_KEYS:
        bad = _with(G, **{k: _poisoned(G[k], value)})
        case(f"{k}-{vname}-update", lambda b, g=bad: b.update_parameters(P, g), ValueError, f"{k} must contain")
    for k in CACHE_KEYS:
        bad = _with(C, **{k: _poisoned(C[k], value)})
        case(f"cache-{k}-{vname}", lambda b, c=bad: b.backward_propagation(P, c, X, Y), ValueError, f"{k} must contain")
Xp32 = _poisoned(X, np.nan).astype(np.float32)
case("X-nan-float32-nn_model", lambda b: b.nn_model(Xp32, Y, N_H, 1), ValueError, "X must contain only finite")

# ---------------------------------------------------------------- labels
for label, lname in [(2, "2"), (-1, "-1"), (0.5, "0.5")]:
    bad_y = _poisoned(Y, label)
    case(
        f"Y-label-{lname}-nn_model", lambda b, y=bad_y: b.nn_model(X, y, N_H, 1), ValueError, "Y must contain only the"
    )
    case(f"Y-label-{lname}-backward", lambda b, y=bad_y: b.backward_propagation(P, C, X, y), ValueError, "Y must")
    case(f"Y-label-{lname}-cost", lambda b, y=bad_y: b.compute_cost(C["A2"], y), ValueError, "Y must contain only the")
    case(f"Y-label-{lname}-layer_sizes", lambda b, y=bad_y: b.layer_sizes(X, y), ValueError, "Y must contain only the")
Y_int2 = np.array([[0, 1, 2, 0, 1, 0]], dtype=np.int64)
case("Y-int-label-2-nn_model", lambda b: b.nn_model(X, Y_int2, N_H, 1), ValueError, "Y must contain only the labels")
two_ones = Y3.copy()
two_ones[:, 0] = [1, 1, 0]
no_one = Y3.copy()
no_one[:, 0] = 0
for bad_y, yname in [(two_ones, "two-ones"), (no_one, "no-one")]:
    case(f"Y-{yname}-nn_model", lambda b, y=bad_y: b.nn_model(X, y, N_H, 1), ValueError, "Y .*one-hot")
    C3 = _cache(P3, X)
    case(f"Y-{yname}-backward", lambda b, y=bad_y, c=C3: b.backward_propagation(P3, c, X, y), ValueError, "Y .*one-hot")
    case(f"Y-{yname}-cost", lambda b, y=bad_y: b.compute_cost(np.full((3, M), 1 / 3), y), ValueError, "Y .*one-hot")
    case(f"Y-{yname}-layer_sizes", lambda b, y=bad_y: b.layer_sizes(X, y), ValueError, "Y .*one-hot")
case("Y-no-rows-nn_model", lambda b: b.nn_model(X, np.zeros((0, M)), N_H, 1), ValueError, "Y")

# ---------------------------------------------------------------- sizes and counts
for n_h in (0, -1):
    case(f"n_h-{n_h}-nn_model", lambda b, n=n_h: b.nn_model(X, Y, n, 1), ValueError, "n_h must be at least 1")
    case(f"n_h-{n_h}-layer_sizes", lambda b, n=n_h: b.layer_sizes(X, Y, n), ValueError, "n_h must be at least 1")
    case(f"n_h-{n_h}-init", lambda b, n=n_h: b.initialize_parameters(2, n, 1), ValueError, "n_h must be at least 1")
    case(f"n_x-{n_h}-init", lambda b, n=n_h: b.initialize_parameters(n, 2, 1), ValueError, "n_x must be at least 1")
    case(f"n_y-{n_h}-init", lambda b, n=n_h: b.initialize_parameters(2, 2, n), ValueError, "n_y must be at least 1")
for n_h, tname in [(2.0, "float"), (True, "bool"), ("4", "str"), (None, "None")]:
    case(f"n_h-{tname}-nn_model", lambda b, n=n_h: b.nn_model(X, Y, n, 1), TypeError, "n_h must be an integer")
    case(f"n_h-{tname}-layer_sizes", lambda b, n=n_h: b.layer_sizes(X, Y, n), TypeError, "n_h must be an integer")
    case(f"n_x-{tname}-init", lambda b, n=n_h: b.initialize_parameters(n, 2, 1), TypeError, "n_x must be an integer")
for it in (-1, -1000):
    case(
        f"num_iterations-{it}",
        lambda b, i=it: b.nn_model(X, Y, N_H, i),
        ValueError,
        "num_iterations must be at least 0",
    )
for it, tname in [(10.0, "float"), (None, "None"), (False, "bool")]:
    case(
        f"num_iterations-{tname}",
        lambda b, i=it: b.nn_model(X, Y, N_H, i),
        TypeError,
        "num_iterations must be an integer",
    )
for n_threads in (0, -2):
    case(
        f"n_threads-{n_threads}", lambda b, t=n_threads: b.nn_model(X, Y, N_H, 1, n_threads=t), ValueError, "n_threads"
    )
case("n_threads-float", lambda b: b.nn_model(X, Y, N_H, 1, n_threads=2.0), TypeError, "n_threads")

# ---------------------------------------------------------------- learning rate
for lr, lname in [(0, "0"), (0.0, "0.0"), (-1, "-1"), (np.nan, "nan"), (np.inf, "inf"), (-np.inf, "-inf")]:
    case(f"lr-{lname}-nn_model", lambda b, r=lr: b.nn_model(X, Y, N_H, 1, learning_rate=r), ValueError, "learning_rate")
    case(f"lr-{lname}-update", lambda b, r=lr: b.update_parameters(P, G, learning_rate=r), ValueError, "learning_rate")
for lr, lname in [("0.1", "str"), (None, "None"), (True, "bool"), (1 + 0j, "complex"), (np.array([0.1]), "array")]:
    case(f"lr-{lname}-nn_model", lambda b, r=lr: b.nn_model(X, Y, N_H, 1, learning_rate=r), TypeError, "learning_rate")
    case(f"lr-{lname}-update", lambda b, r=lr: b.update_parameters(P, G, r), TypeError, "learning_rate")

# ---------------------------------------------------------------- activation and init
for act in ("softmax", "Tanh", "", None):
    case(
        f"activation-{act}-forward",
        lambda b, a=act: b.forward_propagation(X, P, activation=a),
        ValueError,
        "activation",
    )
    case(
        f"activation-{act}-backward",
        lambda b, a=act: b.backward_propagation(P, C, X, Y, activation=a),
        ValueError,
        "activation",
    )
    case(
        f"activation-{act}-nn_model", lambda b, a=act: b.nn_model(X, Y, N_H, 1, activation=a), ValueError, "activation"
    )
    case(f"activation-{act}-predict", lambda b, a=act: b.predict(P, X, activation=a), ValueError, "activation")
for init in ("uniform", "Zeros", "", None):
    case(
        f"init-{init}-init",
        lambda b, i=init: b.initialize_parameters(2, 3, 1, init=i),
        ValueError,
        "init must be one of",
    )
    case(f"init-{init}-nn_model", lambda b, i=init: b.nn_model(X, Y, N_H, 1, init=i), ValueError, "init must be one of")
for scale in (-0.1, np.nan, np.inf):
    case(f"scale-{scale}", lambda b, s=scale: b.initialize_parameters(2, 3, 1, scale=s), ValueError, "scale")
for dt in (np.int32, np.int64, np.float16, np.complex128, bool, "U3"):
    case(f"dtype-{np.dtype(dt).name}", lambda b, d=dt: b.initialize_parameters(2, 3, 1, dtype=d), TypeError, "dtype")

# ---------------------------------------------------------------- dicts and keys
for k in PARAM_KEYS:
    short = _without(P, k)
    case(f"missing-{k}-forward", lambda b, p=short: b.forward_propagation(X, p), ValueError, "parameters is missing")
    case(f"missing-{k}-update", lambda b, p=short: b.update_parameters(p, G), ValueError, "parameters is missing")
    case(f"missing-{k}-nn_model", lambda b, p=short: b.nn_model(X, Y, N_H, 1, parameters=p), ValueError, "parameters")
    case(f"missing-{k}-predict", lambda b, p=short: b.predict(p, X), ValueError, "parameters is missing")
    case(
        f"missing-{k}-backward",
        lambda b, p=short: b.backward_propagation(p, C, X, Y),
        ValueError,
        "parameters is missing",
    )
for k in GRAD_KEYS:
    short = _without(G, k)
    case(f"missing-{k}-update", lambda b, g=short: b.update_parameters(P, g), ValueError, "grads is missing")
for k in CACHE_KEYS:
    short = _without(C, k)
    case(f"missing-cache-{k}", lambda b, c=short: b.backward_propagation(P, c, X, Y), ValueError, "cache is missing")
for bad, tname in [([P["W1"], P["b1"], P["W2"], P["b2"]], "list"), (None, "None"), (P["W1"], "array")]:
    case(
        f"parameters-{tname}-forward",
        lambda b, p=bad: b.forward_propagation(X, p),
        TypeError,
        "parameters must be a dict",
    )
    case(
        f"parameters-{tname}-update", lambda b, p=bad: b.update_parameters(p, G), TypeError, "parameters must be a dict"
    )
    case(f"grads-{tname}-update", lambda b, g=bad: b.update_parameters(P, g), TypeError, "grads must be a dict")
    case(
        f"cache-{tname}-backward",
        lambda b, c=bad: b.backward_propagation(P, c, X, Y),
        TypeError,
        "cache must be a dict",
    )
case(
    "parameters-list-nn_model", lambda b: b.nn_model(X, Y, N_H, 1, parameters=list(P.values())), TypeError, "parameters"
)

# ---------------------------------------------------------------- dtypes and types
BAD_ARRAYS = [
    (X.astype(np.complex128), "complex", "must be real"),
    (X.astype(object), "object", "must be numeric"),
    (X.astype(str), "str-array", "must be numeric"),
    ("abc", "str", "must be a numeric array"),
    (b"abc", "bytes", "must be a numeric array"),
    ({"a": 1}, "dict", "must be a numeric array"),
    (None, "None", "must be an array"),
]
for bad, tname, what in BAD_ARRAYS:
    case(f"X-{tname}-forward", lambda b, x=bad: b.forward_propagation(x, P), TypeError, f"X {what}")
    case(f"X-{tname}-nn_model", lambda b, x=bad: b.nn_model(x, Y, N_H, 1), TypeError, f"X {what}")
    case(f"X-{tname}-predict", lambda b, x=bad: b.predict(P, x), TypeError, f"X {what}")
    case(f"X-{tname}-layer_sizes", lambda b, x=bad: b.layer_sizes(x, Y), TypeError, f"X {what}")
    case(f"X-{tname}-backward", lambda b, x=bad: b.backward_propagation(P, C, x, Y), TypeError, f"X {what}")
    case(f"Y-{tname}-nn_model", lambda b, y=bad: b.nn_model(X, y, N_H, 1), TypeError, f"Y {what}")
    case(f"Y-{tname}-cost", lambda b, y=bad: b.compute_cost(C["A2"], y), TypeError, f"Y {what}")
    case(f"A2-{tname}-cost", lambda b, a=bad: b.compute_cost(a, Y), TypeError, f"A2 {what}")
for k in PARAM_KEYS:
    for conv, tname, what in [(np.complex128, "complex", "must be real"), (object, "object", "must be numeric")]:
        bad = _with(P, **{k: P[k].astype(conv)})
        case(f"{k}-{tname}-forward", lambda b, p=bad: b.forward_propagation(X, p), TypeError, f"{k} {what}")
        case(f"{k}-{tname}-nn_model", lambda b, p=bad: b.nn_model(X, Y, N_H, 1, parameters=p), TypeError, f"{k} {what}")
        case(f"{k}-{tname}-update", lambda b, p=bad: b.update_parameters(p, G), TypeError, f"{k} {what}")
    case(
        f"{k}-None-forward", lambda b, kk=k: b.forward_propagation(X, _with(P, **{kk: None})), TypeError, f"{k} must be"
    )
for k in GRAD_KEYS:
    bad = _with(G, **{k: G[k].astype(np.complex64)})
    case(f"{k}-complex-update", lambda b, g=bad: b.update_parameters(P, g), TypeError, f"{k} must be real")
case("X-ragged-forward", lambda b: b.forward_propagation([[1.0, 2.0], [3.0]], P), ValueError, "X")

# ---------------------------------------------------------------- probabilities
for value in (1.5, -0.1, 1 + 1e-9, -1e-300):
    A2_bad = _poisoned(C["A2"], value)
    case(f"A2-{value}-cost", lambda b, a=A2_bad: b.compute_cost(a, Y), ValueError, "A2 must hold probabilities")


@pytest.mark.parametrize("call, exc, match", CASES)
def test_bad_input_raises(backend, call, exc, match):
    with pytest.raises(exc, match=match):
        call(backend)


def test_case_ids_are_unique():
    ids = [p.id for p in CASES]
    assert len(ids) == len(set(ids))


def test_fixtures_are_valid(backend):
    """The unmodified inputs of the cases above are accepted."""
    backend.forward_propagation(X, P)
    backend.backward_propagation(P, C, X, Y)
    backend.update_parameters(P, G)
    backend.compute_cost(C["A2"], Y)
    backend.nn_model(X, Y, N_H, 1)
    backend.nn_model(X, Y3, N_H, 1, parameters=P3)
    backend.layer_sizes(X, Y3)
    backend.predict(P, X)


def test_validation_happens_before_any_work(backend):
    """A bad argument after valid ones does not leave the inputs modified."""
    p = {k: v.copy() for k, v in P.items()}
    with pytest.raises(ValueError, match="learning_rate"):
        backend.update_parameters(p, G, learning_rate=-1)
    for k in PARAM_KEYS:
        np.testing.assert_array_equal(p[k], P[k])


# ---------------------------------------------------------------- extreme but valid


@pytest.mark.parametrize("n_y", [1, 3])
def test_cost_is_finite_for_saturated_probabilities(backend, dtype, n_y):
    eps = np.finfo(dtype).eps
    if n_y == 1:
        A2 = np.array([[0.0, 1.0, 0.0, 1.0]], dtype)
        right = np.array([[0, 1, 0, 1]], dtype)
        wrong = 1 - right
    else:
        A2 = np.eye(3, dtype=dtype)[:, [0, 1, 2, 0]]
        right = A2.copy()
        wrong = np.eye(3, dtype=dtype)[:, [1, 2, 0, 1]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c_right = backend.compute_cost(A2, right)
        c_wrong = backend.compute_cost(A2, wrong)
    assert np.isfinite(c_right) and np.isfinite(c_wrong)
    # probabilities are clipped to [eps, 1 - eps] of the dtype
    assert 0 <= c_right < 10 * eps
    assert c_wrong == pytest.approx(-np.log(eps), rel=1e-6)


@pytest.mark.parametrize("n_y", [1, 3])
def test_huge_pre_activations_give_no_warning_and_no_nan(backend, dtype, activation, n_y):
    """z = +-1e4 saturates every activation and the output without overflow."""
    X = np.array([[1.0, -1.0, 0.5, -0.5, 0.0]], dtype)
    params = {
        "W1": np.full((2, 1), 1e4, dtype) * np.array([[1.0], [-1.0]], dtype),
        "b1": np.zeros((2, 1), dtype),
        "W2": np.array([[1e4, -1e4], [-1e4, 1e4], [1e4, 1e4]][:n_y], dtype),
        "b2": np.zeros((n_y, 1), dtype),
    }
    if n_y == 1:
        Y = np.array([[1, 0, 1, 0, 1]], dtype)
    else:
        Y = np.eye(n_y, dtype=dtype)[:, [0, 1, 2, 0, 1]]
    with warnings.catch_warnings(), np.errstate(**NUMPY_DEFAULT_ERRSTATE):
        warnings.simplefilter("error")
        A2, cache = backend.forward_propagation(X, params, activation=activation)
        cost = backend.compute_cost(A2, Y)
        grads = backend.backward_propagation(params, cache, X, Y, activation=activation)
        pred = backend.predict(params, X, activation=activation)
        trained = backend.nn_model(X, Y, 2, 3, parameters=params, activation=activation, learning_rate=1e-8)
    assert np.abs(cache["Z1"]).max() >= 1e4 * 0.5
    for k in CACHE_KEYS:
        assert np.all(np.isfinite(cache[k])), k
    assert np.all((A2 >= 0) & (A2 <= 1))
    if n_y > 1:
        np.testing.assert_allclose(A2.sum(axis=0), 1, rtol=1e-6)
    assert np.isfinite(cost)
    for k in GRAD_KEYS:
        assert np.all(np.isfinite(grads[k])), k
    for k in PARAM_KEYS:
        assert np.all(np.isfinite(trained[k])), k
    assert pred.shape == ((1, 5) if n_y == 1 else (5,))


@pytest.mark.parametrize("z", [-1e4, -800.0, -90.0, -20.0, 20.0, 90.0, 800.0, 1e4])
def test_sigmoid_output_tails(backend, dtype, z):
    """sigmoid(z) for large |z|: the right limit, never NaN, no warning."""
    t = np.tanh(1.0)
    params = {
        "W1": np.ones((1, 1), dtype),
        "b1": np.zeros((1, 1), dtype),
        "W2": np.array([[z / t]], dtype),  # Z2 = W2 * tanh(1) ~ z
        "b2": np.zeros((1, 1), dtype),
    }
    with warnings.catch_warnings(), np.errstate(**NUMPY_DEFAULT_ERRSTATE):
        warnings.simplefilter("error")
        A2, cache = backend.forward_propagation(np.ones((1, 1), dtype), params, activation="tanh")
    Z2 = float(cache["Z2"][0, 0])
    assert Z2 == pytest.approx(z, rel=1e-5)
    expected = np.exp(-np.logaddexp(0.0, -Z2))  # sigmoid(Z2) in float64, without overflow
    assert np.isfinite(A2).all()
    np.testing.assert_allclose(A2, [[expected]], rtol=1e-6, atol=np.finfo(dtype).tiny)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_softmax_with_huge_logits(backend, dtype, activation):
    """The softmax is shifted by the column maximum: logits of 1e4 do not overflow."""
    X = np.array([[1.0, 2.0]], dtype)
    params = {
        "W1": np.ones((1, 1), dtype),
        "b1": np.zeros((1, 1), dtype),
        "W2": np.array([[1e4], [1e4 - 1], [-1e4]], dtype),
        "b2": np.zeros((3, 1), dtype),
    }
    with warnings.catch_warnings(), np.errstate(**NUMPY_DEFAULT_ERRSTATE):
        warnings.simplefilter("error")
        A2, _ = backend.forward_propagation(X, params, activation=activation)
    assert np.isfinite(A2).all()
    np.testing.assert_allclose(A2.sum(axis=0), 1, rtol=1e-6)
    assert np.all(A2[0] >= A2[1]) and np.all(A2[2] < 1e-30)


def _unusual_forward_inputs():
    """(id, X, parameters): valid, but not the common case (plain dict of plain native float arrays)."""
    X, _, _ = _data()
    p = _params()

    class Params(dict):
        pass

    class Sub(np.ndarray):
        pass

    big_endian = X.astype(X.dtype.newbyteorder(">"))
    return [
        ("dict subclass", X, Params(p)),
        ("ndarray subclass X", X.view(Sub), p),
        ("list X", X.tolist(), p),
        ("int X", np.round(X * 10).astype(np.int64), p),
        ("float32 X, float64 parameters", X.astype(np.float32), p),
        ("big-endian X", big_endian, p),
        ("float32 W2 only", X, _with(p, W2=p["W2"].astype(np.float32))),
        ("1-d b1", X, _with(p, b1=p["b1"].ravel())),
    ]


@pytest.mark.parametrize("case", _unusual_forward_inputs(), ids=lambda c: c[0])
def test_quick_forward_checks_stand_aside_for_anything_unusual(backend, case):
    """The common-case shortcut of check_forward_inputs declines (None): the full checks then
    convert or raise, exactly as before."""
    _, X, p = case
    checks = _validation.numpy_checks if backend is reference else backend._checks
    assert checks._common_forward_inputs(X, p, "tanh", True) is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_quick_forward_checks_take_the_common_case(backend, dtype):
    """Plain arrays of one float dtype come back as they are; a NaN or inf anywhere sends the
    call to the full checks, which name the array."""
    checks = _validation.numpy_checks if backend is reference else backend._checks
    X, _, _ = _data()
    X = X.astype(dtype)
    p = {k: a.astype(dtype) for k, a in _params().items()}
    quick = checks._common_forward_inputs(X, p, "tanh", True)
    assert quick is not None and quick[0] is X and all(q is p[k] for q, k in zip(quick[1:], PARAM_KEYS))
    for k in PARAM_KEYS + ("X",):
        for bad in (np.nan, np.inf):
            q = _with(p)
            Xb = X.copy() if k == "X" else X
            (Xb if k == "X" else q[k])[0, 0] = bad
            assert checks._common_forward_inputs(Xb, q, "tanh", True) is None, (k, bad)
            with pytest.raises(ValueError, match=f"{k} must contain only finite values"):
                backend.predict(q, Xb)


# ---------------------------------------------------------------- sizes the compiled kernels take


class _NoKernels:
    """Stands for the compiled module: any use of it is a failure (the checks must come first)."""

    def __getattr__(self, name):
        raise AssertionError(f"the kernel {name} was reached")


def _small_limit(monkeypatch, limit=5):
    monkeypatch.setattr(_validation, "_KERNEL_MAX_DIM", limit)


def _sized(n_x=N_X, n_h=N_H, n_y=1, m=4):
    X = np.random.default_rng(7).standard_normal((n_x, m))
    Y = np.zeros((n_y, m))
    Y[0] = 1
    return X, Y, make_parameters(8, n_x, n_h, n_y)


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ({"m": 6}, "X has 6 columns"),
        ({"n_x": 6}, "X has 6 rows"),
        ({"n_h": 6}, "(W1 has 6 rows|W2 has 6 columns)"),  # backward_propagation takes no W1
        ({"n_y": 6}, "W2 has 6 rows"),
    ],
    ids=["examples", "features", "hidden", "outputs"],
)
def test_fast_refuses_sizes_beyond_a_c_int_before_any_kernel(monkeypatch, sizes, message):
    """With the limit lowered to 5, every entry point of fast that reaches the kernels names the argument
    and the limit; the reference has no limit."""
    import shallownet_fast.fast as fast

    X, Y, params = _sized(**sizes)
    cache = reference.forward_propagation(X, params)[1]
    _small_limit(monkeypatch)
    monkeypatch.setattr(fast, "_core", _NoKernels())
    calls = {
        "forward_propagation": lambda m: m.forward_propagation(X, params),
        "backward_propagation": lambda m: m.backward_propagation(params, cache, X, Y),
        "nn_model": lambda m: m.nn_model(X, Y, params["W1"].shape[0], 2, parameters=params),
        "predict": lambda m: m.predict(params, X),
    }
    for call in calls.values():
        call(reference)  # unlimited
        with pytest.raises(ValueError, match=f"{message}; the compiled kernels take at most 5"):
            call(fast)
    if "m" in sizes or "n_y" in sizes:
        A2 = cache["A2"]
        reference.compute_cost(A2, Y)
        what = "columns" if "m" in sizes else "rows"
        with pytest.raises(ValueError, match=f"A2 has 6 {what}; the compiled kernels take at most 5"):
            fast.compute_cost(A2, Y)


def test_the_limit_lets_sizes_up_to_it_through(monkeypatch):
    import shallownet_fast.fast as fast

    X, Y, params = _sized(n_x=5, n_h=5, m=5)
    _small_limit(monkeypatch)
    got = fast.nn_model(X, Y, 5, 3, parameters=params)
    expected = reference.nn_model(X, Y, 5, 3, parameters=params)
    for key in PARAM_KEYS:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-10, atol=1e-12)


def test_minibatch_fast_path_refuses_sizes_beyond_a_c_int(monkeypatch):
    from shallownet_fast import _minibatch

    X, Y, params = _sized(m=6)
    sw = np.ones(6)
    kw = dict(
        activation="tanh",
        solver="sgd",
        learning_rate=0.1,
        momentum=0.9,
        nesterov=False,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        alpha=0.0,
    )
    _small_limit(monkeypatch)
    monkeypatch.setattr(_minibatch, "_core", _NoKernels())
    p = {k: a.copy() for k, a in params.items()}
    _minibatch.run_epoch("reference", X, Y, sw, None, 2, p, _minibatch.make_state(p, "sgd"), **kw)
    p = {k: a.copy() for k, a in params.items()}
    with pytest.raises(ValueError, match="X has 6 columns; the compiled kernels take at most 5"):
        _minibatch.run_epoch("fast", X, Y, sw, None, 2, p, _minibatch.make_state(p, "sgd"), **kw)
    for key in PARAM_KEYS:
        np.testing.assert_array_equal(p[key], params[key])


# ---------------------------------------------------------------- NumPy integers


@pytest.mark.parametrize("kind", [np.uint8, np.int16, np.int64, np.uint64])
def test_numpy_integers_are_accepted_like_python_integers(backend, kind):
    """n_h, num_iterations, n_threads and seed as NumPy integers give what the Python integers give."""
    X, Y, _ = _sized(m=M)
    expected = backend.nn_model(X, Y, 4, 3, seed=2, n_threads=2)
    got = backend.nn_model(X, Y, kind(4), kind(3), seed=kind(2), n_threads=kind(2))
    for key in PARAM_KEYS:
        np.testing.assert_array_equal(got[key], expected[key])
    assert backend.layer_sizes(X, Y, kind(5)) == (N_X, 5, 1)
    p = backend.initialize_parameters(kind(2), kind(3), kind(1), seed=kind(1))
    q = backend.initialize_parameters(2, 3, 1, seed=1)
    for key in PARAM_KEYS:
        np.testing.assert_array_equal(p[key], q[key])

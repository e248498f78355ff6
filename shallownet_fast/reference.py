"""The shallow network in plain NumPy: the specification.

One example per column: X has shape (n_x, m), Y has shape (n_y, m).  The
network is

    Z1 = W1 @ X + b1        A1 = g(Z1)          g in {tanh, relu, leaky_relu, sigmoid}
    Z2 = W2 @ A1 + b2       A2 = sigmoid(Z2)    (softmax over each column when n_y > 1)

trained by full-batch gradient descent on the mean cross-entropy.  Every
formula here is written to be numerically safe (a sigmoid that cannot
overflow, a softmax shifted by its column maximum, a clipped logarithm), and
the compiled implementation in :mod:`shallownet_fast.fast` uses the same
formulas, so that the two agree to rounding.

float32 inputs give float32 results, float64 gives float64; any other real
dtype is computed in float64.  No function modifies its arguments.
"""

import numpy as np

from . import _validation as v

__all__ = [
    "layer_sizes",
    "initialize_parameters",
    "forward_propagation",
    "compute_cost",
    "backward_propagation",
    "update_parameters",
    "nn_model",
    "predict",
]

LEAKY_SLOPE = 0.01
PRINT_EVERY = 1000


# ---------------------------------------------------------------- the maths


def _sigmoid(Z):
    """1 / (1 + exp(-z)) without overflow: exp only ever sees -|z|."""
    E = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1 / (1 + E), E / (1 + E))


def _softmax(Z):
    """Softmax over each column, shifted by the column maximum."""
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def _activate(Z, activation):
    if activation == "tanh":
        return np.tanh(Z)
    if activation == "relu":
        return np.maximum(Z, 0)
    if activation == "leaky_relu":
        return np.where(Z > 0, Z, Z * Z.dtype.type(LEAKY_SLOPE))
    return _sigmoid(Z)


def _activation_derivative(A, activation):
    """g'(Z) written in terms of A = g(Z), in A's dtype."""
    one = A.dtype.type(1)
    if activation == "tanh":
        return one - A * A
    if activation == "relu":
        return (A > 0).astype(A.dtype)
    if activation == "leaky_relu":
        return np.where(A > 0, one, A.dtype.type(LEAKY_SLOPE))
    return A * (one - A)


def _clip_probabilities(A):
    """Keep log() finite: probabilities in [eps, 1 - eps] for A's dtype."""
    eps = np.finfo(A.dtype).eps
    return np.clip(A, eps, 1 - eps)


def _cost(A2, Y):
    m = Y.shape[1]
    P = _clip_probabilities(A2)
    if Y.shape[0] == 1:
        losses = Y * np.log(P) + (1 - Y) * np.log1p(-P)
    else:
        losses = Y * np.log(P)
    return float(-losses.sum(dtype=np.float64) / m)


def _forward(X, W1, b1, W2, b2, activation):
    Z1 = W1 @ X + b1
    A1 = _activate(Z1, activation)
    Z2 = W2 @ A1 + b2
    A2 = _sigmoid(Z2) if W2.shape[0] == 1 else _softmax(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def _backward(X, Y, W2, A1, A2, activation):
    m = X.shape[1]
    dZ2 = A2 - Y
    dW2 = (dZ2 @ A1.T) / m
    db2 = dZ2.sum(axis=1, keepdims=True) / m
    dZ1 = (W2.T @ dZ2) * _activation_derivative(A1, activation)
    dW1 = (dZ1 @ X.T) / m
    db1 = dZ1.sum(axis=1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def _update(params, grads, learning_rate):
    return {k: params[k] - learning_rate * grads["d" + k] for k in v.PARAM_KEYS}


# ---------------------------------------------------------------- the API


def layer_sizes(X, Y, n_h=4):
    """Sizes of the three layers.

    Parameters
    ----------
    X : array_like of shape (n_x, m)
    Y : array_like of shape (n_y, m)
    n_h : int, default 4
        Number of hidden units.

    Returns
    -------
    (n_x, n_h, n_y) : tuple of int
    """
    X = v.check_X(X)
    Y = v.check_Y(Y, X, X.dtype)
    n_h = v.check_positive_int("n_h", n_h)
    return X.shape[0], n_h, Y.shape[0]


def initialize_parameters(n_x, n_h, n_y, *, init="normal", scale=0.01, seed=None, dtype=np.float64):
    """Initial parameters of a network with layer sizes (n_x, n_h, n_y).

    Parameters
    ----------
    n_x, n_h, n_y : int
        Input, hidden and output sizes, each at least 1.
    init : {"normal", "zeros", "xavier", "he"}
        "normal": weights ``randn * scale``.  "zeros": every weight 0, the
        symmetric start that leaves all hidden units identical forever.
        "xavier": ``randn * sqrt(1 / fan_in)``.  "he": ``randn * sqrt(2 / fan_in)``.
        Biases always start at zero.
    scale : float, default 0.01
        Standard deviation of the "normal" weights.
    seed : int, numpy.random.Generator or None
        Passed to :func:`numpy.random.default_rng`.
    dtype : float32 or float64

    Returns
    -------
    dict with W1 (n_h, n_x), b1 (n_h, 1), W2 (n_y, n_h), b2 (n_y, 1).
    Weights are drawn in float64 (W1 first, then W2) and rounded to `dtype`,
    so both dtypes start from the same numbers.
    """
    n_x = v.check_positive_int("n_x", n_x)
    n_h = v.check_positive_int("n_h", n_h)
    n_y = v.check_positive_int("n_y", n_y)
    if init not in v.INITS:
        raise ValueError(f"init must be one of {v.INITS}, got {init!r}")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    scale = float(scale)
    if not np.isfinite(scale) or scale < 0:
        raise ValueError(f"scale must be finite and non-negative, got {scale!r}")
    if init == "zeros":
        W1, W2 = np.zeros((n_h, n_x)), np.zeros((n_y, n_h))
    else:
        rng = np.random.default_rng(seed)
        W1 = rng.standard_normal((n_h, n_x))
        W2 = rng.standard_normal((n_y, n_h))
        if init == "normal":
            W1, W2 = W1 * scale, W2 * scale
        else:
            gain = 1.0 if init == "xavier" else 2.0
            W1, W2 = W1 * np.sqrt(gain / n_x), W2 * np.sqrt(gain / n_h)
    return {
        "W1": W1.astype(dtype),
        "b1": np.zeros((n_h, 1), dtype),
        "W2": W2.astype(dtype),
        "b2": np.zeros((n_y, 1), dtype),
    }


def forward_propagation(X, parameters, *, activation="tanh"):
    """Forward pass.

    Parameters
    ----------
    X : array_like of shape (n_x, m)
    parameters : dict with W1 (n_h, n_x), b1 (n_h, 1), W2 (n_y, n_h), b2 (n_y, 1)
    activation : {"tanh", "relu", "leaky_relu", "sigmoid"}
        Hidden-layer activation g.

    Returns
    -------
    A2 : ndarray of shape (n_y, m)
        Output probabilities: sigmoid for n_y = 1, column softmax otherwise.
    cache : dict with Z1, A1 (n_h, m) and Z2, A2 (n_y, m)
    """
    X, W1, b1, W2, b2 = v.check_forward_inputs(X, parameters, activation)
    return _forward(X, W1, b1, W2, b2, activation)


def compute_cost(A2, Y):
    """Mean cross-entropy.

    Parameters
    ----------
    A2 : array_like of shape (n_y, m)
        Output probabilities in [0, 1].
    Y : array_like of shape (n_y, m)
        0/1 labels; one-hot columns when n_y > 1.

    Returns
    -------
    float
        ``-mean(Y log A2 + (1 - Y) log(1 - A2))`` for n_y = 1,
        ``-mean(sum(Y log A2))`` for n_y > 1, with A2 clipped to
        [eps, 1 - eps] of its dtype so that the cost stays finite.
    """
    A2, Y = v.check_cost_inputs(A2, Y)
    return _cost(A2, Y)


def backward_propagation(parameters, cache, X, Y, *, activation="tanh"):
    """Gradients of the mean cross-entropy.

    Parameters
    ----------
    parameters : dict with W1, b1, W2, b2
    cache : dict with Z1, A1 (n_h, m) and Z2, A2 (n_y, m), from forward_propagation
    X : array_like of shape (n_x, m)
    Y : array_like of shape (n_y, m)
    activation : str
        The activation the cache was computed with.

    Returns
    -------
    dict with dW1 (n_h, n_x), db1 (n_h, 1), dW2 (n_y, n_h), db2 (n_y, 1),
    from the output delta ``dZ2 = A2 - Y``.
    """
    X, Y, W2, A1, A2 = v.check_backward_inputs(parameters, cache, X, Y, activation)
    return _backward(X, Y, W2, A1, A2, activation)


def update_parameters(parameters, grads, learning_rate=1.2):
    """One gradient-descent step: ``W := W - learning_rate * dW``.

    Returns a new dict of new arrays; `parameters` and `grads` are unchanged.
    """
    params, grads, lr = v.check_update_inputs(parameters, grads, learning_rate)
    return _update(params, grads, lr)


def _wants_cost(i, print_cost, return_costs):
    return return_costs or (print_cost and i % PRINT_EVERY == 0)


def _print_cost(i, cost):
    print(f"Cost after iteration {i}: {cost:f}")


def nn_model(
    X,
    Y,
    n_h,
    num_iterations=10000,
    *,
    learning_rate=1.2,
    activation="tanh",
    parameters=None,
    init="normal",
    seed=None,
    print_cost=False,
    return_costs=False,
    n_threads=None,
):
    """Train the network by full-batch gradient descent.

    Parameters
    ----------
    X : array_like of shape (n_x, m)
    Y : array_like of shape (n_y, m)
        0/1 labels; one-hot columns when n_y > 1.
    n_h : int
        Hidden units.
    num_iterations : int, default 10000
        Gradient steps (0 returns the starting parameters).
    learning_rate : float, default 1.2
    activation : {"tanh", "relu", "leaky_relu", "sigmoid"}
    parameters : dict or None
        Starting point (not modified; its n_h must equal `n_h`).  None draws
        one with :func:`initialize_parameters` (`init`, `seed`).
    init, seed
        Passed to :func:`initialize_parameters` when `parameters` is None.
    print_cost : bool
        Print "Cost after iteration i: c" every 1000 iterations.
    return_costs : bool
        Also return the cost of every iteration, taken before its update.
    n_threads : int or None
        Threads for the compiled implementation (None: one for small
        problems, every usable core for large ones; with OpenMP a team of
        kernel threads over column blocks, BLAS on one thread in each).  A
        given count always gives the same bits; different counts agree to
        rounding.  Accepted and checked here so that both implementations
        share one signature: the NumPy reference uses whatever threads its
        BLAS is configured with.

    Returns
    -------
    parameters : dict with W1, b1, W2, b2 in the working dtype
    costs : ndarray of shape (num_iterations,), float64, only with return_costs

    Raises
    ------
    FloatingPointError
        When the parameters stop being finite (a learning rate far too large,
        exploding ReLU units): never are NaN parameters returned.
    """
    X, Y, (W1, b1, W2, b2), n_iter, lr = v.check_training_inputs(
        X, Y, n_h, num_iterations, learning_rate, activation, parameters, init, seed, n_threads
    )
    params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    costs = np.empty(n_iter if return_costs else 0)
    # A diverging run overflows on its way to NaN: it ends in FloatingPointError below.
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(n_iter):
            A2, cache = _forward(X, *(params[k] for k in v.PARAM_KEYS), activation)
            if _wants_cost(i, print_cost, return_costs):
                cost = _cost(A2, Y)
                if return_costs:
                    costs[i] = cost
                if print_cost and i % PRINT_EVERY == 0:
                    _print_cost(i, cost)
            grads = _backward(X, Y, params["W2"], cache["A1"], A2, activation)
            params = _update(params, grads, lr)
    v.check_diverged(params.values(), learning_rate, n_iter)
    if not n_iter:
        params = {k: a.copy() for k, a in params.items()}
    return (params, costs) if return_costs else params


def predict(parameters, X, *, activation="tanh"):
    """Predicted classes.

    Returns
    -------
    ndarray
        For n_y = 1 a boolean array of shape (1, m), ``A2 > 0.5``; for
        n_y > 1 the index of the most probable class of each column, shape (m,).
    """
    X, W1, b1, W2, b2 = v.check_forward_inputs(X, parameters, activation)
    A2, _ = _forward(X, W1, b1, W2, b2, activation)
    if W2.shape[0] == 1:
        return A2 > 0.5
    return A2.argmax(axis=0)

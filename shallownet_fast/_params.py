"""The parameters of the network: layer sizes, the initial draw, a gradient step.

Shared by both implementations (:mod:`shallownet_fast.reference` and
:mod:`shallownet_fast.fast` re-export the public functions): shape
bookkeeping and elementwise updates, nothing to compile.
"""

import numpy as np

from . import _numerics, _validation

DEFAULT_SCALE = 0.01


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
    X = _validation.check_X(X)
    Y = _validation.check_Y(Y, X, X.dtype)
    n_h = _validation.check_positive_int("n_h", n_h)
    return X.shape[0], n_h, Y.shape[0]


def initialize_parameters(n_x, n_h, n_y, *, init="normal", scale=DEFAULT_SCALE, seed=None, dtype=np.float64):
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
    n_x = _validation.check_positive_int("n_x", n_x)
    n_h = _validation.check_positive_int("n_h", n_h)
    n_y = _validation.check_positive_int("n_y", n_y)
    _validation.check_init(init)
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    scale = float(scale)
    if not np.isfinite(scale) or scale < 0:
        raise ValueError(f"scale must be finite and non-negative, got {scale!r}")
    return dict(zip(_validation.PARAM_KEYS, _draw(n_x, n_h, n_y, init, scale, seed, dtype)))


def _draw(n_x, n_h, n_y, init, scale, seed, dtype):
    """(W1, b1, W2, b2) of checked sizes, drawn as :func:`initialize_parameters` documents."""
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
    return W1.astype(dtype), np.zeros((n_h, 1), dtype), W2.astype(dtype), np.zeros((n_y, 1), dtype)


def update_parameters(parameters, grads, learning_rate=1.2):
    """One gradient-descent step: ``W := W - learning_rate * dW``.

    Returns a new dict of new arrays; `parameters` and `grads` are unchanged.
    """
    params, grads, lr = _validation.check_update_inputs(parameters, grads, learning_rate)
    return _numerics.update(params, grads, lr)


def training_start(checks, X, Y, n_h, num_iterations, learning_rate, activation, parameters, init, seed, n_threads):
    """nn_model's checked arguments and starting parameters.

    `checks` is a :class:`shallownet_fast._validation.Checks`.  Returns
    ``(X, Y, (W1, b1, W2, b2), num_iterations, learning_rate, n_threads)`` in
    one working dtype; the parameters are drawn with :func:`initialize_parameters`'s
    rule (in X's dtype) when `parameters` is None.
    """
    X, Y, params, n_h, n_iter, lr, n_threads = checks.check_training_inputs(
        X, Y, n_h, num_iterations, learning_rate, activation, parameters, init, n_threads
    )
    if params is None:
        params = _draw(X.shape[0], n_h, Y.shape[0], init, DEFAULT_SCALE, seed, X.dtype)
    return X, Y, params, n_iter, lr, n_threads

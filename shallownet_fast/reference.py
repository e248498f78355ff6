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

from . import _params, _validation
from ._numerics import backward as _backward
from ._numerics import cost as _cost
from ._numerics import forward as _forward
from ._numerics import update as _update
from ._params import initialize_parameters, layer_sizes, update_parameters

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

PRINT_EVERY = 1000


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
    X, W1, b1, W2, b2 = _validation.check_forward_inputs(X, parameters, activation)
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
    A2, Y = _validation.check_cost_inputs(A2, Y)
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
    X, Y, W2, A1, A2 = _validation.check_backward_inputs(parameters, cache, X, Y, activation)
    return _backward(X, Y, W2, A1, A2, activation)


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
    X, Y, (W1, b1, W2, b2), n_iter, lr, _ = _params.training_start(
        _validation.numpy_checks,
        X,
        Y,
        n_h,
        num_iterations,
        learning_rate,
        activation,
        parameters,
        init,
        seed,
        n_threads,
    )
    params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    costs = np.empty(n_iter if return_costs else 0)
    # A diverging run overflows on its way to NaN: it ends in FloatingPointError below.
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(n_iter):
            A2, cache = _forward(X, *(params[k] for k in _validation.PARAM_KEYS), activation)
            if _wants_cost(i, print_cost, return_costs):
                cost = _cost(A2, Y)
                if return_costs:
                    costs[i] = cost
                if print_cost and i % PRINT_EVERY == 0:
                    _print_cost(i, cost)
            grads = _backward(X, Y, params["W2"], cache["A1"], A2, activation)
            params = _update(params, grads, lr)
    _validation.check_diverged(params.values(), learning_rate, n_iter)
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
    X, W1, b1, W2, b2 = _validation.check_forward_inputs(X, parameters, activation)
    A2, _ = _forward(X, W1, b1, W2, b2, activation)
    if W2.shape[0] == 1:
        return A2 > 0.5
    return A2.argmax(axis=0)

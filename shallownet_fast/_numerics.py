"""The network's formulas in NumPy, each written once.

Every NumPy path of the package computes with these functions: the reference
implementation (:mod:`shallownet_fast.reference`), the NumPy mini-batch epochs
(:mod:`shallownet_fast._minibatch`) and the estimator's NumPy backend.  The
compiled kernels implement the same formulas.

Nothing here checks its arguments: callers pass checked arrays of one float
dtype, and results keep that dtype.  Every formula is numerically safe: a
sigmoid that cannot overflow, a softmax shifted by its column maximum, a
clipped logarithm.
"""

import numpy as np

from ._validation import PARAM_KEYS

LEAKY_SLOPE = 0.01


# ---------------------------------------------------------------- activations


def sigmoid(Z):
    """1 / (1 + exp(-z)) without overflow: exp only ever sees -|z|."""
    E = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1 / (1 + E), E / (1 + E))


def softmax(Z):
    """Softmax over each column, shifted by the column maximum."""
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def log_sigmoid(Z):
    """log(sigmoid(z)) without overflow or log(0)."""
    return -np.logaddexp(Z.dtype.type(0), -Z)


def log_softmax(Z):
    """Log of the softmax over each row of Z (n, n_classes): the estimator's (samples, classes) layout."""
    shifted = Z - Z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def activate(Z, activation):
    """g(Z) for the hidden activation g ("logistic" is "sigmoid")."""
    if activation == "identity":
        return Z.copy()
    if activation == "tanh":
        return np.tanh(Z)
    if activation == "relu":
        return np.maximum(Z, 0)
    if activation == "leaky_relu":
        return np.where(Z > 0, Z, Z * Z.dtype.type(LEAKY_SLOPE))
    return sigmoid(Z)


def activation_derivative(A, activation):
    """g'(Z) written in terms of A = g(Z), in A's dtype."""
    one = A.dtype.type(1)
    if activation == "identity":
        return np.ones_like(A)
    if activation == "tanh":
        return one - A * A
    if activation == "relu":
        return (A > 0).astype(A.dtype)
    if activation == "leaky_relu":
        return np.where(A > 0, one, A.dtype.type(LEAKY_SLOPE))
    return A * (one - A)


# ---------------------------------------------------------------- the loss


def clip_probabilities(A):
    """Keep log() finite: probabilities in [eps, 1 - eps] for A's dtype."""
    eps = np.finfo(A.dtype).eps
    return np.clip(A, eps, 1 - eps)


def log_likelihood(A2, Y, out=None):
    """Per-entry log-likelihood of the targets Y under the outputs A2, shape of A2.

    ``Y log A2 + (1 - Y) log(1 - A2)`` (A2 clipped) for one output row or `out`
    "logistic" (one sigmoid per row, multilabel), ``Y log A2`` for a softmax, and
    ``-(Y - A2)^2 / (2 n_y)`` for `out` "identity": minus scikit-learn's halved squared
    error averaged over the outputs.
    """
    if out == "identity":
        D = Y - A2
        return -(D * D) / A2.dtype.type(2 * Y.shape[0])
    P = clip_probabilities(A2)
    if Y.shape[0] == 1 or out == "logistic":
        return Y * np.log(P) + (1 - Y) * np.log1p(-P)
    return Y * np.log(P)


def cost(A2, Y):
    """Mean cross-entropy over the columns, as a Python float (summed in float64)."""
    return float(-log_likelihood(A2, Y).sum(dtype=np.float64) / Y.shape[1])


# ---------------------------------------------------------------- forward and backward


def _layers(X, W1, b1, W2, b2, activation):
    Z1 = W1 @ X + b1
    A1 = activate(Z1, activation)
    return Z1, A1, W2 @ A1 + b2


def output(Z2, out=None):
    """The output layer on the logits Z2.

    `out` None: sigmoid for one row, column softmax otherwise; "logistic": a sigmoid
    per entry; "softmax": the column softmax; "identity": Z2 itself.
    """
    if out == "identity":
        return Z2
    if out == "logistic" or (out is None and Z2.shape[0] == 1):
        return sigmoid(Z2)
    return softmax(Z2)


def logits(X, W1, b1, W2, b2, activation):
    """Z2 = W2 @ g(W1 @ X + b1) + b2, shape (n_y, m)."""
    return _layers(X, W1, b1, W2, b2, activation)[2]


def forward(X, W1, b1, W2, b2, activation, out=None):
    """(A2, cache) with cache holding Z1, A1 (n_h, m) and Z2, A2 (n_y, m); `out` as in :func:`output`."""
    Z1, A1, Z2 = _layers(X, W1, b1, W2, b2, activation)
    A2 = output(Z2, out)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def _hidden_delta(W2, dZ2, A1, activation):
    """dZ1 = (W2.T @ dZ2) * g'(Z1)."""
    return (W2.T @ dZ2) * activation_derivative(A1, activation)


def backward(X, Y, W2, A1, A2, activation):
    """Gradients of the mean cross-entropy, from the output delta dZ2 = A2 - Y."""
    m = X.shape[1]
    dZ2 = A2 - Y
    dW2 = (dZ2 @ A1.T) / m
    db2 = dZ2.sum(axis=1, keepdims=True) / m
    dZ1 = _hidden_delta(W2, dZ2, A1, activation)
    dW1 = (dZ1 @ X.T) / m
    db1 = dZ1.sum(axis=1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def update(params, grads, learning_rate):
    """One gradient-descent step into new arrays: ``p - learning_rate * dp`` for each parameter."""
    return {k: params[k] - learning_rate * grads["d" + k] for k in PARAM_KEYS}


# ---------------------------------------------------------------- a weighted batch (MLP's convention)


def batch_loss_and_grads(params, X, Y, sample_weight, activation, alpha, out=None):
    """Loss and gradients of one batch with sample weights and an L2 penalty, as scikit-learn's MLP defines them.

    Parameters
    ----------
    params : dict with W1 (n_h, n_x), b1 (n_h, 1), W2 (n_y, n_h), b2 (n_y, 1)
    X : ndarray or scipy sparse matrix of shape (n_x, m)
    Y : ndarray of shape (n_y, m), 0/1 (one-hot columns when n_y > 1), X's dtype
    sample_weight : ndarray of shape (m,)
    activation : str
    alpha : float
        L2 penalty.
    out : None, "softmax", "logistic" or "identity"
        The output layer (see :func:`output`) and with it the loss (see
        :func:`log_likelihood`); the output delta is ``A2 - Y`` for each.

    Returns
    -------
    loss : float
        ``-sum(w * log-likelihood) / sw + alpha / 2 * (|W1|^2 + |W2|^2) / sw`` with ``sw = sum(w)``
        (the sums taken in float64).
    grads : dict with W1, b1, W2, b2 in X's dtype
        The output delta ``(A2 - Y) * w``; weight gradients ``(sums + alpha * W) / sw``, bias
        gradients ``sums / sw``.
    """
    W1, b1, W2, b2 = (params[k] for k in PARAM_KEYS)
    dt = X.dtype.type
    sw_sum = float(sample_weight.sum(dtype=np.float64))
    A2, cache = forward(X, W1, b1, W2, b2, activation, out)
    A1 = cache["A1"]
    data = -float(np.dot(log_likelihood(A2, Y, out).sum(axis=0, dtype=np.float64), sample_weight)) / sw_sum
    squares = float(np.sum(W1 * W1, dtype=np.float64) + np.sum(W2 * W2, dtype=np.float64))
    loss = data + 0.5 * float(alpha) * squares / sw_sum
    dZ2 = (A2 - Y) * sample_weight
    dZ1 = _hidden_delta(W2, dZ2, A1, activation)
    a, s = dt(alpha), dt(sw_sum)
    grads = {
        "W1": (dZ1 @ X.T + a * W1) / s,
        "b1": dZ1.sum(axis=1, keepdims=True) / s,
        "W2": (dZ2 @ A1.T + a * W2) / s,
        "b2": dZ2.sum(axis=1, keepdims=True) / s,
    }
    return loss, grads

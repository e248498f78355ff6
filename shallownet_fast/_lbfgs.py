"""Full-batch training with L-BFGS-B, as scikit-learn's MLP runs its "lbfgs" solver.

:func:`minimize` hands SciPy's L-BFGS-B the loss and gradient of the whole
training set over the parameters packed in MLP's order (W1.T, W2.T, b1, b2,
each flattened in C order) with MLP's options: ``maxiter=max_iter``,
``maxfun=max_fun``, ``gtol=tol``.  The loss is MLP's: the weighted mean of the
examples' cross-entropy (logistic or softmax output) or halved squared error
(identity output) plus ``alpha / 2 * (|W1|^2 + |W2|^2) / sum(w)``.

The "fast" backend computes loss and gradient in one compiled call (GIL
released; :func:`shallownet_fast._core.loss_gradient`, or
``loss_gradient_csr`` for a sparse X); the "reference" backend with
:func:`shallownet_fast._numerics.batch_loss_and_grads`.

SciPy works on float64 vectors.  The loss and gradient are computed in the
parameters' dtype (float32 parameters stay float32, as MLP's do not: its
parameters turn float64 under L-BFGS-B), and the gradient is handed back in
float64.
"""

import warnings

import numpy as np
import scipy.optimize
import scipy.sparse as sp

from . import _numerics, _threads
from ._dispatch import kernels as _core
from ._validation import PARAM_KEYS
from .fast import _csr_arrays

OUTPUTS = ("logistic", "softmax", "identity")


def minimize(
    backend,
    X,
    Y,
    sample_weight,
    params,
    *,
    activation,
    output,
    alpha,
    max_iter,
    max_fun,
    tol,
    callback=None,
):
    """Fit `params` in place with L-BFGS-B; returns ``(n_iter, loss, loss_curve)``.

    A ConvergenceWarning (scikit-learn's, with MLP's message) is issued when
    L-BFGS-B stops for any reason but convergence (max_iter, max_fun, the callback).

    Parameters
    ----------
    backend : {"fast", "reference"}
    X : ndarray of shape (n_x, m), C-contiguous, or a scipy sparse matrix or array of shape (n_x, m)
        The examples, one per column, in the parameters' dtype.  A sparse X is
        the transpose of the usual (m, n_x) data: pass ``X_csr.T`` (a CSC view,
        no copy) or ``X_csc.T``.
    Y : ndarray of shape (n_y, m)
        The targets, 0/1 for the logistic and softmax outputs (one-hot for softmax).
    sample_weight : ndarray of shape (m,)
    params : dict
        W1 (n_h, n_x), b1 (n_h, 1), W2 (n_y, n_h), b2 (n_y, 1), of one float dtype; updated in place.
    activation : str
        The hidden activation.
    output : {"logistic", "softmax", "identity"}
        The output activation and its loss.
    alpha : float
        The L2 penalty.
    max_iter, max_fun : int
        L-BFGS-B's ``maxiter`` and ``maxfun``.
    tol : float
        L-BFGS-B's ``gtol``.
    callback : callable, optional
        Called after each iteration with its loss; returning True stops the
        optimisation (SciPy's StopIteration).

    Returns
    -------
    n_iter : int
        L-BFGS-B's iterations (``result.nit``, at most max_iter), MLP's ``n_iter_``.
    loss : float
        The loss at the final parameters (``result.fun``), MLP's ``loss_``.
    loss_curve : list of float
        The loss after each iteration (n_iter values; MLP's lbfgs keeps none).
    """
    if backend not in ("fast", "reference"):
        raise ValueError(f"backend must be 'fast' or 'reference', got {backend!r}")
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
    if backend == "fast":
        loss_grad = _fast_loss_grad(X, Y, sample_weight, params, activation, output, alpha)
    else:
        loss_grad = _reference_loss_grad(X, Y, sample_weight, params, activation, output, alpha)
    return minimize_function(loss_grad, params, max_iter=max_iter, max_fun=max_fun, tol=tol, callback=callback)


def minimize_function(loss_grad, params, *, max_iter, max_fun, tol, callback=None):
    """:func:`minimize` over any loss: L-BFGS-B with MLP's options, `params` updated in place.

    `loss_grad` is a function of no argument returning the loss and the
    gradients (dW1, db1, dW2, db2) at the current `params` (which this
    function sets before each call): the local data's (:func:`minimize`) or a
    cluster's (shallownet_fast.dask).  Returns and warns as :func:`minimize`.
    """
    W1, b1, W2, b2 = (params[k] for k in PARAM_KEYS)
    (n_h, n_x), n_y = W1.shape, W2.shape[0]
    shapes = ((n_x, n_h), (n_h, n_y))
    cuts = np.cumsum([n_x * n_h, n_h * n_y, n_h])

    def unpack(theta):
        """The packed vector (MLP's order) into params, in their dtype."""
        w1, w2, c1, c2 = np.split(theta, cuts)
        W1[...] = w1.reshape(shapes[0]).T
        W2[...] = w2.reshape(shapes[1]).T
        b1[...] = c1.reshape(-1, 1)
        b2[...] = c2.reshape(-1, 1)

    def pack(w1, c1, w2, c2):
        return np.concatenate([w1.T.ravel(), w2.T.ravel(), c1.ravel(), c2.ravel()]).astype(np.float64, copy=False)

    def fun(theta):
        unpack(theta)
        loss, grads = loss_grad()
        return loss, pack(*grads)

    curve = []

    def step(intermediate_result):
        curve.append(float(intermediate_result.fun))
        if callback is not None and callback(curve[-1]):
            raise StopIteration

    result = scipy.optimize.minimize(
        fun,
        pack(W1, b1, W2, b2),
        method="L-BFGS-B",
        jac=True,
        callback=step,
        options={"maxfun": max_fun, "maxiter": max_iter, "gtol": tol},
    )
    unpack(result.x)
    n_iter = min(int(result.nit), max_iter)
    if result.status != 0:
        from sklearn.exceptions import ConvergenceWarning

        message = f"lbfgs failed to converge after {n_iter} iteration(s) (status={result.status}):\n{result.message}\n"
        warnings.warn(message, ConvergenceWarning, stacklevel=2)
    return n_iter, float(result.fun), curve[:n_iter]


def _reference_loss_grad(X, Y, sw, params, activation, output, alpha):
    """A function of no argument: the loss and (dW1, db1, dW2, db2) at the current params, in NumPy."""

    def loss_grad():
        with np.errstate(over="ignore", invalid="ignore"):
            loss, g = _numerics.batch_loss_and_grads(params, X, Y, sw, activation, alpha, output)
        return loss, (g["W1"], g["b1"], g["W2"], g["b2"])

    return loss_grad


def _fast_loss_grad(X, Y, sw, params, activation, output, alpha):
    """A function of no argument: the loss and (dW1, db1, dW2, db2) at the current params, in one compiled call."""
    W1, b1, W2, b2 = (params[k] for k in PARAM_KEYS)
    (n_h, n_x), n_y, dt = W1.shape, W2.shape[0], W1.dtype
    m = X.shape[1]
    Y, sw = np.ascontiguousarray(Y, dtype=dt), np.ascontiguousarray(sw, dtype=dt)
    grads = (np.empty((n_h, n_x), dt), np.empty(n_h, dt), np.empty((n_y, n_h), dt), np.empty(n_y, dt))
    block = _threads.training_block(n_x, n_h, m, dt, None, 1)
    scratch = (np.empty((n_h, block), dt), np.empty((n_h, block), dt), np.empty((n_y, block), dt), np.empty(block, dt))
    codes = (_core.ACTIVATION_CODES[activation], _core.OUTPUT_CODES[output], float(alpha))
    views = (W1, b1.reshape(-1), W2, b2.reshape(-1))  # b1, b2 are (n, 1) C-contiguous: views
    if sp.issparse(X):
        csr = _csr_arrays(X.T, dt)
        sparse_scratch = (np.empty((n_x, n_h), dt), np.empty((n_x, n_h), dt), np.empty((block, n_h), dt))

        def loss_grad():
            loss = _core.loss_gradient_csr(*csr, Y, sw, *views, *codes, *grads, *scratch, *sparse_scratch)
            return loss, grads

    else:
        X = np.ascontiguousarray(X, dtype=dt)

        def loss_grad():
            loss = _core.loss_gradient(X, Y, sw, *views, *codes, *grads, *scratch)
            return loss, grads

    return loss_grad

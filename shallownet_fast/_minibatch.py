"""Mini-batch training epochs (sgd with momentum, adam), twice: NumPy and compiled.

The engine under :class:`shallownet_fast.ShallowNetClassifier`.  One call runs
one epoch: the batches in a given order, each a forward pass, the loss, the
backward pass and one solver step.  The formulas are scikit-learn's MLP ones,
with sample weights:

- for a batch b with weights w and sw = sum(w):
  loss_b = -sum(w * log-likelihood) / sw + alpha / 2 * (|W1|^2 + |W2|^2) / sw;
- output delta (A2 - Y) * w; weight gradients (sums + alpha * W) / sw, bias
  gradients sums / sw;
- sgd: velocity := momentum * velocity - lr * g; param += momentum * velocity
  - lr * g with Nesterov's momentum, += velocity without;
- adam: t += 1; m := b1 m + (1 - b1) g; v := b2 v + (1 - b2) g^2;
  param += -lr_t m / (sqrt(v) + eps), lr_t = lr sqrt(1 - b2^t) / (1 - b1^t).

The "reference" backend runs this in NumPy; the "fast" backend runs the whole
epoch in one call into compiled code (GIL released).  Both update the
caller's parameter and state arrays in place.
"""

import numpy as np
import scipy.sparse as sp

from . import _numerics, _threads, _validation
from . import fast as _fast
from ._dispatch import kernels as _core
from ._validation import PARAM_KEYS, SOLVERS

_STATE_KEYS = ("mW1", "mb1", "mW2", "mb2", "vW1", "vb1", "vW2", "vb2")


def make_state(params, solver):
    """Zeroed solver state for `params` (velocities or adam moments), and t = 0."""
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    state = {"t": 0}
    for prefix in ("m", "v"):
        for key in PARAM_KEYS:
            state[prefix + key] = np.zeros_like(params[key])
    return state


def run_epoch(
    backend,
    X,
    Y,
    sample_weight,
    order,
    batch_size,
    params,
    state,
    *,
    activation,
    solver,
    learning_rate,
    momentum,
    nesterov,
    beta_1,
    beta_2,
    epsilon,
    alpha,
    out=None,
):
    """One epoch in place; returns the epoch's loss (sum of loss_b * len(b), over m).

    X (n_x, m) and Y (n_y, m) C-contiguous, of the parameters' dtype (or X a scipy
    sparse matrix or array (n_x, m): the transpose of CSR or CSC data, never densified);
    sample_weight (m,); order an np.intp permutation of range(m) or None;
    params and state as made by the caller and :func:`make_state`; `out` the
    output layer and loss (:func:`shallownet_fast._numerics.output`: None for a
    sigmoid or softmax by n_y, "logistic" per row, "identity" with the squared error).
    Raises FloatingPointError when the loss or the parameters stop being finite.
    """
    args = (X, Y, sample_weight, order, batch_size, params, state, activation, solver, learning_rate, momentum)
    args += (nesterov, beta_1, beta_2, epsilon, alpha, out)
    if backend == "fast":
        loss = _fast_epoch(*args)
    elif backend == "reference":
        with np.errstate(over="ignore", invalid="ignore"):
            loss = _reference_epoch(*args)
    else:
        raise ValueError(f"backend must be 'fast' or 'reference', got {backend!r}")
    loss /= X.shape[1]
    if not np.isfinite(loss):
        _validation.check_diverged([np.array([[loss]])], learning_rate, state["t"])
    _validation.check_diverged([params[k] for k in PARAM_KEYS], learning_rate, state["t"])
    return loss


def _reference_epoch(
    X,
    Y,
    sw,
    order,
    batch_size,
    params,
    state,
    activation,
    solver,
    lr,
    momentum,
    nesterov,
    beta_1,
    beta_2,
    epsilon,
    alpha,
    out,
):
    dt = X.dtype.type
    m = X.shape[1]
    lr, momentum, beta_1, beta_2, epsilon, alpha = map(dt, (lr, momentum, beta_1, beta_2, epsilon, alpha))
    total = 0.0
    for start in range(0, m, batch_size):
        cols = slice(start, start + batch_size) if order is None else order[start : start + batch_size]
        Xb, Yb, wb = X[:, cols], Y[:, cols], sw[cols]
        loss, grads = _numerics.batch_loss_and_grads(params, Xb, Yb, wb, activation, alpha, out)
        total += loss * Xb.shape[1]
        apply_step(params, state, grads, solver, lr, momentum, nesterov, beta_1, beta_2, epsilon)
    return total


def apply_step(params, state, grads, solver, lr, momentum, nesterov, beta_1, beta_2, epsilon):
    """One solver step in place from a batch's gradients `grads` (W1, b1, W2, b2): sgd/gd or adam; t += 1."""
    dt = params["W1"].dtype.type
    lr, momentum, beta_1, beta_2, epsilon = map(dt, (lr, momentum, beta_1, beta_2, epsilon))
    state["t"] += 1
    if solver == "adam":
        t = state["t"]
        lr_t = dt(float(lr) * np.sqrt(1 - float(beta_2) ** t) / (1 - float(beta_1) ** t))
    for key in PARAM_KEYS:
        p, m1, m2 = params[key], state["m" + key], state["v" + key]
        g = grads[key]
        if solver == "adam":
            m1[...] = beta_1 * m1 + (1 - beta_1) * g
            m2[...] = beta_2 * m2 + (1 - beta_2) * (g * g)
            p += -(lr_t * m1) / (np.sqrt(m2) + epsilon)
        else:
            vel = momentum * m1 - lr * g
            m1[...] = vel
            p += (momentum * vel - lr * g) if nesterov else vel


def _fast_epoch(
    X,
    Y,
    sw,
    order,
    batch_size,
    params,
    state,
    activation,
    solver,
    lr,
    momentum,
    nesterov,
    beta_1,
    beta_2,
    epsilon,
    alpha,
    out,
):
    sparse = sp.issparse(X)
    Y, sw = np.ascontiguousarray(Y), np.ascontiguousarray(sw)
    if not sparse:
        X = np.ascontiguousarray(X)
        _validation.check_kernel_sizes("X", X, "Y", Y, "W1", params["W1"], "W2", params["W2"])
    (n_x, m), n_y, dt = X.shape, Y.shape[0], X.dtype
    n_h = params["W1"].shape[0]
    bs = int(min(batch_size, m))
    scratch = (
        *(() if sparse else (np.empty((n_x, bs), dt),)),
        np.empty((n_y, bs), dt),
        np.empty(bs, dt),
        np.empty((n_h, bs), dt),
        np.empty((n_h, bs), dt),
        np.empty((n_y, bs), dt),
        np.empty(bs, dt),
        np.empty((n_h, n_x), dt),
        np.empty(n_h, dt),
        np.empty((n_y, n_h), dt),
        np.empty(n_y, dt),
    )
    flat = {k: (a.reshape(-1) if k[1] == "b" else a) for k, a in state.items() if k != "t"}
    t = np.array([state["t"]], dtype=np.longlong)
    order = np.empty(0, np.intp) if order is None else np.ascontiguousarray(order, dtype=np.intp)
    signal_every = _threads.signal_every(_threads.flops(n_x, n_h, n_y, bs))
    if sparse:  # X.T's rows as CSR; the output code as the dense kernel's (auto: logistic for one unit, else softmax)
        kernel, data = _core.train_epoch_csr, _fast._csr_arrays(X.T, dt)
        codes = (_core.ACTIVATION_CODES[activation], _core.OUTPUT_CODES["auto" if out is None else out])
        tail = (signal_every,)
        scratch += (np.empty((n_x, n_h), dt), np.empty((n_x, n_h), dt), np.empty((bs, n_h), dt))
    else:
        kernel, data, codes = _core.train_epoch, (X,), (_core.ACTIVATION_CODES[activation],)
        tail = (signal_every, _core.OUTPUT_CODES["auto" if out is None else out])
    try:
        return kernel(
            *data,
            Y,
            sw,
            order,
            bs,
            params["W1"],
            params["b1"].reshape(-1),
            params["W2"],
            params["b2"].reshape(-1),
            *(flat[k] for k in _STATE_KEYS),
            t,
            *codes,
            _core.SOLVER_CODES[solver],
            float(lr),
            float(momentum),
            bool(nesterov),
            float(beta_1),
            float(beta_2),
            float(epsilon),
            float(alpha),
            *scratch,
            *tail,
        )
    finally:
        state["t"] = int(t[0])

"""Data-parallel training and prediction on a Dask cluster.

``pip install "shallownet_fast[dask]"``; ``import shallownet_fast`` never imports this module or dask.

Training (:func:`fit`) of a ShallowNetClassifier or a ShallowNetRegressor,
full-batch gradient descent (``solver="gd"``)::

    client                                 workers (each holds its own partitions)
    ------                                 ---------------------------------------
    params --- scattered once per step --> each partition p: loss and gradient sums of its rows
                                           (_partition_sums), for the current parameters
                                           partial sums added pairwise, in partition order
    loss, gradient <--- one gradient ----- (a tree of fixed shape: the result does not depend
    one solver step (_minibatch.apply_step)  on which worker finishes first)

The data never leaves its worker: it is read, checked and laid out (one
example per column, the network's dtype) once, where it is, and kept there as
futures; the scheduler can recompute a partition lost with its worker from its
lineage.  Per step the parameters go out (once per worker) and partial sums of
the gradient's size come back (see docs/dask.md for the sizes and the scaling
model).  The result equals ``estimator.fit`` on the concatenated data to
rounding, for any partitioning: empty partitions, partitions of one class and
uneven partitions included.

``solver="lbfgs"`` runs the estimator's own L-BFGS-B on the client, each of
its function evaluations being one such distributed loss and gradient.  The
mini-batch solvers ("sgd", "adam") take one such step per batch: the
client draws the epoch's permutation as the estimator does and sends each
partition its rows of the batch (indices only), so that the steps are the
single-machine run's with the same batches.  The step-size schedules
("invscaling", "adaptive") apply per epoch as in fit.  Early stopping and
class_weight are not distributed (a ValueError says so).

Prediction (:func:`predict`, :func:`predict_proba`, :func:`decision_function`)
maps the fitted estimator's own method over the row blocks of a dask Array or
the partitions of a dask DataFrame, on the workers.
"""

import time
import warnings
from typing import NamedTuple

import numpy as np

try:
    import dask
    import dask.array as da
    from dask.distributed import default_client
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        'shallownet_fast.dask needs dask and distributed, which are not installed: pip install "shallownet_fast[dask]"'
    ) from exc

try:  # dask DataFrames need pandas and pyarrow (dask[dataframe]); arrays do not
    import dask.dataframe as dd

    _FRAMES: tuple = (dd.DataFrame,)
    _SERIES: tuple = (dd.Series, dd.DataFrame)
except ImportError:  # pragma: no cover
    _FRAMES = _SERIES = ()

from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_is_fitted

from . import _lbfgs, _minibatch, _numerics, _threads
from ._labels import one_hot
from ._validation import PARAM_KEYS
from .estimators._base import _STOP_MESSAGES, BaseShallowNet

__all__ = ["fit", "predict", "predict_proba", "decision_function", "distribute", "loss_and_gradient"]

DISTRIBUTED_SOLVERS = ("gd", "lbfgs", "sgd", "adam")


# ---------------------------------------------------------------- what runs on the workers


def _partition_sums(part, params, activation, output, backend, alpha_share, rows=None):
    """Loss and gradient sums of one partition's rows for `params` (runs on a worker).

    THE one place that computes a partition's contribution.  backend "fast":
    the compiled full-batch entry ``loss_gradient`` (the one L-BFGS-B uses,
    through :func:`shallownet_fast._lbfgs._fast_loss_grad`), which runs with
    the GIL released and its BLAS products on the calling thread (one thread
    per worker thread); "reference": the NumPy formulas of
    :func:`shallownet_fast._numerics.batch_loss_and_grads`.  `output` is the
    output layer and its loss ("logistic", "softmax" or "identity").

    Both give ``(sums + a W) / s_p`` with ``s_p`` the
    partition's total weight; called with ``a = alpha * s_p / s`` (the
    partition's share of the L2 penalty, ``s`` the total weight of the data)
    and multiplied by ``s_p``, it gives ``sums_p + alpha W s_p / s``, whose sum
    over the partitions, divided by ``s``, is the loss and the gradient of the
    whole data set: the single-machine formula, term for term.  With `rows`
    (a mini-batch's rows of this partition) the same for that batch, ``s``
    being the batch's total weight.

    Returns
    -------
    dict with "loss" (float: the partition's term of ``s * loss``) and W1, b1, W2, b2
    (its terms of ``s * gradient``), or None for a partition without rows.
    """
    XT, Y, sw, _ = part
    if rows is not None:  # a mini-batch's rows of this partition
        XT, Y, sw = XT[:, rows], Y[:, rows], sw[rows]
    if XT.shape[1] == 0:
        return None
    s_p = float(sw.sum(dtype=np.float64))
    if backend == "fast":
        loss_grad = _lbfgs._fast_loss_grad(XT, Y, sw, params, activation, output, alpha_share * s_p)
        with _threads.blas_on_this_thread():
            loss, grads = loss_grad()
        grads = dict(zip(PARAM_KEYS, grads))
    else:
        loss, grads = _numerics.batch_loss_and_grads(params, XT, Y, sw, activation, alpha_share * s_p, output)
    dt = XT.dtype.type
    out = {k: grads[k].reshape(params[k].shape) * dt(s_p) for k in PARAM_KEYS}
    out["loss"] = loss * s_p
    return out


def _identity(x):
    return x


def _add(a, b):
    """The sum of two partial results (None: a partition without rows)."""
    if a is None:
        return b
    if b is None:
        return a
    return {k: a[k] + b[k] for k in a}


def _partition_labels(i, yb):
    """The distinct labels of partition `i` (the class pass); NaN labels are a ValueError naming it."""
    y = _column(yb)
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError(f"partition {i} of y contains NaN labels")
    if y.dtype.kind == "O":
        bad = [v for v in y if v is None or (isinstance(v, float) and np.isnan(v))]
        if bad:
            raise ValueError(f"partition {i} of y contains missing labels ({bad[0]!r})")
    return np.unique(y) if y.size else y


def _column(yb):
    """A partition of labels or weights (NumPy, pandas Series or one-column frame) as a 1-D ndarray."""
    y = yb.to_numpy() if hasattr(yb, "to_numpy") else np.asarray(yb)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    return y


def _regression_targets(i, yb, n_outputs, n_rows):
    """Partition `i` of a regressor's targets as a float64 array (n_rows, n_outputs); ValueError naming it."""
    y = yb.to_numpy() if hasattr(yb, "to_numpy") else np.asarray(yb)
    y = y.reshape(-1, 1) if y.ndim == 1 else y
    if y.ndim != 2 or y.shape != (n_rows, n_outputs):
        raise ValueError(f"partition {i}: y has shape {y.shape}, expected ({n_rows}, {n_outputs}) targets")
    try:
        y = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"partition {i} of y is not numeric: {exc}") from None
    if not np.isfinite(y).all():
        raise ValueError(f"partition {i} of y contains NaN or infinity")
    return y


def _prepare_partition(i, xb, yb, wb, n_features, dtype, classes, n_outputs=None):
    """Partition `i` checked and laid out for training: (XT, Y, sw, codes) of its positively weighted rows.

    `classes` (sorted labels) for a classifier: Y one-hot, codes the rows'
    class codes; None for a regressor: Y the `n_outputs` targets (n_outputs,
    rows), codes empty.  Raises ValueError naming the partition for a wrong
    width, a length mismatch, a non-finite value, a label outside `classes`,
    a bad weight.
    """
    X = xb.to_numpy() if hasattr(xb, "to_numpy") else np.asarray(xb)
    if X.ndim != 2 or X.shape[1] != n_features:
        raise ValueError(f"partition {i} of X has shape {X.shape}: expected {n_features} columns")
    if classes is None:
        y = _regression_targets(i, yb, n_outputs, X.shape[0])
    else:
        y = _column(yb)
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"partition {i}: y has shape {y.shape}, X has {X.shape[0]} rows")
    try:
        X = np.asarray(X, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"partition {i} of X is not numeric: {exc}") from None
    if not np.isfinite(X).all():
        raise ValueError(f"partition {i} of X contains NaN or infinity")
    if classes is None:
        codes = y  # the targets, filtered with the rows below
    else:
        codes = np.searchsorted(classes, y) if y.size else np.zeros(0, np.intp)
        codes = np.minimum(codes, len(classes) - 1)
        unknown = classes[codes] != y
        if np.any(unknown):
            raise ValueError(
                f"partition {i} of y has labels not in classes_ {classes.tolist()!r}: "
                f"{np.unique(y[unknown]).tolist()!r}"
            )
    if wb is None:
        sw = np.ones(X.shape[0], dtype)
    else:
        sw = np.asarray(_column(wb), dtype=dtype)
        if sw.shape != (X.shape[0],):
            raise ValueError(f"partition {i}: sample_weight has shape {sw.shape}, X has {X.shape[0]} rows")
        if not np.isfinite(sw).all() or np.any(sw < 0):
            raise ValueError(f"partition {i} of sample_weight has a negative or non-finite weight")
        keep = sw > 0
        X, codes, sw = X[keep], codes[keep], sw[keep]
    XT = np.ascontiguousarray(X.T)
    if classes is None:  # the regressor's targets, as its _targets lays them out
        return XT, np.ascontiguousarray(codes.T, dtype=dtype), np.ascontiguousarray(sw), np.zeros(0, np.intp)
    return XT, one_hot(codes.astype(np.intp), len(classes), dtype), np.ascontiguousarray(sw), codes


def _weights(part):
    """The sample weights of a prepared partition (for the mini-batch solvers' batch weights)."""
    return part[2]


def _summary(part):
    """(rows, total weight, distinct codes) of a prepared partition: what the client needs to know of it."""
    XT, _, sw, codes = part
    return XT.shape[1], float(sw.sum(dtype=np.float64)), np.unique(codes)


# ---------------------------------------------------------------- on the client


def _partitions(X, y, sample_weight):
    """The (X, y, weight) delayed partitions, aligned, and the number of features."""
    if isinstance(X, da.Array):
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D, got a dask array of shape {X.shape}")
        n_features = X.shape[1]
        xs = list(X.rechunk({1: -1}).to_delayed()[:, 0])
    elif isinstance(X, _FRAMES):
        n_features = len(X.columns)
        xs = list(X.to_delayed())
    else:
        raise TypeError(
            f"X must be a dask Array or dask DataFrame, got {type(X).__name__}; for NumPy or pandas use estimator.fit"
        )

    def split(v, name):
        if v is None:
            return [None] * len(xs)
        if isinstance(v, da.Array):
            if isinstance(X, da.Array) and v.chunks[0] != X.chunks[0]:
                v = v.rechunk({0: X.chunks[0]})
            if v.ndim == 2:
                v = v.rechunk({1: -1})
            parts = list(v.to_delayed().ravel()) if v.ndim == 1 else list(v.to_delayed()[:, 0])
        elif isinstance(v, _SERIES):
            parts = list(v.to_delayed())
        else:
            raise TypeError(f"{name} must be a dask Array or Series partitioned like X, got {type(v).__name__}")
        if len(parts) != len(xs):
            raise ValueError(f"{name} has {len(parts)} partitions and X {len(xs)}: partition them alike")
        return parts

    return xs, split(y, "y"), split(sample_weight, "sample_weight"), n_features


def _feature_names(X):
    if isinstance(X, _FRAMES):
        names = np.asarray(X.columns, dtype=object)
        if len(names) and all(isinstance(c, str) for c in names):
            return names
    return None


def _dtype(X):
    dtypes = X.dtypes.tolist() if isinstance(X, _FRAMES) else [X.dtype]
    return np.dtype(np.float32) if dtypes and all(np.dtype(d) == np.float32 for d in dtypes) else np.dtype(np.float64)


def fit(estimator, X, y, sample_weight=None, *, classes=None, client=None):
    """Train `estimator` data-parallel on a Dask cluster; returns the fitted estimator.

    Equals ``estimator.fit(X_all, y_all, sample_weight_all)`` on the
    concatenated partitions, to rounding: the same initialisation and random
    draws, the same steps, the same stopping rule and fitted attributes.

    Parameters
    ----------
    estimator : ShallowNetClassifier or ShallowNetRegressor
        Any solver ("gd", "lbfgs", "sgd", "adam"), any learning_rate schedule,
        ``early_stopping=False`` (and a classifier's ``class_weight=None``).
        ``warm_start=True`` continues from the fitted parameters and optimizer state.
    X : dask Array of shape (n_samples, n_features) or dask DataFrame
        Chunked by rows only (column chunks are merged).
    y : dask Array, Series or DataFrame partitioned like X
        A classifier's labels (numbers or strings, one column); a regressor's
        targets, one column or (dask Array of shape (n_samples, n_outputs),
        DataFrame) several.
    sample_weight : dask Array or Series partitioned like X, or None
    classes : array-like or None
        A classifier's labels; None finds them in one pass over y.  With
        warm_start the fitted ``classes_`` apply.  Not for a regressor.
    client : dask.distributed.Client or None
        None: the current client.

    Raises
    ------
    ValueError
        For a bad partition (its number in the message), an unsupported solver
        or setting, fewer than two classes.  The estimator is left as it was.
    """
    client = default_client() if client is None else client
    snapshot = estimator._snapshot()
    try:
        return _fit(estimator, X, y, sample_weight, classes, client)
    except BaseException:
        estimator._restore(snapshot)
        raise


def _n_outputs_of(y):
    """A regressor's number of outputs from the dask collection y (one column: 1)."""
    if isinstance(y, da.Array):
        return 1 if y.ndim == 1 else int(y.shape[1])
    if _FRAMES and isinstance(y, _FRAMES):
        return len(y.columns)
    return 1


def _fit(est, X, y, sample_weight, classes, client):
    if not isinstance(est, BaseShallowNet):
        raise TypeError(
            f"shallownet_fast.dask.fit trains a ShallowNetClassifier or ShallowNetRegressor, got {type(est).__name__}"
        )
    est._validate_hyperparameters()
    if est.solver not in DISTRIBUTED_SOLVERS:
        raise ValueError(
            f"shallownet_fast.dask.fit supports solver in {DISTRIBUTED_SOLVERS}, got solver={est.solver!r}"
        )
    if est.early_stopping:
        raise ValueError("shallownet_fast.dask.fit does not support early_stopping=True")
    if getattr(est, "class_weight", None) is not None:
        raise ValueError(
            "shallownet_fast.dask.fit does not support class_weight: pass the weights as sample_weight "
            "(a dask Array or Series partitioned like X)"
        )
    if not is_classifier(est):
        return _fit_regressor(est, X, y, sample_weight, classes, client)
    xs, ys, ws, n_features = _partitions(X, y, sample_weight)
    first = not hasattr(est, "coefs_") or not est.warm_start
    if not first and n_features != est.n_features_in_:
        raise ValueError(f"X has {n_features} features, but {type(est).__name__} was fitted with {est.n_features_in_}")

    # The classes: given, fitted, or found by one pass over the labels.
    if not first:
        all_classes = est.classes_
    elif classes is not None:
        all_classes = unique_labels(np.asarray(classes))
    else:
        labels = client.gather(client.compute([dask.delayed(_partition_labels)(i, yb) for i, yb in enumerate(ys)]))
        labels = [v for v in labels if v.size]
        if not labels:
            raise ValueError("y has no labels: every partition is empty")
        all_classes = unique_labels(*labels)
    check_classification_targets(all_classes)
    if len(all_classes) < 2:
        raise ValueError(
            f"{type(est).__name__} needs samples of at least 2 classes, but the data contains "
            f"only one class: {all_classes[0]!r}"
        )
    dtype = _dtype(X) if first else est.coefs_[0].dtype

    data = distribute(X, y, sample_weight, classes=all_classes, dtype=dtype, client=client)
    if len(data.seen) < 2:
        raise ValueError(
            f"{type(est).__name__} needs samples of at least 2 classes with a positive sample weight, "
            f"but only one class remains: {all_classes[data.seen[0]]!r}"
        )

    if first:
        est.classes_ = all_classes
    return _train(est, client, data, X, n_features, dtype, first)


def _fit_regressor(est, X, y, sample_weight, classes, client):
    if classes is not None:
        raise ValueError(f"classes is for a classifier: {type(est).__name__} takes numeric targets")
    xs, ys, ws, n_features = _partitions(X, y, sample_weight)
    first = not hasattr(est, "coefs_") or not est.warm_start
    if not first and n_features != est.n_features_in_:
        raise ValueError(f"X has {n_features} features, but {type(est).__name__} was fitted with {est.n_features_in_}")
    n_outputs = _n_outputs_of(y)
    if not first and n_outputs != est.n_outputs_:
        raise ValueError(f"y has {n_outputs} output(s), the network was fitted on {est.n_outputs_}")
    dtype = _dtype(X) if first else est.coefs_[0].dtype
    data = distribute(X, y, sample_weight, classes=None, dtype=dtype, client=client, n_outputs=n_outputs)
    if first:
        est._n_targets = n_outputs
    return _train(est, client, data, X, n_features, dtype, first)


def _train(est, client, data, X, n_features, dtype, first):
    """The estimator's own initialisation (same random draws as fit) or warm start, then the solver."""
    rng = check_random_state(est.random_state)
    if first:
        est.n_features_in_ = n_features
        names = _feature_names(X)
        if names is not None:
            est.feature_names_in_ = names
        elif hasattr(est, "feature_names_in_"):
            del est.feature_names_in_
        params, state = est._initialize(n_features, dtype, rng)
    else:
        params, state = est._resume()
    est._no_improvement_count = 0
    est._learning_rate = est._learning_rate_init()  # a new schedule, as fit starts one
    est._publish(params, state)
    if est.solver == "lbfgs":
        _run_lbfgs(est, client, data, params, state)
    else:
        _run(est, client, data, params, state, rng)
    return est


class DistributedData(NamedTuple):
    """Training data checked and laid out on the workers (see :func:`distribute`)."""

    parts: list  # futures of the non-empty partitions, in order
    m: int  # samples of positive weight
    total_weight: float
    seen: np.ndarray  # codes of the classes that have samples of positive weight (a regressor's: none)
    sizes: list  # rows of each of `parts`
    output: str  # the output layer and its loss: "logistic", "softmax" or "identity"


def distribute(X, y, sample_weight=None, *, classes, dtype, client=None, n_outputs=None):
    """Check each partition of (X, y, sample_weight) and lay it out on its worker, once.

    The partitions become futures of (XT, Y, sw, codes) for the positively
    weighted rows, with their lineage (a lost worker's partitions are
    recomputed).  `classes` are all the labels (sorted) of a classifier, or
    None for a regressor's numeric targets (`n_outputs` columns, 1 by
    default); `dtype` is the network's.  Raises ValueError naming a bad
    partition, or when every weight is zero.
    """
    client = default_client() if client is None else client
    xs, ys, ws, n_features = _partitions(X, y, sample_weight)
    if classes is None:
        n_outputs = 1 if n_outputs is None else int(n_outputs)
        output = "identity"
    else:
        classes = np.asarray(classes)
        output = "logistic" if len(classes) <= 2 else "softmax"
    parts = client.compute(
        [
            dask.delayed(_prepare_partition)(i, xb, yb, wb, n_features, np.dtype(dtype), classes, n_outputs)
            for i, (xb, yb, wb) in enumerate(zip(xs, ys, ws))
        ]
    )
    summaries = client.gather(client.map(_summary, parts))
    m = sum(s[0] for s in summaries)
    total_weight = float(sum(s[1] for s in summaries))
    if m == 0 or not total_weight > 0:
        raise ValueError("sample_weight must contain at least one positive weight: all the weights are zero")
    seen = np.unique(np.concatenate([s[2] for s in summaries]))
    live = [p for p, s in zip(parts, summaries) if s[0] > 0]
    return DistributedData(live, m, total_weight, seen, [s[0] for s in summaries if s[0] > 0], output)


def _step_sums(client, parts, params, how, alpha_share, rows=None):
    """Send `params`, sum the partitions' contributions in a fixed binary tree; the root as a future.

    The parameters go out as a task that returns them (not scattered data):
    their copy travels once to one worker, the others fetch it from there, and
    if that worker dies the scheduler runs the task again elsewhere.
    """
    pf = client.submit(_identity, params, pure=False)
    if rows is None:
        level = [client.submit(_partition_sums, p, pf, *how, alpha_share, pure=False) for p in parts]
    else:  # only the partitions with rows in this batch
        level = [
            client.submit(_partition_sums, p, pf, *how, alpha_share, r, pure=False)
            for p, r in zip(parts, rows)
            if r is not None and len(r)
        ]
    while len(level) > 1:
        nxt = [client.submit(_add, level[k], level[k + 1], pure=False) for k in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def loss_and_gradient(data, params, activation, alpha, client=None, *, backend="fast"):
    """The loss and the gradients (W1, b1, W2, b2) of all of `data` for `params`, summed on the cluster.

    The single-machine ``_numerics.batch_loss_and_grads`` of the concatenated
    data (with its output layer, ``data.output``), to rounding: what a
    full-batch solver (gd's step, or the function L-BFGS-B minimises) needs at
    each iteration.  `backend` "fast" computes each partition's sums with the
    compiled kernels, "reference" with NumPy.
    """
    if backend not in ("fast", "reference"):
        raise ValueError(f"backend must be 'fast' or 'reference', got {backend!r}")
    client = default_client() if client is None else client
    how = (activation, data.output, backend)
    sums = client.gather(_step_sums(client, data.parts, params, how, float(alpha) / data.total_weight))
    dt = params["W1"].dtype.type
    return sums["loss"] / data.total_weight, {k: sums[k] / dt(data.total_weight) for k in PARAM_KEYS}


def _batches(est, data, rng):
    """The epochs' batches as the single-machine engine draws them: a generator of lists of index arrays.

    gd: one batch of all the rows (None).  sgd, adam: the rows of the
    concatenated partitions (positively weighted rows, partition order)
    permuted per epoch from `rng` as the estimator permutes them (with
    `shuffle`), cut into batches of `batch_size`.
    """
    m = data.m
    if est.solver == "gd":
        while True:
            yield [None]
    batch_size = min(200, m) if est.batch_size == "auto" else min(int(est.batch_size), m)
    sample_idx = np.arange(m, dtype=np.intp)
    while True:
        if est.shuffle:
            perm = np.arange(m, dtype=np.intp)
            rng.shuffle(perm)  # as the estimator draws it
            sample_idx = sample_idx[perm]
        yield [sample_idx[s : s + batch_size] for s in range(0, m, batch_size)]


def _batch_loss_and_gradient(client, data, params, est, idx, weights):
    """Loss and gradients of one batch (global row indices `idx`; None: all the rows), summed on the cluster."""
    if idx is None:
        return loss_and_gradient(data, params, est.activation, est.alpha, client, backend=est.backend)
    starts = np.concatenate([[0], np.cumsum(data.sizes)[:-1]])
    owner = np.searchsorted(starts, idx, side="right") - 1
    rows = [idx[owner == p] - starts[p] for p in range(len(data.parts))]
    s_b = float(weights[idx].sum(dtype=np.float64))
    how = (est.activation, data.output, est.backend)
    sums = client.gather(_step_sums(client, data.parts, params, how, float(est.alpha) / s_b, rows))
    dt = params["W1"].dtype.type
    return sums["loss"] / s_b, {k: sums[k] / dt(s_b) for k in PARAM_KEYS}


def _run(est, client, data, params, state, rng):
    """The epoch loop of fit: for gd one step per epoch; for sgd and adam one per batch, the batches
    drawn as the single-machine engine draws them.  The estimator's step-size schedule (invscaling,
    adaptive: sgd and gd), stopping rule, callback, max_time, as its _fit_epochs applies them."""
    est.n_iter_ = 0
    start = time.perf_counter()
    stop_reason = "max_iter"
    scheduled = est.solver in ("sgd", "gd")
    schedule = est._schedule()
    weights = None
    if est.solver != "gd":  # the batches' total weights need the weights (one float a sample)
        weights = np.concatenate(client.gather(client.map(_weights, data.parts))).astype(np.float64)
    epochs = _batches(est, data, rng)
    for _ in range(est.max_iter):
        lr = est._learning_rate if scheduled else est._learning_rate_init()
        total = 0.0
        for idx in next(epochs):
            loss_b, grads = _batch_loss_and_gradient(client, data, params, est, idx, weights)
            total += loss_b * (data.m if idx is None else len(idx))
            _minibatch.apply_step(
                params, state, grads, est.solver, lr, est.momentum, est._nesterov(), est.beta_1, est.beta_2, est.epsilon
            )
        loss = total / data.m
        if not np.isfinite(loss) or not all(np.isfinite(params[k]).all() for k in PARAM_KEYS):
            raise FloatingPointError(
                f"{type(est).__name__} diverged in epoch {est.n_iter_ + 1}: the loss or the parameters are no "
                f"longer finite. learning_rate_init={lr!r} is too large for this problem (try a "
                "smaller learning_rate_init, or standardise X). The estimator is left as it was before this call."
            )
        est.n_iter_ += 1
        est.t_ += data.m
        est.loss_ = loss
        est.loss_curve_.append(loss)
        est._update_no_improvement_count(loss, None, params)
        if scheduled and schedule == "invscaling":  # per epoch, t_ samples seen
            est._learning_rate = est._learning_rate_init() / (est.t_ + 1) ** float(est.power_t)
        stop = False
        if est._no_improvement_count > est.n_iter_no_change:
            stop = est._stop_or_adapt(bool(est.verbose))
        if est.callback is not None and est.callback(est):
            stop_reason = "callback"
            break
        if stop:
            stop_reason = "converged"
            break
        if est.max_time is not None and time.perf_counter() - start >= est.max_time:
            stop_reason = "max_time"
            break
    est._finish(params, state, stop_reason)
    if est.verbose:
        print(_STOP_MESSAGES[stop_reason].format(self=est), flush=True)
    if stop_reason == "max_iter":
        warnings.warn(
            f"{type(est).__name__}: maximum number of epochs ({est.max_iter}) reached and the "
            "optimization hasn't converged yet.",
            ConvergenceWarning,
            stacklevel=3,
        )


def _run_lbfgs(est, client, data, params, state):
    """solver="lbfgs": the estimator's L-BFGS-B (MLP's max_iter, max_fun, tol) over the cluster's loss and
    gradient of all the data; the fitted attributes as the estimator's _fit_lbfgs sets them."""

    def loss_grad():
        loss, grads = loss_and_gradient(data, params, est.activation, est.alpha, client, backend=est.backend)
        return loss, tuple(grads[k] for k in PARAM_KEYS)

    callback = None if est.callback is None else (lambda *args: est.callback(est))
    n_iter, loss, loss_curve = _lbfgs.minimize_function(
        loss_grad, params, max_iter=int(est.max_iter), max_fun=int(est.max_fun), tol=float(est.tol), callback=callback
    )
    est.n_iter_ = int(n_iter)
    est.t_ += data.m
    est.loss_ = float(loss)
    est.loss_curve_ = list(loss_curve)
    est.best_loss_ = min(est.loss_curve_, default=est.loss_)
    est.validation_scores_ = est.validation_loss_curve_ = est.best_validation_score_ = None
    est._finish(params, state, "lbfgs")


# ---------------------------------------------------------------- predictions


def _blocks(X):
    if isinstance(X, da.Array):
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D, got a dask array of shape {X.shape}")
        return X.rechunk({1: -1})
    if isinstance(X, _FRAMES):
        return X
    raise TypeError(f"X must be a dask Array or dask DataFrame, got {type(X).__name__}; for NumPy call the estimator")


def _out_dtype(est, X):
    x32 = _dtype(X) == np.float32
    return np.dtype(np.float32) if x32 and est.coefs_[0].dtype == np.float32 else np.dtype(np.float64)


def _map(est, X, method, dtype, width):
    """`est.<method>` over the row blocks of X on the workers: a dask Array of `dtype`, (n,) or (n, width)."""
    check_is_fitted(est)
    est._validate_hyperparameters(est._predict_parameters)
    Xb = _blocks(X)
    kw = dict(est=est, method=method, width=width, out_dtype=dtype)
    if isinstance(Xb, da.Array):
        if width is None:
            return Xb.map_blocks(_predict_block, dtype=dtype, drop_axis=1, chunks=(Xb.chunks[0],), **kw)
        return Xb.map_blocks(_predict_block, dtype=dtype, chunks=(Xb.chunks[0], (width,)), **kw)
    meta = np.empty((0,) if width is None else (0, width), dtype)
    return Xb.map_partitions(_predict_block, meta=meta, **kw)


def _predict_block(block, est, method, width, out_dtype):
    """`est.<method>` of one block (runs on a worker); an empty block gives an empty result of the right shape."""
    if block.shape[0] == 0:
        return np.empty((0,) if width is None else (0, width), out_dtype)
    return getattr(est, method)(block)


def _n_outputs(est):
    check_is_fitted(est)
    return est.coefs_[1].shape[1]


def _classifier_only(est, method):
    if not is_classifier(est):
        raise TypeError(f"{method} needs a fitted ShallowNetClassifier, got {type(est).__name__}")


def predict(estimator, X):
    """Predictions of a dask Array or DataFrame X, a dask Array chunked by X's rows.

    A classifier's labels (``classes_``'s dtype); a regressor's targets,
    (n_samples,) for one output and (n_samples, n_outputs) otherwise, float32
    for float32 X and network.
    """
    check_is_fitted(estimator)
    if is_classifier(estimator):
        return _map(estimator, X, "predict", estimator.classes_.dtype, None)
    n = _n_outputs(estimator)
    return _map(estimator, X, "predict", _out_dtype(estimator, X), None if n == 1 else n)


def predict_proba(estimator, X):
    """Class probabilities: a dask Array (n_samples, n_classes), float32 for float32 X and network."""
    _classifier_only(estimator, "predict_proba")
    check_is_fitted(estimator)
    return _map(estimator, X, "predict_proba", _out_dtype(estimator, X), len(estimator.classes_))


def decision_function(estimator, X):
    """Output-layer pre-activations: (n_samples,) for two classes, (n_samples, n_classes) otherwise."""
    _classifier_only(estimator, "decision_function")
    n = _n_outputs(estimator)
    return _map(estimator, X, "decision_function", _out_dtype(estimator, X), None if n == 1 else n)

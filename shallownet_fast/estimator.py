"""ShallowNetClassifier: the shallow network as a scikit-learn classifier.

A drop-in for :class:`sklearn.neural_network.MLPClassifier` with one hidden
layer, trained by :mod:`shallownet_fast._minibatch` (one compiled call per
epoch with ``backend="fast"``, NumPy with ``backend="reference"``).  The
formulas, the initialisation, the batches and the stopping rule are
MLPClassifier's, so that the same settings give the same model (to rounding)::

    MLPClassifier(hidden_layer_sizes=(h,), activation=a, solver=s, learning_rate_init=lr,
                  nesterovs_momentum=n, ...)
    ShallowNetClassifier(hidden_units=h, activation=a, solver=s, learning_rate=lr,
                         nesterov=n, ...)

(``activation="sigmoid"`` is MLPClassifier's ``"logistic"``; ``solver="gd"``
is full-batch gradient descent, which MLPClassifier spells ``solver="sgd",
batch_size=n_samples``.)

scikit-learn is an optional dependency: ``pip install "shallownet_fast[sklearn]"``.
"""

import contextlib
import json
import math
import numbers
import sys
import time
import warnings

import numpy as np

_INSTALL_HINT = (
    'ShallowNetClassifier needs scikit-learn, which is not installed: pip install "shallownet_fast[sklearn]"'
)

try:
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets, unique_labels
    from sklearn.utils.validation import _check_sample_weight, check_is_fitted
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(_INSTALL_HINT) from exc

try:
    from sklearn.utils.validation import validate_data
except ImportError:  # pragma: no cover - scikit-learn < 1.6

    def validate_data(estimator, *args, **kwargs):
        return estimator._validate_data(*args, **kwargs)


from . import _minibatch
from . import fast as _fast
from . import reference as _ref

__all__ = ["ShallowNetClassifier"]

ACTIVATIONS = ("relu", "tanh", "leaky_relu", "sigmoid")
SOLVERS = ("gd", "sgd", "adam")
BACKENDS = ("fast", "reference")
FORMAT_VERSION = 1

# n_threads=None: BLAS runs on one thread when a batch needs fewer floating-point
# operations than this (the threshold of shallownet_fast.fast.nn_model).
_THREADED_MIN_FLOPS = 2e7
# Predictions run over row blocks of about this many array elements, so that
# predicting on a memory map never holds more than a block of it in memory.
_PREDICT_BLOCK_ELEMENTS = 1 << 20
_MIN_PREDICT_ROWS = 256
# Shuffled epochs over at least this many elements of X are permuted before the engine
# runs (see _EpochData), row blocks of about _PREPERMUTE_BLOCK_ELEMENTS at a time.
_PREPERMUTE_MIN_ELEMENTS = 1 << 16
_PREPERMUTE_BLOCK_ELEMENTS = 1 << 18


# ---------------------------------------------------------------- NumPy helpers


def _loss_and_grads(params, X, Y, sample_weight, *, activation, alpha):
    """Loss and gradients of one batch, in NumPy (the formulas of the training engine).

    Parameters
    ----------
    params : dict with W1 (n_h, n_x), b1 (n_h, 1), W2 (n_y, n_h), b2 (n_y, 1)
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (n_y, m), 0/1 (one-hot columns when n_y > 1)
    sample_weight : ndarray of shape (m,)
    activation : str
    alpha : float
        L2 penalty.

    Returns
    -------
    loss : float
        ``-sum(w * log-likelihood) / sw + alpha / 2 * (|W1|^2 + |W2|^2) / sw`` with
        ``sw = sum(w)``.
    grads : dict with W1, b1, W2, b2
        Its gradient: the output delta ``(A2 - Y) * w``, weight gradients
        ``(sums + alpha * W) / sw``, bias gradients ``sums / sw``.
    """
    W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
    sw_sum = float(np.sum(sample_weight))
    A2, cache = _ref._forward(X, W1, b1, W2, b2, activation)
    P = _ref._clip_probabilities(A2)
    if Y.shape[0] == 1:
        loglik = Y * np.log(P) + (1 - Y) * np.log1p(-P)
    else:
        loglik = Y * np.log(P)
    squares = float(np.sum(W1 * W1) + np.sum(W2 * W2))
    loss = -float(loglik.sum(axis=0) @ sample_weight) / sw_sum + 0.5 * alpha * squares / sw_sum
    dZ2 = (A2 - Y) * sample_weight
    dZ1 = (W2.T @ dZ2) * _ref._activation_derivative(cache["A1"], activation)
    grads = {
        "W1": (dZ1 @ X.T + alpha * W1) / sw_sum,
        "b1": dZ1.sum(axis=1, keepdims=True) / sw_sum,
        "W2": (dZ2 @ cache["A1"].T + alpha * W2) / sw_sum,
        "b2": dZ2.sum(axis=1, keepdims=True) / sw_sum,
    }
    return loss, grads


def _log_sigmoid(Z):
    """log(sigmoid(z)) without overflow or log(0)."""
    return -np.logaddexp(Z.dtype.type(0), -Z)


def _log_softmax(Z):
    """Log of the softmax over each row of Z (n, n_classes)."""
    shifted = Z - Z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _threads(n_threads):
    """A context giving BLAS `n_threads` threads; None leaves BLAS as it is.

    fast's limiter: overlapping calls from several Python threads share one
    limit, and the last one out restores BLAS's own setting.
    """
    if n_threads is None:
        return contextlib.nullcontext()
    return _fast._limited_blas(n_threads)


class _EpochData:
    """The training data as the engine takes it: one example per column, C-contiguous, in the network's dtype.

    With `order` None the columns are the samples in their order.  For a
    shuffled epoch of a small data set the engine gathers each batch's
    columns itself (`order`).  A large data set is instead permuted here,
    once per epoch, into one buffer that the engine then reads in natural
    order: gathering 200 scattered columns from every one of n_x long rows,
    batch after batch, misses the cache on nearly every element, whereas
    copying whole rows of X (n_samples, n_x) reads contiguous memory.  Both
    give the same batches in the same order.
    """

    def __init__(self, X, Y, sw, dtype, shuffled):
        self.m, self.n_x = X.shape
        self.Y, self.sw = Y, sw
        self.mode = "natural"
        if shuffled and X.size >= _PREPERMUTE_MIN_ELEMENTS:
            src = X if X.dtype == dtype else X.astype(dtype)
            if src.flags.c_contiguous:
                self.mode, self.rows = "rows", src
                self.block = max(64, _PREPERMUTE_BLOCK_ELEMENTS // self.n_x)
            else:
                self.mode, self.cols = "columns", np.ascontiguousarray(src.T)
            self.XT = np.empty((self.n_x, self.m), dtype)
            self.Yp, self.swp = np.empty_like(Y), np.empty_like(sw)
        else:
            self.XT = np.ascontiguousarray(X.T, dtype=dtype)

    def epoch(self, order):
        """(X, Y, sample_weight, order) for run_epoch, `order` being this epoch's permutation or None."""
        if self.mode == "natural" or order is None:
            return self.XT, self.Y, self.sw, order
        if self.mode == "rows":
            for s in range(0, self.m, self.block):
                self.XT[:, s : s + self.block] = self.rows[order[s : s + self.block]].T
        else:
            np.take(self.cols, order, axis=1, out=self.XT)
        np.take(self.Y, order, axis=1, out=self.Yp)
        np.take(self.sw, order, out=self.swp)
        return self.XT, self.Yp, self.swp, None


class _Progress:
    """verbose output: a tqdm bar over the epochs when tqdm is installed, a plain line per epoch otherwise."""

    def __init__(self, total, enabled):
        self.total, self.bar, self.enabled = total, None, bool(enabled)
        if not self.enabled:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        if tqdm is not None:
            self.bar = tqdm(total=total, desc="ShallowNetClassifier", unit="epoch", leave=True)

    def update(self, epoch, loss, val_score):
        if not self.enabled:
            return
        if self.bar is not None:
            post = {"loss": f"{loss:.6f}"}
            if val_score is not None:
                post["val_score"] = f"{val_score:.4f}"
            self.bar.set_postfix(post, refresh=False)
            self.bar.update(1)
        else:
            line = f"Epoch {epoch}/{self.total}: loss = {loss:.8f}"
            if val_score is not None:
                line += f", validation score = {val_score:.6f}"
            print(line, flush=True)

    def close(self, message=None):
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.close()
        if message:
            print(message, file=sys.stderr if self.bar is not None else sys.stdout, flush=True)


# ---------------------------------------------------------------- the estimator


class ShallowNetClassifier(ClassifierMixin, BaseEstimator):
    """A one-hidden-layer neural network classifier (scikit-learn API).

    Two classes use one sigmoid output unit; more classes a softmax over
    ``n_classes`` units.  The loss is the (sample-weighted) cross-entropy plus
    an L2 penalty, as in :class:`sklearn.neural_network.MLPClassifier`.

    Parameters
    ----------
    hidden_units : int, default 100
        Units of the hidden layer (MLPClassifier's ``hidden_layer_sizes=(hidden_units,)``).
    activation : {"relu", "tanh", "leaky_relu", "sigmoid"}, default "relu"
        Hidden activation; "relu" is MLPClassifier's default too.  "leaky_relu"
        has slope 0.01 below zero.
    solver : {"adam", "sgd", "gd"}, default "adam"
        "adam" and "sgd" (with `momentum` and `nesterov`) take one step per
        mini-batch; "gd" is full-batch gradient descent with momentum: one step
        per epoch over all the samples (`batch_size` and `shuffle` do not apply).
    learning_rate : float, default 0.001
        Step size (MLPClassifier's ``learning_rate_init``; it stays constant).
    batch_size : int or "auto", default "auto"
        Samples per mini-batch; "auto" is ``min(200, n_samples)``.  A batch size
        larger than the number of samples is clipped to it, silently.
    max_iter : int, default 200
        Maximum number of epochs (passes over the data) of one call to fit.
    momentum : float in [0, 1], default 0.9
        For "sgd" and "gd".
    nesterov : bool, default True
        Nesterov's momentum, for "sgd" and "gd".
    beta_1, beta_2 : float in [0, 1), default 0.9 and 0.999
        Decay rates of adam's first and second moment estimates.
    epsilon : float, default 1e-8
        adam's numerical-stability constant.
    alpha : float, default 1e-4
        L2 penalty: ``alpha / 2 * (|W1|^2 + |W2|^2)`` divided by the batch's
        total sample weight, as in MLPClassifier.
    tol : float, default 1e-4
        Tolerance of the stopping rule (see Notes).  ``-inf`` never stops early.
    n_iter_no_change : int, default 10
        Patience of the stopping rule (see Notes).
    early_stopping : bool, default False
        Set aside `validation_fraction` of the training data (a split
        stratified by class and seeded by `random_state`), stop on the
        validation accuracy, and keep the parameters of the best epoch.
        Not available in partial_fit.
    validation_fraction : float in (0, 1), default 0.1
    shuffle : bool, default True
        Shuffle the samples before each epoch (mini-batch solvers).
    random_state : int, RandomState instance or None, default None
        Seeds the initialisation, the shuffling and the validation split
        (:func:`sklearn.utils.check_random_state`, drawn from in the same order
        as MLPClassifier).
    warm_start : bool, default False
        fit continues from the previous solution, the optimizer's state
        (adam's moments, the velocities, the step count) included.
    backend : {"fast", "reference"}, default "fast"
        The compiled engine, or the NumPy specification; the two give the same
        parameters to rounding.
    n_threads : int or None, default None
        Threads BLAS may use (through threadpoolctl) in fit and in the
        predictions.  None: one thread when a batch is too small to gain from
        more (fewer than 2e7 floating-point operations), BLAS's default otherwise.
    verbose : bool, default False
        Show a progress bar (tqdm, when installed; a line per epoch otherwise)
        with the loss and the validation score.
    max_time : float or None, default None
        Stop after the first epoch that ends later than `max_time` seconds
        after fit started.
    callback : callable or None, default None
        ``callback(estimator)`` after each epoch of fit, with the fitted
        attributes up to date; a true return value stops training.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted (as :func:`sklearn.utils.multiclass.unique_labels` sorts them).
    coefs_ : list of two ndarrays
        ``coefs_[0]`` of shape (n_features, hidden_units) and ``coefs_[1]`` of
        shape (hidden_units, n_outputs): MLPClassifier's layout (``W1.T``, ``W2.T``).
    intercepts_ : list of two ndarrays
        Of shapes (hidden_units,) and (n_outputs,).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X had string column names (a pandas DataFrame).
    n_outputs_ : int
        1 for two classes, n_classes otherwise.
    n_layers_ : int
        3 (input, hidden, output), as MLPClassifier counts them.
    out_activation_ : {"logistic", "softmax"}
    loss_ : float
        The training loss of the last epoch.
    loss_curve_ : list of float
        The training loss of each epoch (the mean over batches of each batch's
        loss, weighted by batch size), across warm starts and partial_fit calls.
    best_loss_ : float or None
        The smallest value in `loss_curve_`; None with early stopping.
    validation_scores_ : list of float or None
        With early stopping: the validation accuracy (sample-weighted) after
        each epoch; None otherwise.
    validation_loss_curve_ : list of float or None
        With early stopping: the validation cross-entropy (sample-weighted,
        without the L2 term) after each epoch; None otherwise.
    best_validation_score_ : float or None
        With early stopping: the best of `validation_scores_`; None otherwise.
    n_iter_ : int
        Epochs run by the last call to fit; each partial_fit call adds one.
    t_ : int
        Training samples seen so far: ``n_samples`` more per epoch (as MLPClassifier counts).
    stop_reason_ : str
        Why the last fit stopped: "converged" (the stopping rule), "max_iter",
        "max_time", "callback", "interrupted" (KeyboardInterrupt), or
        "partial_fit".

    Notes
    -----
    **Stopping rule** (MLPClassifier's).  After each epoch a counter is updated:

    - without early stopping, it grows by one when ``loss > best_loss_ - tol``
      (the epoch's training loss did not improve on the best one by at least
      `tol`) and is reset to 0 otherwise; then ``best_loss_ = min(best_loss_, loss)``;
    - with early stopping, it grows by one when ``score < best_validation_score_ + tol``
      and is reset to 0 otherwise; a score above the best one also records the
      current parameters as the best ones.

    Training stops after the epoch at which the counter exceeds
    `n_iter_no_change`, that is after ``n_iter_no_change + 1`` consecutive epochs
    without improvement, or after `max_iter` epochs, with a
    :class:`~sklearn.exceptions.ConvergenceWarning` (at most one per fit).  With
    early stopping the parameters of the best epoch are restored at the end.
    The counter starts at 0 at each call to fit; `best_loss_` and
    `best_validation_score_` carry over a warm start.

    **Divergence.**  When the loss or the parameters stop being finite, fit and
    partial_fit raise :class:`FloatingPointError` naming the learning rate,
    and leave the estimator exactly as it was before the call.

    **Ctrl-C.**  A KeyboardInterrupt during fit stops training: fit warns
    (UserWarning) and returns with a usable model, whose parameters are those
    of the last completed batch (or of the best epoch, with early stopping).
    partial_fit lets the KeyboardInterrupt propagate (so that a loop over
    chunks stops) and keeps the parameters of the last completed batch.

    **Sample weights.**  Samples of weight zero are dropped before training
    (they contribute nothing to any gradient, and a batch of them alone would
    have no loss).  Weights must be finite and non-negative, and not all zero.

    **dtype.**  float32 X trains a float32 network; every other dtype float64.
    The network keeps the dtype of the data it was initialised on: later
    warm-start or partial_fit data is converted to it.
    """

    def __init__(
        self,
        hidden_units=100,
        *,
        activation="relu",
        solver="adam",
        learning_rate=0.001,
        batch_size="auto",
        max_iter=200,
        momentum=0.9,
        nesterov=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        alpha=1e-4,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        random_state=None,
        warm_start=False,
        backend="fast",
        n_threads=None,
        verbose=False,
        max_time=None,
        callback=None,
    ):
        self.hidden_units = hidden_units
        self.activation = activation
        self.solver = solver
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.momentum = momentum
        self.nesterov = nesterov
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.alpha = alpha
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.backend = backend
        self.n_threads = n_threads
        self.verbose = verbose
        self.max_time = max_time
        self.callback = callback

    # ------------------------------------------------------------ checks

    def _check_params(self):
        def integer(name, minimum):
            value = getattr(self, name)
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
                raise TypeError(f"{name} must be an integer, got {value!r} of type {type(value).__name__}")
            if value < minimum:
                raise ValueError(f"{name} must be at least {minimum}, got {value}")

        def real(name, low, high, low_open=False, high_open=False, allow_inf=False):
            value = getattr(self, name)
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
                raise TypeError(f"{name} must be a real number, got {value!r} of type {type(value).__name__}")
            x = float(value)
            bad = math.isnan(x) or (not allow_inf and math.isinf(x))
            bad = bad or x < low or (low_open and x == low) or x > high or (high_open and x == high)
            if bad:
                lo, hi = "(" if low_open else "[", ")" if high_open else "]"
                raise ValueError(f"{name} must be in {lo}{low}, {high}{hi}, got {value!r}")

        def choice(name, options):
            value = getattr(self, name)
            if not isinstance(value, str) or value not in options:
                raise ValueError(f"{name} must be one of {options}, got {value!r}")

        def boolean(name):
            value = getattr(self, name)
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{name} must be True or False, got {value!r}")

        integer("hidden_units", 1)
        choice("activation", ACTIVATIONS)
        choice("solver", SOLVERS)
        choice("backend", BACKENDS)
        real("learning_rate", 0, math.inf, low_open=True, high_open=True)
        if not (isinstance(self.batch_size, str) and self.batch_size == "auto"):
            if isinstance(self.batch_size, str):
                raise ValueError(f"batch_size must be 'auto' or a positive integer, got {self.batch_size!r}")
            integer("batch_size", 1)
        integer("max_iter", 1)
        real("momentum", 0, 1)
        boolean("nesterov")
        real("beta_1", 0, 1, high_open=True)
        real("beta_2", 0, 1, high_open=True)
        real("epsilon", 0, math.inf, low_open=True, high_open=True)
        real("alpha", 0, math.inf, high_open=True)
        real("tol", -math.inf, math.inf, allow_inf=True)
        integer("n_iter_no_change", 1)
        boolean("early_stopping")
        real("validation_fraction", 0, 1, low_open=True, high_open=True)
        boolean("shuffle")
        boolean("warm_start")
        if self.n_threads is not None:
            integer("n_threads", 1)
        if not isinstance(self.verbose, (bool, np.bool_, numbers.Integral)):
            raise TypeError(f"verbose must be a bool or an integer, got {self.verbose!r}")
        if self.max_time is not None:
            real("max_time", 0, math.inf, low_open=True, high_open=True)
        if self.callback is not None and not callable(self.callback):
            raise TypeError(f"callback must be callable or None, got {self.callback!r}")

    def __sklearn_is_fitted__(self):
        return hasattr(self, "coefs_")

    # ------------------------------------------------------------ fit

    def fit(self, X, y, sample_weight=None):
        """Train the network on (X, y) for up to `max_iter` epochs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Labels of any kind (numbers, strings, booleans); at least two classes.
        sample_weight : array-like of shape (n_samples,) or None
            Non-negative weights; None weighs every sample 1.

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight, incremental=False, classes=None)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over (X, y), continuing from the current state.

        The first call initialises the network and needs `classes`; the
        optimizer's state carries over from call to call, so that k calls on
        the same data equal ``fit`` with ``max_iter=k`` and ``shuffle=False``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,) or None
            All the classes, required on the first call (y need not contain
            them all); if given later it must equal `classes_`.
        sample_weight : array-like of shape (n_samples,) or None

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _snapshot(self):
        params = set(self.get_params(deep=False))
        return {k: v for k, v in vars(self).items() if k not in params}

    def _restore(self, snapshot):
        params = set(self.get_params(deep=False))
        for k in [k for k in vars(self) if k not in params]:
            delattr(self, k)
        vars(self).update(snapshot)

    def _fit(self, X, y, sample_weight, incremental, classes):
        snapshot = self._snapshot()
        try:
            return self._fit_unsafe(X, y, sample_weight, incremental, classes)
        except Exception:
            # A failed call (bad input, divergence) leaves the estimator as it was.
            self._restore(snapshot)
            raise

    def _fit_unsafe(self, X, y, sample_weight, incremental, classes):
        self._check_params()
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True; use fit, or set early_stopping=False")
        first = not hasattr(self, "coefs_") or (not incremental and not self.warm_start)
        if incremental and first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        X, y = validate_data(self, X, y, dtype=(np.float64, np.float32), reset=first)
        check_classification_targets(y)
        y_classes = unique_labels(y)
        if first:
            all_classes = unique_labels(classes) if incremental else y_classes
        else:
            all_classes = self.classes_
            if incremental and classes is not None and not np.array_equal(unique_labels(classes), all_classes):
                raise ValueError(f"classes={classes!r} is not the same as classes_={all_classes!r} of the first call")
            if not incremental and set(y_classes.tolist()) != set(all_classes.tolist()):
                raise ValueError(
                    "warm_start can only be used where y has the same classes as in the previous call to fit: "
                    f"previously {all_classes}, y has {y_classes}"
                )
        y_codes = _encode(y, all_classes)
        if len(all_classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes, but the data contains "
                f"only one class: {all_classes[0]!r}"
            )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)
            if not np.all(np.isfinite(sample_weight)):
                raise ValueError("sample_weight must contain only finite values")
            if np.any(sample_weight < 0):
                raise ValueError("sample_weight must be non-negative (found a negative weight)")
            if not np.any(sample_weight > 0):
                raise ValueError("sample_weight must contain at least one positive weight: all the weights are zero")
        n_classes = len(all_classes)
        dtype = X.dtype if first else self.coefs_[0].dtype
        rng = check_random_state(self.random_state)

        if first:
            self.classes_ = all_classes
            params = self._initial_parameters(X.shape[1], 1 if n_classes == 2 else n_classes, dtype, rng)
            state = _minibatch.make_state(params, self.solver)
            self._state_family = _state_family(self.solver)
            self.n_outputs_ = params["W2"].shape[0]
            self.n_layers_ = 3
            self.out_activation_ = "logistic" if n_classes == 2 else "softmax"
            self.n_iter_ = 0
            self.t_ = 0
            self.loss_ = None
            self.loss_curve_ = []
            self.best_loss_ = None if self.early_stopping else np.inf
            self.validation_scores_ = [] if self.early_stopping else None
            self.validation_loss_curve_ = [] if self.early_stopping else None
            self.best_validation_score_ = -np.inf if self.early_stopping else None
            self._best_params = None
            self._no_improvement_count = 0
        else:
            params = self._current_parameters(copy=True)
            if params["W1"].shape[0] != self.hidden_units:
                raise ValueError(
                    f"hidden_units={self.hidden_units} differs from the {params['W1'].shape[0]} hidden units "
                    "of the fitted network; set warm_start=False (or fit a new estimator) to change it"
                )
            if _state_family(self.solver) == getattr(self, "_state_family", None) and hasattr(self, "_solver_state"):
                state = {k: (v if k == "t" else v.copy()) for k, v in self._solver_state.items()}
            else:
                state = _minibatch.make_state(params, self.solver)
                self._state_family = _state_family(self.solver)
            # Lists are appended to below: new ones, so that a failed call can be undone.
            self.loss_curve_ = list(self.loss_curve_)
            if self.early_stopping:
                if self.validation_scores_ is None:  # earlier fits without early stopping
                    self.validation_scores_, self.validation_loss_curve_ = [], []
                    self.best_validation_score_, self._best_params = -np.inf, None
                    self.best_loss_ = None
                self.validation_scores_ = list(self.validation_scores_)
                self.validation_loss_curve_ = list(self.validation_loss_curve_)
            else:
                if self.best_loss_ is None:  # earlier fits with early stopping
                    self.best_loss_ = min(self.loss_curve_, default=np.inf)
                    self.validation_scores_ = self.validation_loss_curve_ = self.best_validation_score_ = None
        if not incremental:
            self._no_improvement_count = 0
        self._publish(params, state)

        # The training (and validation) data, one example per column.
        if self.early_stopping:
            X, X_val, y_codes, y_val, sample_weight, sw_val = self._validation_split(X, y_codes, sample_weight, rng)
        if sample_weight is not None and not np.all(sample_weight > 0):
            keep = sample_weight > 0
            if not np.any(keep):
                raise ValueError("sample_weight must contain at least one positive weight in the training part")
            X, y_codes, sample_weight = X[keep], y_codes[keep], sample_weight[keep]
        if not incremental and len(np.unique(y_codes)) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes with a positive sample weight, "
                f"but only one class remains: {all_classes[y_codes[0]]!r}"
            )
        shuffled = self.shuffle and self.solver != "gd"
        Y = _one_hot(y_codes, self.n_outputs_, dtype)
        sw = np.ones(X.shape[0], dtype) if sample_weight is None else np.ascontiguousarray(sample_weight, dtype)
        data = _EpochData(X, Y, sw, dtype, shuffled)
        if self.early_stopping:
            XvT = np.ascontiguousarray(X_val.T, dtype=dtype)
        m = data.m
        if self.solver == "gd":
            batch_size = m
        elif self.batch_size == "auto":
            batch_size = min(200, m)
        else:
            batch_size = min(int(self.batch_size), m)

        epochs = 1 if incremental else self.max_iter
        if incremental:
            self.n_iter_ = getattr(self, "n_iter_", 0)
        else:
            self.n_iter_ = 0
        progress = _Progress(epochs, self.verbose and not incremental)
        hyper = dict(
            activation=self.activation, solver=self.solver, learning_rate=float(self.learning_rate),
            momentum=float(self.momentum), nesterov=bool(self.nesterov), beta_1=float(self.beta_1),
            beta_2=float(self.beta_2), epsilon=float(self.epsilon), alpha=float(self.alpha),
        )  # fmt: skip
        sample_idx = np.arange(m, dtype=np.intp)
        start = time.perf_counter()
        stop_reason = "partial_fit" if incremental else None
        epoch = 0
        try:
            with self._training_threads(data.n_x, batch_size):
                for epoch in range(1, epochs + 1):
                    order = None
                    if shuffled:
                        perm = np.arange(m, dtype=np.intp)
                        rng.shuffle(perm)  # as sklearn.utils.shuffle draws it
                        sample_idx = sample_idx[perm]
                        order = sample_idx
                    loss = self._run_epoch(*data.epoch(order), batch_size, params, state, hyper)
                    self.n_iter_ += 1
                    self.t_ += m
                    self.loss_ = loss
                    self.loss_curve_.append(loss)
                    val_score = None
                    if self.early_stopping:
                        val_score, val_loss = self._evaluate(XvT, y_val, sw_val, params)
                        self.validation_scores_.append(val_score)
                        self.validation_loss_curve_.append(val_loss)
                        if val_score < self.best_validation_score_ + self.tol:
                            self._no_improvement_count += 1
                        else:
                            self._no_improvement_count = 0
                        if val_score > self.best_validation_score_:
                            self.best_validation_score_ = val_score
                            self._best_params = {k: a.copy() for k, a in params.items()}
                    else:
                        if loss > self.best_loss_ - self.tol:
                            self._no_improvement_count += 1
                        else:
                            self._no_improvement_count = 0
                        self.best_loss_ = min(self.best_loss_, loss)
                    progress.update(epoch, loss, val_score)
                    if incremental:
                        if self.verbose:
                            print(f"partial_fit: loss = {loss:.8f} ({self.t_} samples seen)", flush=True)
                        break
                    if self.callback is not None and self.callback(self):
                        stop_reason = "callback"
                        break
                    if self._no_improvement_count > self.n_iter_no_change:
                        stop_reason = "converged"
                        break
                    if self.max_time is not None and time.perf_counter() - start >= self.max_time:
                        stop_reason = "max_time"
                        break
                else:
                    if not incremental:
                        stop_reason = "max_iter"
        except KeyboardInterrupt:
            if incremental:
                self._finish(params, state, None)
                raise
            stop_reason = "interrupted"
            warnings.warn(
                f"Training interrupted by the user (KeyboardInterrupt) in epoch {epoch}: {type(self).__name__} "
                "keeps the parameters of the last completed batch"
                + (" (restored to the best epoch's, early_stopping=True)." if self.early_stopping else "."),
                UserWarning,
                stacklevel=4,
            )
        finally:
            progress.close(_STOP_MESSAGES.get(stop_reason, "").format(self=self))
        self._finish(params, state, stop_reason)
        if stop_reason == "max_iter":
            warnings.warn(
                f"{type(self).__name__}: maximum number of epochs ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=4,
            )
        return self

    def _finish(self, params, state, stop_reason):
        if self.early_stopping and self._best_params is not None:
            for k in params:
                params[k][...] = self._best_params[k]
        self._publish(params, state)
        self.stop_reason_ = stop_reason

    def _run_epoch(self, XT, Y, sw, order, batch_size, params, state, hyper):
        try:
            return _minibatch.run_epoch(self.backend, XT, Y, sw, order, batch_size, params, state, **hyper)
        except FloatingPointError as exc:
            raise FloatingPointError(
                f"{type(self).__name__} diverged in epoch {self.n_iter_ + 1}: the loss or the parameters are no "
                f"longer finite. learning_rate={self.learning_rate!r} is too large for this problem (try a "
                "smaller learning_rate, or standardise X). The estimator is left as it was before this call."
            ) from exc

    def _training_threads(self, n_x, batch_size):
        if self.n_threads is not None:
            return _threads(self.n_threads)
        n_h, n_y = self.hidden_units, self.n_outputs_
        flops = 2.0 * batch_size * n_h * (2 * n_x + 3 * n_y + 10)
        if flops < _THREADED_MIN_FLOPS:
            return _threads(1)
        return contextlib.nullcontext()

    def _validation_split(self, X, y_codes, sample_weight, rng):
        arrays = [X, y_codes] + ([] if sample_weight is None else [sample_weight])
        parts = train_test_split(
            *arrays, random_state=rng, test_size=self.validation_fraction, stratify=y_codes
        )
        X_tr, X_val, y_tr, y_val = parts[:4]
        sw_tr, sw_val = (None, None) if sample_weight is None else parts[4:6]
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small: increase validation_fraction or the number of samples "
                f"(got {X_val.shape[0]} validation sample(s))"
            )
        if sw_val is not None and not np.any(sw_val > 0):
            raise ValueError("the sample weights of the validation set are all zero; use another random_state")
        return X_tr, X_val, y_tr, y_val, sw_tr, sw_val

    def _evaluate(self, XvT, y_val, sw_val, params):
        """Validation accuracy and cross-entropy (both sample-weighted)."""
        Z = self._logits_T(XvT, params).T
        if Z.shape[1] == 1:
            z = Z[:, 0]
            pred = (z > 0).astype(np.intp)
            loglik = np.where(y_val == 1, _log_sigmoid(z), _log_sigmoid(-z))
        else:
            pred = Z.argmax(axis=1)
            loglik = _log_softmax(Z)[np.arange(Z.shape[0]), y_val]
        w = np.ones(len(y_val)) if sw_val is None else np.asarray(sw_val, np.float64)
        score = float(np.dot(w, pred == y_val) / w.sum())
        loss = float(-np.dot(w, loglik.astype(np.float64)) / w.sum())
        return score, loss

    def _initial_parameters(self, n_x, n_y, dtype, rng):
        """Glorot-uniform weights and biases, drawn as MLPClassifier draws them."""
        factor = 2.0 if self.activation == "sigmoid" else 6.0
        out = {}
        layers = ((("W1", "b1"), (n_x, self.hidden_units)), (("W2", "b2"), (self.hidden_units, n_y)))
        for (w, b), (fan_in, fan_out) in layers:
            bound = np.sqrt(factor / (fan_in + fan_out))
            coef = rng.uniform(-bound, bound, (fan_in, fan_out))
            intercept = rng.uniform(-bound, bound, fan_out)
            out[w] = np.ascontiguousarray(coef.T, dtype=dtype)
            out[b] = np.ascontiguousarray(intercept.reshape(-1, 1), dtype=dtype)
        return out

    def _current_parameters(self, copy=False):
        """W1, b1, W2, b2 (network layout, C-contiguous) from coefs_ and intercepts_."""
        dtype = np.result_type(self.coefs_[0].dtype, np.float32)
        def make(a):
            return np.array(a, dtype=dtype, order="C") if copy else np.ascontiguousarray(a, dtype=dtype)

        return {
            "W1": make(self.coefs_[0].T),
            "b1": make(np.reshape(self.intercepts_[0], (-1, 1))),
            "W2": make(self.coefs_[1].T),
            "b2": make(np.reshape(self.intercepts_[1], (-1, 1))),
        }

    def _publish(self, params, state):
        """coefs_ and intercepts_ as views of the parameters being trained (always current)."""
        self.coefs_ = [params["W1"].T, params["W2"].T]
        self.intercepts_ = [params["b1"].reshape(-1), params["b2"].reshape(-1)]
        self._solver_state = state

    # ------------------------------------------------------------ predictions

    def _logits_T(self, XT, params):
        """Z2 of shape (n_outputs, m) for XT of shape (n_features, m)."""
        if self.backend == "fast":
            _, cache = _fast.forward_propagation(XT, params, activation=self.activation)
            return cache["Z2"]
        W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
        A1 = _ref._activate(W1 @ XT + b1, self.activation)
        return W2 @ A1 + b2

    def _logits(self, X):
        """decision values of shape (n_samples, n_outputs), by row blocks of X."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        params = self._current_parameters()
        dtype = np.float32 if (X.dtype == np.float32 and params["W1"].dtype == np.float32) else np.float64
        params = {k: a.astype(dtype, copy=False) for k, a in params.items()}
        n, n_h = X.shape[0], params["W1"].shape[0]
        out = np.empty((n, params["W2"].shape[0]), dtype)
        rows = max(_MIN_PREDICT_ROWS, _PREDICT_BLOCK_ELEMENTS // (X.shape[1] + 2 * n_h + 4 * out.shape[1]))
        with _threads(self.n_threads):
            for s in range(0, n, rows):
                XT = np.ascontiguousarray(X[s : s + rows].T, dtype=dtype)
                out[s : s + rows] = self._logits_T(XT, params).T
        return out

    def decision_function(self, X):
        """Output-layer pre-activations.

        Returns
        -------
        ndarray of shape (n_samples,) for two classes (positive: ``classes_[1]``),
        (n_samples, n_classes) otherwise.
        """
        Z = self._logits(X)
        return Z[:, 0] if Z.shape[1] == 1 else Z

    def predict(self, X):
        """Predicted class labels, of shape (n_samples,), from `classes_`."""
        Z = self._logits(X)
        idx = (Z[:, 0] > 0).astype(np.intp) if Z.shape[1] == 1 else Z.argmax(axis=1)
        return self.classes_[idx]

    def predict_proba(self, X):
        """Class probabilities, of shape (n_samples, n_classes) (two columns for two classes)."""
        Z = self._logits(X)
        if Z.shape[1] == 1:
            z = Z[:, 0]
            return np.column_stack([_ref._sigmoid(-z), _ref._sigmoid(z)])
        return _ref._softmax(Z.T).T

    def predict_log_proba(self, X):
        """Log of predict_proba, computed from the logits (finite where the probabilities round to 0)."""
        Z = self._logits(X)
        if Z.shape[1] == 1:
            z = Z[:, 0]
            return np.column_stack([_log_sigmoid(-z), _log_sigmoid(z)])
        return _log_softmax(Z)

    # ------------------------------------------------------------ persistence

    def save(self, path):
        """Write the fitted model to `path`, the model file of :mod:`shallownet_fast._modelfile`.

        The file holds only arrays of numbers and of unicode strings (it loads
        with ``np.load(path, allow_pickle=False)``): the parameters, the
        classes (as strings, with their kind to restore them), the
        hyperparameters and the training history as JSON, the optimizer's
        state and ``format_version``.  `callback` and a RandomState
        `random_state` are not stored (they load as None).  The file is written
        as named, through a temporary file: a failed write leaves an existing
        file as it was.
        """
        from . import _modelfile

        _modelfile.save_estimator(self, path)

    @classmethod
    def load(cls, path):
        """A fitted ShallowNetClassifier from a file written by :meth:`save` (or by ``shallownet-fast train``).

        Raises
        ------
        ValueError
            When the file is not a model file of the format version this
            version of shallownet_fast reads, or any part of it is inconsistent
            (the message names the file and the member).
        """
        from . import _modelfile

        return _modelfile.load_estimator(cls, path)


_STOP_MESSAGES = {
    "converged": "Stopped after {self.n_iter_} epochs: no improvement of more than tol={self.tol} for more than "
    "n_iter_no_change={self.n_iter_no_change} consecutive epochs.",
    "max_iter": "Stopped: max_iter={self.max_iter} epochs reached.",
    "max_time": "Stopped: max_time={self.max_time} s reached after {self.n_iter_} epochs.",
    "callback": "Stopped by the callback after {self.n_iter_} epochs.",
    "interrupted": "Interrupted by the user after {self.n_iter_} epochs.",
}


def _state_family(solver):
    return "adam" if solver == "adam" else "momentum"


def _encode(y, classes):
    """Indices of y's labels in the sorted `classes`; ValueError for a label not among them."""
    codes = np.searchsorted(classes, y)
    codes = np.minimum(codes, len(classes) - 1)
    bad = classes[codes] != y
    if np.any(bad):
        unknown = unique_labels(np.asarray(y)[bad])
        raise ValueError(f"y contains labels not in classes_ {classes!r}: {unknown!r}")
    return codes.astype(np.intp)


def _one_hot(codes, n_y, dtype):
    """Y of shape (n_y, m): the 0/1 row for two classes, one-hot columns otherwise."""
    if n_y == 1:
        return (codes == 1).astype(dtype).reshape(1, -1)
    Y = np.zeros((n_y, len(codes)), dtype)
    Y[codes, np.arange(len(codes))] = 1
    return Y


def _none_to_nan(value):
    return np.nan if value is None else value


def _is_jsonable(value):
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _classes_to_strings(classes):
    """(kind, unicode array) of the class labels; the kind restores them."""
    values = classes.tolist()
    if classes.dtype.kind == "b" or all(isinstance(c, bool) for c in values):
        kind = "bool"
    elif classes.dtype.kind in "iu" or all(isinstance(c, numbers.Integral) for c in values):
        kind = "int"
    elif classes.dtype.kind == "f" or all(isinstance(c, numbers.Real) for c in values):
        kind = "float"
    else:
        kind = "str"
    strings = [repr(float(c)) if kind == "float" else str(c) for c in values]
    return kind, np.array(strings, dtype=str)


def _classes_from_strings(kind, strings, dtype):
    strings = [str(s) for s in strings]
    if kind == "bool":
        values = [s == "True" for s in strings]
    elif kind == "int":
        values = [int(s) for s in strings]
    elif kind == "float":
        values = [float(s) for s in strings]
    else:
        values = strings
    dtype = np.dtype(dtype)
    if dtype.kind == "O":
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out
    if dtype.kind == "U":
        return np.array(values, dtype=str)
    return np.array(values, dtype=dtype)

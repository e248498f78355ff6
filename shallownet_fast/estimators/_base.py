"""What every shallownet_fast estimator shares: parameters, the fit loop, prediction blocks.

The fit loop is split the way scikit-learn's ``BaseMultilayerPerceptron`` splits
its own (``sklearn/neural_network/_multilayer_perceptron.py``)::

    _fit                          snapshot; a failed call leaves the estimator as it was
      _fit_unsafe
        _validate_hyperparameters every call (also partial_fit after the first)
        _validate_input           X and y (the subclass: labels, targets)
        _validate_sample_weight
        _initialize | _resume     new parameters and fitted attributes, or a warm start
        _prepare_data             validation split, zero weights dropped, targets, batches
        _fit_epochs               the epoch loop, the stopping rule
          _update_no_improvement_count
        _finish                   publishing the fitted attributes

and the predictions run over row blocks (``_logits``).  A subclass supplies
``_validate_input``, ``_output_units``, ``_output_activation``, ``_targets``,
``_check_training_targets``, ``_stratify`` and ``_evaluate``.

scikit-learn is an optional dependency: ``pip install "shallownet_fast[sklearn]"``.
"""

import time
import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from .. import _minibatch, _numerics, _threads, _validation
from .. import fast as _fast
from .._progress import Progress

_INSTALL_HINT = (
    'ShallowNetClassifier needs scikit-learn, which is not installed: pip install "shallownet_fast[sklearn]"'
)

try:
    from sklearn.base import BaseEstimator
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state
    from sklearn.utils._param_validation import (
        Interval,
        Options,
        StrOptions,
        validate_parameter_constraints,
    )
    from sklearn.utils.validation import _check_sample_weight, check_is_fitted
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(_INSTALL_HINT) from exc

try:
    from sklearn.utils.validation import validate_data
except ImportError:  # pragma: no cover - scikit-learn < 1.6

    def validate_data(estimator, *args, **kwargs):
        return estimator._validate_data(*args, **kwargs)


BACKENDS = ("fast", "reference")

# The sparse formats X is taken in as they are (scikit-learn's check_array converts the others to CSR).
SPARSE_FORMATS = ("csr", "csc")

# Predictions run over row blocks of about this many array elements, so that
# predicting on a memory map never holds more than a block of it in memory.
_PREDICT_BLOCK_ELEMENTS = 1 << 20
_MIN_PREDICT_ROWS = 256
# What the lean prediction path (_plain_outputs) compares and calls.
_F64, _F32 = np.dtype(np.float64), np.dtype(np.float32)
_ACTIVATIONS = frozenset(_validation.ACTIVATIONS)
_MAX_THREADS = _threads.max_threads()
_ACTIVATION_CODES, _OUTPUT_CODES = _fast._core.ACTIVATION_CODES, _fast._core.OUTPUT_CODES
_PREDICT_ROWS = {_F64: _fast._core.predict_rows["double"], _F32: _fast._core.predict_rows["float"]}
_predict_rows = _fast._predict_rows
_contiguous = np.ascontiguousarray
# Shuffled epochs over at least this many elements of X are permuted before the engine
# runs (see _EpochData), row blocks of about _PREPERMUTE_BLOCK_ELEMENTS at a time.
_PREPERMUTE_MIN_ELEMENTS = 1 << 16
_PREPERMUTE_BLOCK_ELEMENTS = 1 << 18


def _as_csr(X, dtype):
    """A scipy sparse X (m, n_x) as a CSR array of `dtype` with np.intp indices: the kernels' sparse form.

    Made once per call, so that the engine's per-epoch conversion (fast._csr_arrays)
    copies nothing; at most a copy of X's entries, never a dense array.  X is left alone.
    """
    out = sp.csr_array(X, dtype=dtype)  # a new object, sharing X's arrays where it can
    out.indices, out.indptr = out.indices.astype(np.intp, copy=False), out.indptr.astype(np.intp, copy=False)
    return out


class _EpochData:
    """The training data as the engine takes it: one example per column, C-contiguous, in the network's dtype.

    With `order` None the columns are the samples in their order.  For a
    shuffled epoch of a small data set the engine gathers each batch's
    columns itself (`order`).  A large data set is instead permuted here,
    once per epoch, into one buffer that the engine then reads in natural
    order: gathering 200 scattered columns from every one of n_x long rows,
    batch after batch, misses the cache on nearly every element, whereas
    copying whole rows of X (n_samples, n_x) reads contiguous memory.  Both
    give the same batches in the same order.  A sparse X is held as the CSC
    transpose of one CSR copy of its entries (:func:`_as_csr`), from which the
    engine takes each batch's rows itself.
    """

    def __init__(self, X, Y, sw, dtype, shuffled):
        self.m, self.n_x = X.shape
        self.Y, self.sw = Y, sw
        self.mode = "natural"
        if sp.issparse(X):  # (n_x, m) as the CSC transpose of a CSR X: the engine gathers the batches' rows
            self.XT = _as_csr(X, dtype).T
        elif shuffled and X.size >= _PREPERMUTE_MIN_ELEMENTS:
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


# The defaults of the MLP names that a deprecated name may stand in for.
_DEFAULT_HIDDEN = (100,)
_DEFAULT_LEARNING_RATE_INIT = 0.001
# invscaling and adaptive change the step size of sgd only (scikit-learn's SGDOptimizer);
# adaptive stops once the step size is at most this.
_ADAPTIVE_MIN_LEARNING_RATE = 1e-6


def _state_family(solver):
    return "adam" if solver == "adam" else "momentum"


_STOP_MESSAGES = {
    "converged": "Stopped after {self.n_iter_} epochs: no improvement of more than tol={self.tol} for more than "
    "n_iter_no_change={self.n_iter_no_change} consecutive epochs.",
    "max_iter": "Stopped: max_iter={self.max_iter} epochs reached.",
    "max_time": "Stopped: max_time={self.max_time} s reached after {self.n_iter_} epochs.",
    "callback": "Stopped by the callback after {self.n_iter_} epochs.",
    "interrupted": "Interrupted by the user after {self.n_iter_} epochs.",
}


class _StrictInterval(Interval):
    """scikit-learn's Interval without booleans: True is not a number of units, nor a rate.

    (``bool`` is a ``numbers.Integral``; NumPy's integers and floats are accepted.)
    """

    def is_satisfied_by(self, val):
        if isinstance(val, (bool, np.bool_)):
            return False
        return super().is_satisfied_by(val)


# Stacklevel of the warnings of _fit_epochs, so that they point at the caller of fit:
# _fit_epochs <- _fit_unsafe <- _fit <- fit <- scikit-learn's _fit_context <- the caller.
_WARN_STACKLEVEL = 6


class BaseShallowNet(BaseEstimator):
    """Base class of the shallownet_fast estimators.

    Warning: not for direct use; use :class:`~shallownet_fast.ShallowNetClassifier`.
    The parameters are documented there.
    """

    _parameter_constraints: ClassVar[dict] = {
        "hidden_layer_sizes": ["array-like", _StrictInterval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(_validation.ACTIVATIONS))],
        "solver": [StrOptions(set(_validation.ESTIMATOR_SOLVERS) | set(_validation.SOLVERS))],
        "learning_rate": [
            StrOptions(set(_validation.LEARNING_RATE_SCHEDULES)),
            _StrictInterval(Real, 0, None, closed="neither"),  # deprecated: learning_rate_init
        ],
        "learning_rate_init": [_StrictInterval(Real, 0, None, closed="neither")],
        "power_t": [_StrictInterval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), _StrictInterval(Integral, 1, None, closed="left")],
        "max_iter": [_StrictInterval(Integral, 1, None, closed="left")],
        "max_fun": [_StrictInterval(Integral, 1, None, closed="left")],
        "momentum": [_StrictInterval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "beta_1": [_StrictInterval(Real, 0, 1, closed="left")],
        "beta_2": [_StrictInterval(Real, 0, 1, closed="left")],
        "epsilon": [_StrictInterval(Real, 0, None, closed="neither")],
        "alpha": [_StrictInterval(Real, 0, None, closed="left")],
        "tol": [_StrictInterval(Real, None, None, closed="both")],
        "n_iter_no_change": [_StrictInterval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "early_stopping": ["boolean"],
        "validation_fraction": [_StrictInterval(Real, 0, 1, closed="neither")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "backend": [StrOptions(set(BACKENDS))],
        "n_threads": [_StrictInterval(Integral, 1, _MAX_THREADS, closed="both"), None],
        "verbose": ["verbose"],
        "max_time": [_StrictInterval(Real, 0, None, closed="neither"), None],
        "callback": [callable, None],
        # Deprecated names (FutureWarning at fit): hidden_layer_sizes=(h,) and nesterovs_momentum.
        "hidden_units": [_StrictInterval(Integral, 1, None, closed="left"), None],
        "nesterov": ["boolean", None],
    }

    # The hyperparameters the predictions use, checked at each prediction.
    _predict_parameters: ClassVar[tuple] = ("activation", "backend", "n_threads")

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=1e-4,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        backend="fast",
        n_threads=None,
        max_time=None,
        callback=None,
        hidden_units=None,
        nesterov=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.max_fun = max_fun
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.hidden_units = hidden_units
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

    def _validate_hyperparameters(self, names=None):
        """Check the hyperparameters `names` (all by default) against `_parameter_constraints`.

        Runs whatever scikit-learn's ``skip_parameter_validation`` says: the
        engines rely on these values (an unknown activation must never reach them).

        Raises
        ------
        sklearn.utils._param_validation.InvalidParameterError
            A ValueError and a TypeError, naming the parameter and what it must be.
        """
        every = names is None
        names = self._parameter_constraints if names is None else names
        validate_parameter_constraints(
            {k: self._parameter_constraints[k] for k in names},
            {k: getattr(self, k) for k in names},
            caller_name=type(self).__name__,
        )
        if every:  # what the constraints cannot say: one hidden layer, deprecated names that agree
            self._n_hidden(), self._learning_rate_init(), self._nesterov()

    def _n_hidden(self):
        """The hidden layer's size, from hidden_layer_sizes (or the deprecated hidden_units).

        Raises ValueError for more than one hidden layer, a size that is not a positive
        integer, or hidden_units and hidden_layer_sizes that disagree.
        """
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, (Integral, np.integer)) else list(sizes)
        if len(sizes) != 1:
            raise ValueError(
                f"hidden_layer_sizes must give exactly one hidden layer, as (h,) or h: {type(self).__name__} "
                f"has one hidden layer, got hidden_layer_sizes={self.hidden_layer_sizes!r}"
            )
        h = sizes[0]
        if not isinstance(h, (Integral, np.integer)) or isinstance(h, (bool, np.bool_)) or h < 1:
            raise ValueError(f"hidden_layer_sizes must hold a positive integer, got {self.hidden_layer_sizes!r}")
        if self.hidden_units is not None:
            if tuple(sizes) != _DEFAULT_HIDDEN and int(h) != int(self.hidden_units):
                raise ValueError(
                    f"hidden_units={self.hidden_units} (deprecated) and hidden_layer_sizes="
                    f"{self.hidden_layer_sizes!r} disagree: set hidden_layer_sizes only"
                )
            return int(self.hidden_units)
        return int(h)

    def _learning_rate_init(self):
        """The initial step size: learning_rate_init, or the deprecated numeric learning_rate."""
        if isinstance(self.learning_rate, str):
            return float(self.learning_rate_init)
        if self.learning_rate_init != _DEFAULT_LEARNING_RATE_INIT and self.learning_rate_init != self.learning_rate:
            raise ValueError(
                f"learning_rate={self.learning_rate!r} (a number: deprecated) and learning_rate_init="
                f"{self.learning_rate_init!r} disagree: set learning_rate_init only"
            )
        return float(self.learning_rate)

    def _schedule(self):
        """The step-size schedule: "constant", "invscaling" or "adaptive" (sgd and gd only)."""
        return self.learning_rate if isinstance(self.learning_rate, str) else "constant"

    def _nesterov(self):
        """nesterovs_momentum, or the deprecated nesterov."""
        if self.nesterov is None:
            return bool(self.nesterovs_momentum)
        if not self.nesterovs_momentum and self.nesterov:
            raise ValueError(
                "nesterov=True (deprecated) and nesterovs_momentum=False disagree: set nesterovs_momentum only"
            )
        return bool(self.nesterov)

    def _state_solver(self):
        """The mini-batch solver whose state the estimator keeps (lbfgs keeps none: sgd's, zeros)."""
        return "sgd" if self.solver == "lbfgs" else self.solver

    def _warn_deprecated(self):
        """A FutureWarning for each deprecated name in use (they still work, for one release)."""
        messages = []
        if self.hidden_units is not None:
            messages.append(
                f"hidden_units is deprecated and will be removed: use hidden_layer_sizes=({self.hidden_units},)"
            )
        if not isinstance(self.learning_rate, str):
            messages.append(
                f"a number as learning_rate is deprecated and will be removed: use learning_rate_init="
                f"{self.learning_rate!r} (learning_rate is the schedule: 'constant', 'invscaling' or 'adaptive')"
            )
        if self.nesterov is not None:
            messages.append(f"nesterov is deprecated and will be removed: use nesterovs_momentum={self.nesterov!r}")
        for message in messages:
            warnings.warn(f"{type(self).__name__}: {message}", FutureWarning, stacklevel=_WARN_STACKLEVEL)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "coefs_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # CSR and CSC X in fit, partial_fit and the predictions
        return tags

    # ------------------------------------------------------------ fit

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
        self._validate_hyperparameters()
        self._warn_deprecated()
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True; use fit, or set early_stopping=False")
        first = not hasattr(self, "coefs_") or (not incremental and not self.warm_start)
        X, y_codes = self._validate_input(X, y, incremental=incremental, first=first, classes=classes)
        sample_weight = self._validate_sample_weight(sample_weight, X)
        sample_weight = self._weigh_classes(y_codes, sample_weight, X.dtype, incremental)
        dtype = X.dtype if first else self.coefs_[0].dtype
        rng = check_random_state(self.random_state)
        if first:
            params, state = self._initialize(X.shape[1], dtype, rng)
        else:
            params, state = self._resume()
        if not incremental:
            self._no_improvement_count = 0
        if not incremental or not hasattr(self, "_learning_rate"):
            self._learning_rate = self._learning_rate_init()  # a new schedule, as MLP's new optimizer
        self._publish(params, state)
        if self.solver == "lbfgs":
            return self._fit_lbfgs(X, y_codes, sample_weight, dtype, params, state)
        data, validation, batch_size = self._prepare_data(X, y_codes, sample_weight, dtype, rng, incremental)
        return self._fit_epochs(data, validation, batch_size, params, state, rng, incremental)

    def _weigh_classes(self, y_codes, sample_weight, dtype, incremental):
        """The sample weights times the class weights (the classifier's class_weight); None stays None."""
        return sample_weight

    def _fit_lbfgs(self, X, y_codes, sample_weight, dtype, params, state):
        """Full-batch L-BFGS-B (shallownet_fast._lbfgs), as MLP's lbfgs solver: max_iter, max_fun, tol."""
        from .. import _lbfgs

        if sample_weight is not None and not np.all(sample_weight > 0):
            keep = sample_weight > 0
            X, y_codes, sample_weight = X[keep], y_codes[keep], sample_weight[keep]
        self._check_training_targets(y_codes)
        XT = _as_csr(X, dtype).T if sp.issparse(X) else np.ascontiguousarray(X.T, dtype=dtype)
        Y = self._targets(y_codes, dtype)
        sw = np.ones(XT.shape[1], dtype) if sample_weight is None else np.ascontiguousarray(sample_weight, dtype)
        callback = None if self.callback is None else (lambda *args: self.callback(self))
        with self._training_threads(XT.shape[0], XT.shape[1]):
            n_iter, loss, loss_curve = _lbfgs.minimize(
                self.backend,
                XT,
                Y,
                sw,
                params,
                activation=self.activation,
                output=self.out_activation_,
                alpha=float(self.alpha),
                max_iter=int(self.max_iter),
                max_fun=int(self.max_fun),
                tol=float(self.tol),
                callback=callback,
            )
        self.n_iter_ = int(n_iter)
        self.t_ += XT.shape[1]
        self.loss_ = float(loss)
        self.loss_curve_ = list(loss_curve)
        self.best_loss_ = min(self.loss_curve_, default=self.loss_)
        # lbfgs has no validation split (MLP's lbfgs ignores early_stopping).
        self.validation_scores_ = self.validation_loss_curve_ = self.best_validation_score_ = None
        self._finish(params, state, "lbfgs")
        return self

    def _validate_sample_weight(self, sample_weight, X):
        """The sample weights as an array of X's dtype (None stays None); finite, non-negative, not all zero."""
        if sample_weight is None:
            return None
        sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)
        if not np.all(np.isfinite(sample_weight)):
            raise ValueError("sample_weight must contain only finite values")
        if np.any(sample_weight < 0):
            raise ValueError("sample_weight must be non-negative (found a negative weight)")
        if not np.any(sample_weight > 0):
            raise ValueError("sample_weight must contain at least one positive weight: all the weights are zero")
        return sample_weight

    def _initialize(self, n_x, dtype, rng):
        """New parameters, optimizer state and fitted attributes (a first fit, or fit without warm_start)."""
        params = self._initial_parameters(n_x, self._output_units(), dtype, rng)
        state = _minibatch.make_state(params, self._state_solver())
        self._state_family = _state_family(self.solver)
        self.n_outputs_ = params["W2"].shape[0]
        self.n_layers_ = 3
        self.out_activation_ = self._output_activation()
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
        return params, state

    def _resume(self):
        """The fitted parameters (copies) and optimizer state, for warm_start and partial_fit."""
        params = self._current_parameters(copy=True)
        if params["W1"].shape[0] != self._n_hidden():
            raise ValueError(
                f"hidden_layer_sizes=({self._n_hidden()},) differs from the {params['W1'].shape[0]} hidden units "
                "of the fitted network; set warm_start=False (or fit a new estimator) to change it"
            )
        if _state_family(self.solver) == getattr(self, "_state_family", None) and hasattr(self, "_solver_state"):
            state = {k: (v if k == "t" else v.copy()) for k, v in self._solver_state.items()}
        else:
            state = _minibatch.make_state(params, self._state_solver())
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
        return params, state

    def _prepare_data(self, X, y_codes, sample_weight, dtype, rng, incremental):
        """The training (and validation) data, one example per column, and the batch size.

        Returns
        -------
        data : _EpochData
        validation : tuple (XvT, y_val, sw_val) or None
            With early stopping: the validation samples (XvT of shape (n_features, n_val)).
        batch_size : int
        """
        validation = None
        if self.early_stopping:
            X, X_val, y_codes, y_val, sample_weight, sw_val = self._validation_split(X, y_codes, sample_weight, rng)
        if sample_weight is not None and not np.all(sample_weight > 0):
            keep = sample_weight > 0
            if not np.any(keep):
                raise ValueError("sample_weight must contain at least one positive weight in the training part")
            X, y_codes, sample_weight = X[keep], y_codes[keep], sample_weight[keep]
        if not incremental:
            self._check_training_targets(y_codes)
        shuffled = self.shuffle and self.solver != "gd"
        Y = self._targets(y_codes, dtype)
        sw = np.ones(X.shape[0], dtype) if sample_weight is None else np.ascontiguousarray(sample_weight, dtype)
        data = _EpochData(X, Y, sw, dtype, shuffled)
        if self.early_stopping:
            XvT = _as_csr(X_val, dtype).T if sp.issparse(X_val) else np.ascontiguousarray(X_val.T, dtype=dtype)
            validation = (XvT, y_val, sw_val)
        m = data.m
        if self.solver == "gd":
            batch_size = m
        elif self.batch_size == "auto":
            batch_size = min(200, m)
        else:
            batch_size = min(int(self.batch_size), m)
        return data, validation, batch_size

    def _fit_epochs(self, data, validation, batch_size, params, state, rng, incremental):
        """The epoch loop: `max_iter` epochs (one for partial_fit) or until the stopping rule says stop."""
        m = data.m
        shuffled = self.shuffle and self.solver != "gd"
        epochs = 1 if incremental else self.max_iter
        if incremental:
            self.n_iter_ = getattr(self, "n_iter_", 0)
        else:
            self.n_iter_ = 0
        # verbose prints MLP's lines; verbose >= 2 shows a progress bar instead.
        progress = Progress(
            epochs, enabled=self.verbose >= 2 and not incremental, desc=type(self).__name__, unit="epoch"
        )
        lines = bool(self.verbose) and not progress.enabled
        hyper = dict(
            activation=self.activation,
            solver=self.solver,
            momentum=float(self.momentum),
            nesterov=self._nesterov(),
            beta_1=float(self.beta_1),
            beta_2=float(self.beta_2),
            epsilon=float(self.epsilon),
            alpha=float(self.alpha),
            out=self._output_mode(),
        )
        scheduled = self.solver in ("sgd", "gd")
        schedule = self._schedule()
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
                    lr = self._learning_rate if scheduled else self._learning_rate_init()
                    loss = self._run_epoch(*data.epoch(order), batch_size, params, state, dict(hyper, learning_rate=lr))
                    self.n_iter_ += 1
                    self.t_ += m
                    self.loss_ = loss
                    self.loss_curve_.append(loss)
                    if lines:
                        print(f"Iteration {self.n_iter_}, loss = {loss:.8f}", flush=True)
                    val_score = None
                    if validation is not None:
                        val_score, val_loss = self._evaluate(*validation, params)
                        self.validation_scores_.append(val_score)
                        self.validation_loss_curve_.append(val_loss)
                        if lines:
                            print(f"Validation score: {val_score:f}", flush=True)
                    self._update_no_improvement_count(loss, val_score, params)
                    if scheduled and schedule == "invscaling":  # MLP's: per epoch, t_ samples seen
                        self._learning_rate = self._learning_rate_init() / (self.t_ + 1) ** float(self.power_t)
                    stop = False
                    if self._no_improvement_count > self.n_iter_no_change:
                        stop = self._stop_or_adapt(lines)
                    if progress.enabled:
                        postfix = {"loss": f"{loss:.6f}"}
                        line = f"Epoch {epoch}/{epochs}: loss = {loss:.8f}"
                        if val_score is not None:
                            postfix["val_score"] = f"{val_score:.4f}"
                            line += f", validation score = {val_score:.6f}"
                        progress.update(1, postfix=postfix, line=line)
                    if incremental:
                        break
                    if self.callback is not None and self.callback(self):
                        stop_reason = "callback"
                        break
                    if stop:
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
                stacklevel=_WARN_STACKLEVEL,
            )
        finally:
            progress.close(_STOP_MESSAGES.get(stop_reason, "").format(self=self))
        self._finish(params, state, stop_reason)
        if stop_reason == "max_iter":
            warnings.warn(
                f"{type(self).__name__}: maximum number of epochs ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=_WARN_STACKLEVEL,
            )
        return self

    def _stop_or_adapt(self, lines):
        """After n_iter_no_change + 1 epochs without improvement: stop (True), or, for the adaptive
        schedule of sgd, divide the step size by 5 and go on (False) while it exceeds 1e-6 (MLP's rule)."""
        what = "Validation score" if self.early_stopping else "Training loss"
        msg = f"{what} did not improve more than tol={self.tol:f} for {self.n_iter_no_change} consecutive epochs."
        if self.solver not in ("sgd", "gd") or self._schedule() != "adaptive":
            if lines:
                print(msg + " Stopping.", flush=True)
            return True
        if self._learning_rate <= _ADAPTIVE_MIN_LEARNING_RATE:
            if lines:
                print(msg + " Learning rate too small. Stopping.", flush=True)
            return True
        self._learning_rate /= 5.0
        self._no_improvement_count = 0
        if lines:
            print(msg + f" Setting learning rate to {self._learning_rate:f}", flush=True)
        return False

    def _update_no_improvement_count(self, loss, val_score, params):
        """The stopping rule's counter after an epoch (see ShallowNetClassifier's Notes).

        Without early stopping (`val_score` None) it follows the training loss
        and `best_loss_`; with it, the validation score and
        `best_validation_score_`, recording the parameters of a new best epoch.
        """
        if val_score is not None:
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
                f"longer finite. learning_rate_init={self._learning_rate_init()!r} is too large for this problem "
                "(try a smaller learning_rate_init, or standardise X). The estimator is left as it was before this "
                "call."
            ) from exc

    def _blas_threads(self):
        """The context limiting BLAS to `n_threads` threads (None: BLAS as it is)."""
        return _threads.blas_threads(None if self.n_threads is None else int(self.n_threads))

    def _training_threads(self, n_x, batch_size):
        """The context giving BLAS its threads for training on batches of `batch_size` (the thread policy)."""
        n_threads = None if self.n_threads is None else int(self.n_threads)
        return _threads.batch_blas_context(n_threads, n_x, self._n_hidden(), self.n_outputs_, batch_size)

    def _validation_split(self, X, y_codes, sample_weight, rng):
        arrays = [X, y_codes] + ([] if sample_weight is None else [sample_weight])
        parts = train_test_split(
            *arrays, random_state=rng, test_size=self.validation_fraction, stratify=self._stratify(y_codes)
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

    def _initial_parameters(self, n_x, n_y, dtype, rng):
        """Glorot-uniform weights and biases, drawn as MLPClassifier draws them."""
        factor = 2.0 if self.activation in ("sigmoid", "logistic") else 6.0
        out = {}
        n_h = self._n_hidden()
        layers = ((("W1", "b1"), (n_x, n_h)), (("W2", "b2"), (n_h, n_y)))
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

    def _output_mode(self):
        """The output layer as _minibatch takes it: None (sigmoid or softmax by n_outputs), "logistic", "identity"."""
        if self.out_activation_ == "softmax" or (self.out_activation_ == "logistic" and self.n_outputs_ == 1):
            return None
        return self.out_activation_

    def _logits_T(self, XT, params):
        """Z2 of shape (n_outputs, m) for XT of shape (n_features, m)."""
        if self.backend == "fast":
            _, cache = _fast.forward_propagation(XT, params, activation=self.activation)
            return cache["Z2"]
        return _numerics.logits(XT, params["W1"], params["b1"], params["W2"], params["b2"], self.activation)

    def _logits(self, X):
        """decision values of shape (n_samples, n_outputs)."""
        return self._outputs(X, "identity")

    def _outputs(self, X, output):
        """The network's outputs for X, shape (n_samples, n_outputs), in X's precision.

        output: "identity" (the logits), "softmax" or "logistic" (the probabilities
        of the output layer).  A plain ndarray takes the lean path (_plain_outputs);
        anything else is validated by scikit-learn, then predicted block by block.
        """
        out = self._plain_outputs(X, output)
        if out is not None:
            return out
        check_is_fitted(self)
        self._validate_hyperparameters(self._predict_parameters)
        X = validate_data(self, X, accept_sparse=SPARSE_FORMATS, dtype=(np.float64, np.float32), reset=False)
        if sp.issparse(X):
            Z = self._sparse_logits(X)
            return Z if output == "identity" else _numerics.output(Z.T, output).T
        params = self._current_parameters()
        dtype = np.float32 if (X.dtype == np.float32 and params["W1"].dtype == np.float32) else np.float64
        params = {k: a.astype(dtype, copy=False) for k, a in params.items()}
        if self.backend == "fast":
            return _predict_rows(X, params, activation=self.activation, output=output, n_threads=self.n_threads)
        n, n_h = X.shape[0], params["W1"].shape[0]
        out = np.empty((n, params["W2"].shape[0]), dtype)
        rows = max(_MIN_PREDICT_ROWS, _PREDICT_BLOCK_ELEMENTS // (X.shape[1] + 2 * n_h + 4 * out.shape[1]))
        for s in range(0, n, rows):
            XT = np.ascontiguousarray(X[s : s + rows].T, dtype=dtype)
            Z = _numerics.logits(XT, params["W1"], params["b1"], params["W2"], params["b2"], self.activation)
            out[s : s + rows] = _numerics.output(Z, output).T
        return out

    def _plain_outputs(self, X, output):
        """_outputs for the plain case, without scikit-learn's validation; None otherwise.

        The plain case: a fitted estimator (backend "fast", valid prediction
        parameters, fitted without feature names) and X a C-contiguous 2-D
        ndarray of its parameters' float dtype with n_features_in_ columns, all
        finite.  Every check the general path makes is made here, the cheap way
        (scikit-learn's validation costs about 100 us a call); anything else
        returns None and takes the general path, which raises where it must.
        A few rows (one block, BLAS on this thread) take one call into the
        kernels; more go through fast._predict_rows and the thread policy.
        """
        state = self.__dict__
        if type(X) is not np.ndarray or X.ndim != 2 or "feature_names_in_" in state:
            return None
        coefs, intercepts = state.get("coefs_"), state.get("intercepts_")
        n_threads = self.n_threads
        if (
            coefs is None
            or intercepts is None
            or self.backend != "fast"
            or type(self.activation) is not str
            or self.activation not in _ACTIVATIONS
            or not (n_threads is None or (type(n_threads) is int and 1 <= n_threads <= _MAX_THREADS))
            or X.shape[1] != state.get("n_features_in_")
        ):
            return None
        dt, arrays = X.dtype, (*coefs, *intercepts)
        if not (
            (dt is _F64 or dt is _F32)
            and X.flags.c_contiguous
            and len(arrays) == 4
            and all(type(a) is np.ndarray and a.dtype is dt and a.ndim == n for a, n in zip(arrays, (2, 2, 1, 1)))
        ):
            return None
        W1, W2, b1, b2 = arrays[0].T, arrays[1].T, arrays[2], arrays[3]
        # coefs_ as fit leaves them are views of C-ordered W1 and W2; any others (set by hand, loaded) are
        # copied here (n_x n_h + n_h n_y elements)
        W1, W2 = _contiguous(W1), _contiguous(W2)
        (m, n_x), (n_y, n_h) = X.shape, W2.shape
        if m == 0 or not _fast._core.all_finite(X):
            return None
        if m * n_x * n_h > min(_threads.SMALL_PREDICTION_WORK, _validation._KERNEL_MAX_DIM):  # the general way
            params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
            return _predict_rows(X, params, activation=self.activation, output=output, n_threads=n_threads)
        out = np.empty((m, n_y), dt)
        scratch = np.empty((1, _fast._core.predict_scratch(n_x, n_h, n_y, m, True)), dt)
        _PREDICT_ROWS[dt](X, W1, b1, W2, b2, _ACTIVATION_CODES[self.activation], _OUTPUT_CODES[output], out, scratch, m)
        return out

    def _validation_logits_T(self, XvT, params):
        """Z2 (n_outputs, m) of the validation split XvT (n_features, m), dense or sparse."""
        return self._sparse_logits_T(XvT, params) if sp.issparse(XvT) else self._logits_T(XvT, params)

    def _sparse_logits_T(self, XT, params):
        """Z2 (n_outputs, m) for a sparse XT (n_features, m), the transpose of a CSR X (:func:`_as_csr`).

        The fast backend runs the compiled CSR kernel (fast._predict_csr); the reference backend
        scipy's sparse product with W1 (_numerics.logits).  Neither densifies XT.
        """
        if self.backend == "fast":
            return _fast._predict_csr(XT.T, params, activation=self.activation, output="identity")
        return _numerics.logits(XT, params["W1"], params["b1"], params["W2"], params["b2"], self.activation)

    def _sparse_logits(self, X):
        """decision values (n_samples, n_outputs) of a validated scipy sparse X, never densified.

        The dtype rule of _logits (float32 only for float32 X and a float32 network).
        Memory: X's entries (one CSR copy at most) and one block of rows: the compiled
        kernel blocks its columns itself; the reference backend takes row blocks here.
        """
        params = self._current_parameters()
        dtype = np.float32 if (X.dtype == np.float32 and params["W1"].dtype == np.float32) else np.float64
        params = {k: a.astype(dtype, copy=False) for k, a in params.items()}
        X = _as_csr(X, dtype)
        (n, n_x), (n_y, n_h) = X.shape, params["W2"].shape
        n_threads = None if self.n_threads is None else int(self.n_threads)
        if self.backend == "fast":
            block = _threads.predict_block(n_h, n, np.dtype(dtype))
            with _threads.prediction_blas(n_threads, n_x, n_h, n_y, block):
                return np.ascontiguousarray(self._sparse_logits_T(X.T, params).T)
        out = np.empty((n, n_y), dtype)
        rows = max(_MIN_PREDICT_ROWS, _PREDICT_BLOCK_ELEMENTS // (2 * n_h + 4 * n_y))
        with _threads.prediction_blas(n_threads, n_x, n_h, n_y, min(n, rows)):
            for s in range(0, n, rows):
                out[s : s + rows] = self._sparse_logits_T(X[s : s + rows].T, params).T
        return out

"""ShallowNetClassifier: the shallow network as a scikit-learn classifier.

A drop-in for :class:`sklearn.neural_network.MLPClassifier` with one hidden
layer, trained by :mod:`shallownet_fast._minibatch` (one compiled call per
epoch with ``backend="fast"``, NumPy with ``backend="reference"``).  The
parameter names, the formulas, the initialisation, the batches, the
schedules and the stopping rule are MLPClassifier's, so that
``ShallowNetClassifier(**mlp.get_params())`` fitted on the same data gives the
same model (to rounding).

scikit-learn is an optional dependency: ``pip install "shallownet_fast[sklearn]"``.
"""

from numbers import Real
from typing import ClassVar

import numpy as np

from ._base import (
    _INSTALL_HINT,
    SPARSE_FORMATS,
    BaseShallowNet,
    validate_data,
)

try:
    from sklearn.base import ClassifierMixin, _fit_context
    from sklearn.utils._available_if import available_if
    from sklearn.utils._param_validation import StrOptions
    from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
    from sklearn.utils.validation import column_or_1d
except ImportError as exc:  # pragma: no cover - _base raises first
    raise ImportError(_INSTALL_HINT) from exc

from .. import _numerics
from .._labels import encode_labels, one_hot

__all__ = ["ShallowNetClassifier"]


class ShallowNetClassifier(ClassifierMixin, BaseShallowNet):
    """A one-hidden-layer neural network classifier (scikit-learn API).

    Two classes use one sigmoid output unit; more classes a softmax over
    ``n_classes`` units.  The loss is the (sample-weighted) cross-entropy plus
    an L2 penalty, as in :class:`sklearn.neural_network.MLPClassifier`.

    Parameters
    ----------
    hidden_layer_sizes : (int,) or int, default (100,)
        Units of the one hidden layer; more than one layer is a ValueError.
    activation : {"relu", "tanh", "logistic", "identity", "leaky_relu"}, default "relu"
        Hidden activation ("sigmoid" is "logistic"); "leaky_relu" has slope
        0.01 below zero.
    solver : {"adam", "sgd", "lbfgs", "gd"}, default "adam"
        "adam" and "sgd" (with `momentum` and `nesterovs_momentum`) take one
        step per mini-batch; "lbfgs" minimises the full-batch loss with SciPy's
        L-BFGS-B (`max_iter` iterations, `max_fun` evaluations); "gd" is
        full-batch gradient descent with momentum, one step per epoch.
    alpha : float, default 1e-4
        L2 penalty: ``alpha / 2 * (|W1|^2 + |W2|^2)`` divided by the batch's
        total sample weight, as in MLPClassifier.
    batch_size : int or "auto", default "auto"
        Samples per mini-batch; "auto" is ``min(200, n_samples)``.  A batch size
        larger than the number of samples is clipped to it, silently.
    learning_rate : {"constant", "invscaling", "adaptive"}, default "constant"
        sgd's step-size schedule, MLPClassifier's: "invscaling" sets the step to
        ``learning_rate_init / (t_ + 1) ** power_t`` after each epoch;
        "adaptive" divides it by 5 where the stopping rule would stop, and
        stops once it is at most 1e-6.  A number is deprecated (FutureWarning):
        it is `learning_rate_init`.
    learning_rate_init : float, default 0.001
        The (initial) step size.
    power_t : float, default 0.5
        invscaling's exponent.
    max_iter : int, default 200
        Maximum number of epochs (passes over the data) of one call to fit;
        lbfgs's iterations.
    shuffle : bool, default True
        Shuffle the samples before each epoch (mini-batch solvers).
    random_state : int, RandomState instance or None, default None
        Seeds the initialisation, the shuffling and the validation split
        (:func:`sklearn.utils.check_random_state`, drawn from in the same order
        as MLPClassifier).
    tol : float, default 1e-4
        Tolerance of the stopping rule (see Notes).  ``-inf`` never stops early.
    verbose : bool or int, default False
        Print MLPClassifier's lines ("Iteration N, loss = ..." and, with early
        stopping, "Validation score: ..."); 2 or more shows a progress bar
        instead (tqdm, when installed).
    warm_start : bool, default False
        fit continues from the previous solution, the optimizer's state
        (adam's moments, the velocities, the step count) included.
    momentum : float in [0, 1], default 0.9
        For "sgd" and "gd".
    nesterovs_momentum : bool, default True
        Nesterov's momentum, for "sgd" and "gd".
    early_stopping : bool, default False
        Set aside `validation_fraction` of the training data (seeded by
        `random_state`; stratified for two classes only, as MLPClassifier),
        stop on the validation accuracy, and keep the parameters of the best
        epoch.  Not available in partial_fit.
    validation_fraction : float in (0, 1), default 0.1
    beta_1, beta_2 : float in [0, 1), default 0.9 and 0.999
        Decay rates of adam's first and second moment estimates.
    epsilon : float, default 1e-8
        adam's numerical-stability constant.
    n_iter_no_change : int, default 10
        Patience of the stopping rule (see Notes).
    max_fun : int, default 15000
        lbfgs's limit on loss evaluations.
    class_weight : "balanced", dict or None, default None
        Weights of the classes, multiplied into the sample weights (not for
        multilabel y): "balanced" is ``n_samples / (n_classes * count)``, a
        dict maps labels to weights (1 for the labels it leaves out).
    backend : {"fast", "reference"}, default "fast"
        The compiled engine, or the NumPy specification; the two give the same
        parameters to rounding.
    n_threads : int or None, default None
        1: the kernels' BLAS products run on the calling thread, in fit and in
        the predictions.  None: the same when a batch is too small to gain from
        more threads (fewer than 2e7 floating-point operations), BLAS's own
        threads otherwise.  BLAS's process-wide settings are never changed.
    max_time : float or None, default None
        Stop after the first epoch that ends later than `max_time` seconds
        after fit started.
    callback : callable or None, default None
        ``callback(estimator)`` after each epoch of fit, with the fitted
        attributes up to date; a true return value stops training.
    hidden_units : int or None, default None
        Deprecated (FutureWarning at fit): ``hidden_layer_sizes=(hidden_units,)``.
    nesterov : bool or None, default None
        Deprecated (FutureWarning at fit): `nesterovs_momentum`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted (as :func:`sklearn.utils.multiclass.unique_labels` sorts them);
        ``arange(n_labels)`` for a multilabel indicator matrix y.
    coefs_ : list of two ndarrays
        ``coefs_[0]`` of shape (n_features, h) and ``coefs_[1]`` of
        shape (h, n_outputs): MLPClassifier's layout (``W1.T``, ``W2.T``).
    intercepts_ : list of two ndarrays
        Of shapes (h,) and (n_outputs,).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X had string column names (a pandas DataFrame).
    n_outputs_ : int
        1 for two classes, n_classes otherwise (n_labels for multilabel y).
    n_layers_ : int
        3 (input, hidden, output), as MLPClassifier counts them.
    out_activation_ : {"logistic", "softmax"}
        "logistic" for two classes and for multilabel y.
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

    **Sparse X.**  SciPy CSR and CSC matrices and arrays (other formats are
    converted to CSR) in fit, partial_fit and the predictions, never made
    dense: the first layer runs over the stored entries.  The model equals the
    dense copy's to rounding.  NaN or infinite stored values are a ValueError.

    **Parameter checks.**  The parameters are declared in
    ``_parameter_constraints`` and checked at every call to fit and
    partial_fit; predict, predict_proba, predict_log_proba, decision_function
    and score check the ones they use (`activation`, `backend`, `n_threads`),
    so that a bad value given by ``set_params`` after fit raises
    :class:`~sklearn.utils._param_validation.InvalidParameterError` (a
    ValueError and a TypeError).  NumPy integers and floats are accepted
    wherever Python ones are; booleans are not numbers.
    """

    _multilabel = False  # set by fit: y was a multilabel indicator matrix
    _model_kind = "classifier"  # for the model file

    _parameter_constraints: ClassVar[dict] = {
        **BaseShallowNet._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

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
        class_weight=None,
        backend="fast",
        n_threads=None,
        max_time=None,
        callback=None,
        hidden_units=None,
        nesterov=None,
    ):
        super().__init__(
            hidden_layer_sizes,
            activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            backend=backend,
            n_threads=n_threads,
            max_time=max_time,
            callback=callback,
            hidden_units=hidden_units,
            nesterov=nesterov,
        )
        self.class_weight = class_weight

    # ------------------------------------------------------------ fit

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network on (X, y) for up to `max_iter` epochs.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Labels of any kind (numbers, strings, booleans); at least two classes.
        sample_weight : array-like of shape (n_samples,) or None
            Non-negative weights; None weighs every sample 1.

        Returns
        -------
        self : ShallowNetClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False, classes=None)

    def _check_solver(self):
        if self.solver not in ("sgd", "adam", "gd"):
            raise AttributeError(
                f"partial_fit is only available for stochastic optimizers. {self.solver} is not stochastic."
            )
        return True

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over (X, y), continuing from the current state.

        The first call initialises the network and needs `classes`; the
        optimizer's state carries over from call to call, so that k calls on
        the same data equal ``fit`` with ``max_iter=k`` and ``shuffle=False``.
        The hyperparameters are checked at every call.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
        sample_weight : array-like of shape (n_samples,) or None
        classes : array-like of shape (n_classes,) or None
            All the classes, required on the first call (y need not contain
            them all); if given later it must equal `classes_`.  The order of
            the arguments is MLPClassifier's (scikit-learn >= 1.7).

        Returns
        -------
        self : ShallowNetClassifier
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _validate_input(self, X, y, *, incremental, first, classes):
        """X as a float array, and the code of each label in `classes_` (set here on a first fit)."""
        if incremental and first and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit (its arguments are MLPClassifier's: "
                "partial_fit(X, y, sample_weight=None, classes=None); pass classes=... by name)"
            )
        X, y = validate_data(
            self, X, y, accept_sparse=SPARSE_FORMATS, dtype=(np.float64, np.float32), reset=first, multi_output=True
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        multilabel = type_of_target(y) == "multilabel-indicator"
        if y.ndim == 2 and not multilabel:
            raise ValueError(
                f"y of shape {y.shape} must be a multilabel indicator matrix (0/1 or booleans), got targets of type "
                f"{type_of_target(y)!r}: for several multiclass outputs, fit one classifier per output"
            )
        if not first and multilabel != getattr(self, "_multilabel", False):
            raise ValueError(
                f"y is {'a multilabel indicator matrix' if multilabel else 'a vector of labels'} but the network was "
                f"fitted on {'a vector of labels' if multilabel else 'a multilabel indicator matrix'}; set "
                "warm_start=False (or fit a new estimator)"
            )
        if multilabel:
            return X, self._multilabel_targets(y, first)
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
        _, y_codes = encode_labels(y, all_classes, name="y", classes_name="classes_")
        if len(all_classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes, but the data contains "
                f"only one class: {all_classes[0]!r}"
            )
        if first:
            self.classes_ = all_classes
            self._multilabel = False
        return X, y_codes

    def _multilabel_targets(self, y, first):
        """The 0/1 indicator matrix (n_samples, n_labels) of a multilabel y; classes_ = arange(n_labels)."""
        n_labels = y.shape[1]
        if first:
            self.classes_ = np.arange(n_labels)
            self._multilabel = True
        elif n_labels != len(self.classes_):
            raise ValueError(f"y has {n_labels} labels, the network was fitted on {len(self.classes_)}")
        return (np.asarray(y) != 0).astype(np.intp)

    def _weigh_classes(self, y_codes, sample_weight, dtype, incremental):
        """sample_weight times the weight of each sample's class (class_weight); None when neither is given."""
        cw = self.class_weight
        if cw is None:
            return sample_weight
        if self._multilabel:
            raise ValueError("class_weight is not supported for multilabel y; pass sample_weight instead")
        k = len(self.classes_)
        if isinstance(cw, str):  # "balanced": n_samples / (n_classes * count of the class)
            if incremental:
                raise ValueError("class_weight='balanced' is not supported for partial_fit: pass a dict of weights")
            counts = np.bincount(y_codes, minlength=k)
            weights = np.where(counts > 0, len(y_codes) / (k * np.maximum(counts, 1)), 0.0)
        else:
            labels = self.classes_.tolist()
            unknown = [key for key in cw if key not in labels]
            if unknown:
                raise ValueError(f"class_weight names {unknown!r}, which are not among classes_ {self.classes_!r}")
            weights = np.array([cw.get(c, 1.0) for c in labels], dtype=object)
            if not all(isinstance(w, Real) and not isinstance(w, bool) for w in weights):
                raise TypeError(f"class_weight values must be numbers, got {cw!r}")
            weights = weights.astype(np.float64)
            if not np.all(np.isfinite(weights)) or np.any(weights < 0):
                raise ValueError(f"class_weight values must be finite and non-negative, got {cw!r}")
        out = weights[y_codes]
        if sample_weight is not None:
            out = out * sample_weight
        if not np.any(out > 0):
            raise ValueError("the class weights times the sample weights are all zero")
        return out.astype(dtype)

    def _output_units(self):
        """One sigmoid unit for two classes, a softmax over the classes otherwise; a sigmoid per label (multilabel)."""
        n_classes = len(self.classes_)
        return 1 if n_classes == 2 and not self._multilabel else n_classes

    def _output_activation(self):
        return "logistic" if len(self.classes_) == 2 or self._multilabel else "softmax"

    def _targets(self, y_codes, dtype):
        """Y of shape (n_outputs, m): the 0/1 row for two classes, one-hot columns otherwise.

        For multilabel y: the indicator matrix's transpose.
        """
        if self._multilabel:
            return np.ascontiguousarray(y_codes.T, dtype=dtype)
        return one_hot(y_codes, len(self.classes_), dtype)

    def _check_training_targets(self, y_codes):
        """Two classes or more must remain once the samples of weight zero are dropped (fit)."""
        if self._multilabel:
            return
        if len(np.unique(y_codes)) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes with a positive sample weight, "
                f"but only one class remains: {self.classes_[y_codes[0]]!r}"
            )

    def _stratify(self, y_codes):
        """As MLPClassifier: the validation split is stratified for a single output unit (two classes) only."""
        return y_codes if self.n_outputs_ == 1 else None

    def _evaluate(self, XvT, y_val, sw_val, params):
        """Validation accuracy (subset accuracy for multilabel y) and cross-entropy (both sample-weighted)."""
        Z = self._validation_logits_T(XvT, params).T
        w = np.ones(len(y_val)) if sw_val is None else np.asarray(sw_val, np.float64)
        if self._multilabel:
            right = np.all((Z > 0) == (y_val == 1), axis=1)
            loglik = np.where(y_val == 1, _numerics.log_sigmoid(Z), _numerics.log_sigmoid(-Z)).sum(axis=1)
            return float(np.average(right, weights=w)), float(-np.dot(w, loglik.astype(np.float64)) / w.sum())
        if Z.shape[1] == 1:
            z = Z[:, 0]
            pred = (z > 0).astype(np.intp)
            loglik = np.where(y_val == 1, _numerics.log_sigmoid(z), _numerics.log_sigmoid(-z))
        else:
            pred = Z.argmax(axis=1)
            loglik = _numerics.log_softmax(Z)[np.arange(Z.shape[0]), y_val]
        score = float(np.average(pred == y_val, weights=w))
        loss = float(-np.dot(w, loglik.astype(np.float64)) / w.sum())
        return score, loss

    # ------------------------------------------------------------ predictions

    def decision_function(self, X):
        """Output-layer pre-activations.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) for two classes (positive: ``classes_[1]``),
        (n_samples, n_classes) otherwise.
        """
        Z = self._logits(X)
        return Z[:, 0] if Z.shape[1] == 1 and not self._multilabel else Z

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from `classes_`.
        """
        Z = self._logits(X)
        if self._multilabel:
            return (Z > 0).astype(int)
        idx = (Z[:, 0] > 0).astype(np.intp) if Z.shape[1] == 1 else Z.argmax(axis=1)
        return self.classes_[idx]

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Two columns for two classes; each row sums to 1.
        """
        return self._probabilities(X, log=False)

    def predict_log_proba(self, X):
        """Log of predict_proba, computed from the logits (finite where the probabilities round to 0).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return self._probabilities(X, log=True)

    def _probabilities(self, X, log):
        """predict_proba (log False) or predict_log_proba (log True).

        Probabilities of several classes or labels come from the output layer of
        the kernels; the two of a binary problem and every log-probability from
        the logits (sigmoid(-z) and sigmoid(z), log-softmax: accurate near 0).
        """
        if not log and (self._multilabel or getattr(self, "n_outputs_", 2) > 1):
            return self._outputs(X, "logistic" if self._multilabel else "softmax")
        Z = self._logits(X)
        sigmoid = _numerics.log_sigmoid if log else _numerics.sigmoid
        if self._multilabel:
            return sigmoid(Z)
        if Z.shape[1] == 1:
            z = Z[:, 0]
            return np.column_stack([sigmoid(-z), sigmoid(z)])
        return _numerics.log_softmax(Z) if log else _numerics.softmax(Z.T).T

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

        Parameters
        ----------
        path : str or os.PathLike
            Where to write the model.
        """
        from .. import _modelfile

        _modelfile.save_estimator(self, path)

    @classmethod
    def load(cls, path):
        """A fitted ShallowNetClassifier from a file written by :meth:`save` (or by ``shallownet-fast train``).

        Parameters
        ----------
        path : str or os.PathLike
            A model file.

        Returns
        -------
        ShallowNetClassifier
            The fitted estimator.

        Raises
        ------
        ValueError
            When the file is not a model file of the format version this
            version of shallownet_fast reads, or any part of it is inconsistent
            (the message names the file and the member).
        """
        from .. import _modelfile

        return _modelfile.load_estimator(cls, path)

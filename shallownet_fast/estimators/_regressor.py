"""ShallowNetRegressor: the shallow network as a scikit-learn regressor.

A drop-in for :class:`sklearn.neural_network.MLPRegressor` with one hidden
layer: identity output units, MLPRegressor's halved squared error (averaged
over the outputs) plus the L2 penalty, sample weights, one or several
outputs, trained by :mod:`shallownet_fast._minibatch` like the classifier
(same parameters, same fit loop: :mod:`shallownet_fast.estimators._base`).

scikit-learn is an optional dependency: ``pip install "shallownet_fast[sklearn]"``.
"""

from typing import ClassVar

import numpy as np

from ._base import (
    _INSTALL_HINT,
    SPARSE_FORMATS,
    BaseShallowNet,
    validate_data,
)

try:
    from sklearn.base import RegressorMixin, _fit_context
    from sklearn.metrics import r2_score
    from sklearn.utils._available_if import available_if
    from sklearn.utils._param_validation import StrOptions
    from sklearn.utils.validation import column_or_1d
except ImportError as exc:  # pragma: no cover - _base raises first
    raise ImportError(_INSTALL_HINT) from exc

__all__ = ["ShallowNetRegressor"]


class ShallowNetRegressor(RegressorMixin, BaseShallowNet):
    """A one-hidden-layer neural network regressor (scikit-learn API).

    MLPRegressor with ``hidden_layer_sizes=(h,)``: the same parameters (and
    the extras of :class:`~shallownet_fast.ShallowNetClassifier`: `backend`,
    `n_threads`, `max_time`, `callback`, ``activation="leaky_relu"``), the
    same initialisation, batches, stopping rule and formulas, so that
    ``ShallowNetRegressor(**mlp.get_params())`` fitted on the same data gives
    MLPRegressor's model to rounding.

    The loss of a batch with weights w (sum sw) is
    ``sum(w * sum_k (y_k - p_k)^2) / (2 n_outputs sw) + alpha / 2 * (|W1|^2 + |W2|^2) / sw``
    (MLPRegressor's ``squared_error``); the output delta is ``(p - y) * w``.
    With early stopping the validation score is the (sample-weighted) R^2.

    Parameters
    ----------
    loss : {"squared_error"}, default "squared_error"
        The only loss (MLPRegressor's "poisson" is not implemented).
    Every other parameter is :class:`~shallownet_fast.ShallowNetClassifier`'s
    (without `class_weight`).

    Attributes
    ----------
    coefs_, intercepts_, n_features_in_, feature_names_in_, n_layers_, loss_,
    loss_curve_, best_loss_, validation_scores_, validation_loss_curve_,
    best_validation_score_, n_iter_, t_, stop_reason_
        As in :class:`~shallownet_fast.ShallowNetClassifier` (the validation
        loss is the squared error).
    n_outputs_ : int
        The number of targets (columns of y).
    out_activation_ : "identity"
    """

    _model_kind = "regressor"  # for the model file

    _parameter_constraints: ClassVar[dict] = {
        **BaseShallowNet._parameter_constraints,
        "loss": [StrOptions({"squared_error"})],
    }

    def __init__(
        self,
        loss="squared_error",
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
        self.loss = loss

    # ------------------------------------------------------------ fit

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network on (X, y) for up to `max_iter` epochs.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Finite numeric targets.
        sample_weight : array-like of shape (n_samples,) or None
            Non-negative weights; None weighs every sample 1.

        Returns
        -------
        self : ShallowNetRegressor
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
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y), continuing from the current state (MLPRegressor's partial_fit).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,) or None

        Returns
        -------
        self : ShallowNetRegressor
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=None)

    def _validate_input(self, X, y, *, incremental, first, classes):
        """X as a float array, and y as a float array of shape (n_samples, n_outputs)."""
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=SPARSE_FORMATS,
            dtype=(np.float64, np.float32),
            reset=first,
            multi_output=True,
            y_numeric=True,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        Y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        if first:
            self._n_targets = Y.shape[1]
        elif Y.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {Y.shape[1]} output(s), the network was fitted on {self.n_outputs_}")
        return X, Y

    def _output_units(self):
        return self._n_targets

    def _output_activation(self):
        return "identity"

    def _targets(self, y, dtype):
        """Y of shape (n_outputs, m)."""
        return np.ascontiguousarray(y.T, dtype=dtype)

    def _check_training_targets(self, y):
        """Any targets train a regressor."""

    def _stratify(self, y):
        """The validation split is not stratified (MLPRegressor's)."""
        return None

    def _evaluate(self, XvT, y_val, sw_val, params):
        """Validation R^2 (scikit-learn's r2_score, sample-weighted) and squared error (halved, as the loss)."""
        P = self._validation_logits_T(XvT, params).T.astype(np.float64)
        Y = np.asarray(y_val, dtype=np.float64)
        w = None if sw_val is None else np.asarray(sw_val, np.float64)
        if P.shape[1] == 1:
            score = r2_score(Y[:, 0], P[:, 0], sample_weight=w)
        else:
            score = r2_score(Y, P, sample_weight=w)
        loss = 0.5 * float(np.average((Y - P) ** 2, weights=w, axis=0).mean())
        return float(score), loss

    # ------------------------------------------------------------ predictions

    def predict(self, X):
        """Predicted targets.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) for one output, (n_samples, n_outputs) otherwise
        """
        P = self._logits(X)
        return P[:, 0] if P.shape[1] == 1 else P

    # ------------------------------------------------------------ persistence

    def save(self, path):
        """Write the fitted model to `path` (see :meth:`ShallowNetClassifier.save`; no classes).

        Parameters
        ----------
        path : str or os.PathLike
        """
        from .. import _modelfile

        _modelfile.save_estimator(self, path)

    @classmethod
    def load(cls, path):
        """A fitted ShallowNetRegressor from a file written by :meth:`save`.

        Parameters
        ----------
        path : str or os.PathLike

        Returns
        -------
        ShallowNetRegressor

        Raises
        ------
        ValueError
            When the file is not a regressor's model file of this format version, or
            any part of it is inconsistent (the message names the file and the member).
        """
        from .. import _modelfile

        return _modelfile.load_estimator(cls, path)

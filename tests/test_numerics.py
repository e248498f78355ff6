"""The NumPy formulas of _numerics, and the replacements they offer for the estimator's own copies.

The second half documents a swap: each helper that shallownet_fast.estimator still defines for itself
has a counterpart in _numerics, _threads or _validation that gives the same results; once the
estimator imports those, its copies (and these comparisons) can go.
"""

import numpy as np
import pytest

from shallownet_fast import _numerics, _threads, _validation, reference

from conftest import ACTIVATIONS, PARAM_KEYS, make_data, make_parameters, tolerance

pytest.importorskip("sklearn")
from shallownet_fast import ShallowNetClassifier  # noqa: E402

try:  # where the estimator's NumPy helpers live: its package, or the single module of earlier versions
    from shallownet_fast.estimators import _base as estimator
except ImportError:
    from shallownet_fast import estimator


def _batch(n_y, dtype=np.float64, m=23, seed=0):
    rng = np.random.default_rng(seed)
    X, Y = make_data(seed, 5, m, n_y, dtype)
    params = make_parameters(seed, 5, 7, n_y, dtype)
    w = rng.uniform(0.2, 3.0, m).astype(dtype)
    return X, Y, params, w


# ---------------------------------------------------------------- the weighted batch


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("n_y", [1, 3])
def test_batch_gradients_by_finite_differences(n_y, activation):
    """batch_loss_and_grads's gradients against central differences of its loss (float64, L2, weights)."""
    X, Y, params, w = _batch(n_y, m=11)
    alpha, h = 0.3, 1e-6
    _, grads = _numerics.batch_loss_and_grads(params, X, Y, w, activation, alpha)
    for key in PARAM_KEYS:
        p = params[key]
        numeric = np.empty_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + h
            up, _ = _numerics.batch_loss_and_grads(params, X, Y, w, activation, alpha)
            p[idx] = old - h
            down, _ = _numerics.batch_loss_and_grads(params, X, Y, w, activation, alpha)
            p[idx] = old
            numeric[idx] = (up - down) / (2 * h)
        np.testing.assert_allclose(grads[key], numeric, rtol=1e-6, atol=1e-8, err_msg=key)


def test_batch_with_unit_weights_and_no_penalty_is_the_mean_cross_entropy(dtype):
    """With w = 1 and alpha = 0 the batch loss is compute_cost and the gradients are backward's."""
    X, Y, params, _ = _batch(3, dtype)
    loss, grads = _numerics.batch_loss_and_grads(params, X, Y, np.ones(X.shape[1], dtype), "tanh", 0.0)
    A2, cache = reference.forward_propagation(X, params)
    assert loss == pytest.approx(reference.compute_cost(A2, Y), rel=tolerance(dtype)["rtol"])
    expected = reference.backward_propagation(params, cache, X, Y)
    for key in PARAM_KEYS:
        assert grads[key].dtype == dtype
        np.testing.assert_allclose(grads[key], expected["d" + key], **tolerance(dtype), err_msg=key)


def test_logits_are_the_forward_pass_before_the_output(activation):
    X, _, params, _ = _batch(3)
    A2, cache = _numerics.forward(X, *(params[k] for k in PARAM_KEYS), activation)
    Z2 = _numerics.logits(X, *(params[k] for k in PARAM_KEYS), activation)
    np.testing.assert_array_equal(Z2, cache["Z2"])
    np.testing.assert_array_equal(_numerics.output(Z2), A2)


def test_log_sigmoid_and_log_softmax_stay_finite_and_match_the_logs():
    z = np.array([-1000.0, -30.0, -1.0, 0.0, 2.0, 40.0, 1000.0])
    got = _numerics.log_sigmoid(z)
    assert np.all(np.isfinite(got))
    inner = slice(1, -1)
    np.testing.assert_allclose(got[inner], np.log(_numerics.sigmoid(z[inner])), rtol=1e-12, atol=1e-15)
    Z = np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]])
    lsm = _numerics.log_softmax(Z)
    assert np.all(np.isfinite(lsm))
    np.testing.assert_allclose(lsm[1], np.log(_numerics.softmax(Z[1:].T).T[0]), rtol=1e-12)
    np.testing.assert_allclose(np.exp(lsm).sum(axis=1), 1.0, rtol=1e-12)


# ---------------------------------------------------------------- the estimator's copies, replaced


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("n_y", [1, 3])
def test_loss_and_grads_swap(n_y, activation):
    """estimator._loss_and_grads(params, X, Y, sw, activation=, alpha=)
    -> _numerics.batch_loss_and_grads(params, X, Y, sw, activation, alpha): the same bits in float64."""
    X, Y, params, w = _batch(n_y)
    old_loss, old = estimator._loss_and_grads(params, X, Y, w, activation=activation, alpha=0.3)
    new_loss, new = _numerics.batch_loss_and_grads(params, X, Y, w, activation, 0.3)
    assert new_loss == old_loss
    for key in PARAM_KEYS:
        np.testing.assert_array_equal(new[key], old[key], err_msg=key)


def test_loss_and_grads_swap_float32():
    """In float32 the new function sums the weights and the squared weights in float64 (the estimator's
    copy in float32): the gradients agree to float32 rounding, the losses to its tolerance."""
    X, Y, params, w = _batch(3, np.float32)
    old_loss, old = estimator._loss_and_grads(params, X, Y, w, activation="relu", alpha=0.3)
    new_loss, new = _numerics.batch_loss_and_grads(params, X, Y, w, "relu", 0.3)
    assert new_loss == pytest.approx(old_loss, rel=tolerance(np.float32)["rtol"])
    for key in PARAM_KEYS:
        assert new[key].dtype == np.float32
        np.testing.assert_allclose(new[key], old[key], **tolerance(np.float32), err_msg=key)


def test_log_sigmoid_and_log_softmax_swap():
    """estimator._log_sigmoid -> _numerics.log_sigmoid, estimator._log_softmax -> _numerics.log_softmax."""
    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.float64):
        z = (rng.standard_normal(50) * 30).astype(dtype)
        Z = (rng.standard_normal((40, 4)) * 30).astype(dtype)
        np.testing.assert_array_equal(_numerics.log_sigmoid(z), estimator._log_sigmoid(z))
        np.testing.assert_array_equal(_numerics.log_softmax(Z), estimator._log_softmax(Z))


@pytest.mark.parametrize("n_y", [1, 3])
def test_reference_forward_pass_swap(n_y, activation):
    """The estimator's NumPy forward pass (ShallowNetClassifier._logits_T with backend="reference")
    -> _numerics.logits(XT, W1, b1, W2, b2, activation)."""
    X, _, params, _ = _batch(n_y)
    clf = ShallowNetClassifier(activation=activation, backend="reference")
    np.testing.assert_array_equal(
        _numerics.logits(X, *(params[k] for k in PARAM_KEYS), activation), clf._logits_T(X, params)
    )


def test_reference_helpers_the_estimator_uses_are_the_numerics_functions():
    """estimator's _ref._forward, _ref._activate, _ref._sigmoid, _ref._softmax, _ref._clip_probabilities,
    _ref._activation_derivative -> _numerics.forward, activate, sigmoid, softmax, clip_probabilities,
    activation_derivative (reference.py re-exports these very functions)."""
    pairs = {
        "_forward": _numerics.forward,
        "_activate": _numerics.activate,
        "_sigmoid": _numerics.sigmoid,
        "_softmax": _numerics.softmax,
        "_clip_probabilities": _numerics.clip_probabilities,
        "_activation_derivative": _numerics.activation_derivative,
    }
    for name, function in pairs.items():
        assert getattr(reference, name) is function, name


def test_lists_and_thresholds_swap():
    """estimator.ACTIVATIONS -> _validation.ACTIVATIONS, estimator.SOLVERS -> _validation.SOLVERS (the same
    names; the estimator lists relu first), estimator._THREADED_MIN_FLOPS -> _threads._THREADED_MIN_FLOPS."""
    assert sorted(estimator.ACTIVATIONS) == sorted(_validation.ACTIVATIONS)
    assert estimator.SOLVERS == _validation.SOLVERS
    assert estimator._THREADED_MIN_FLOPS == _threads._THREADED_MIN_FLOPS


def _blas_counts():
    from threadpoolctl import threadpool_info

    return sorted((info["filepath"], info["num_threads"]) for info in threadpool_info() if info["user_api"] == "blas")


def _inside(context):
    with context:
        return _blas_counts()


@pytest.mark.parametrize("n_threads", [None, 1, 2])
def test_blas_threads_swap(n_threads):
    """estimator._threads(n) -> _threads.blas_threads(n): the same BLAS thread counts inside, restored after."""
    pytest.importorskip("threadpoolctl")
    before = _blas_counts()
    assert _inside(_threads.blas_threads(n_threads)) == _inside(estimator._threads(n_threads))
    assert _blas_counts() == before


@pytest.mark.parametrize(
    ("n_threads", "n_x", "hidden", "batch"), [(None, 2, 4, 32), (None, 784, 256, 200), (1, 784, 256, 200), (2, 5, 4, 8)]
)
def test_training_threads_swap(n_threads, n_x, hidden, batch):
    """ShallowNetClassifier._training_threads(n_x, batch_size)
    -> _threads.batch_blas_context(n_threads, n_x, hidden_units, n_outputs_, batch_size)."""
    pytest.importorskip("threadpoolctl")
    clf = ShallowNetClassifier(hidden_units=hidden, n_threads=n_threads)
    clf.n_outputs_ = 3
    new = _threads.batch_blas_context(n_threads, n_x, hidden, 3, batch)
    assert _inside(new) == _inside(clf._training_threads(n_x, batch))

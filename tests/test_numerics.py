"""The NumPy formulas of _numerics (every reference path uses them) and the thread policy's BLAS contexts."""

import numpy as np
import pytest

from shallownet_fast import _numerics, _threads, reference

from conftest import ACTIVATIONS, PARAM_KEYS, make_data, make_parameters, tolerance


def _batch(n_y, dtype=np.float64, m=23, seed=0):
    rng = np.random.default_rng(seed)
    X, Y = make_data(seed, 5, m, n_y, dtype)
    params = make_parameters(seed, 5, 7, n_y, dtype)
    w = rng.uniform(0.2, 3.0, m).astype(dtype)
    return X, Y, params, w


# ---------------------------------------------------------------- the weighted batch


def _numeric_gradient(params, X, Y, w, activation, alpha, out, h=1e-6):
    numeric = {}
    for key in PARAM_KEYS:
        p = params[key]
        numeric[key] = np.empty_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + h
            up, _ = _numerics.batch_loss_and_grads(params, X, Y, w, activation, alpha, out)
            p[idx] = old - h
            down, _ = _numerics.batch_loss_and_grads(params, X, Y, w, activation, alpha, out)
            p[idx] = old
            numeric[key][idx] = (up - down) / (2 * h)
    return numeric


@pytest.mark.parametrize("activation", ["identity", "logistic"])
@pytest.mark.parametrize("out, n_y", [("logistic", 3), ("identity", 1)])
def test_output_layers_gradients_by_finite_differences(out, n_y, activation):
    """A sigmoid per row (multilabel) and one identity output: the gradients of the loss."""
    X, _, params, w = _batch(n_y, m=11)
    rng = np.random.default_rng(4)
    Y = (rng.random((n_y, 11)) < 0.5).astype(float) if out == "logistic" else rng.standard_normal((n_y, 11))
    _, grads = _numerics.batch_loss_and_grads(params, X, Y, w, activation, 0.3, out)
    numeric = _numeric_gradient(params, X, Y, w, activation, 0.3, out)
    for key in PARAM_KEYS:
        np.testing.assert_allclose(grads[key], numeric[key], rtol=1e-6, atol=1e-8, err_msg=key)


def test_identity_outputs_take_mlps_unscaled_delta():
    """With n_y identity outputs the loss averages over them but the delta is p - y (MLPRegressor's):
    without L2 the gradients are n_y times the loss's."""
    X, _, params, w = _batch(3, m=11)
    Y = np.random.default_rng(4).standard_normal((3, 11))
    _, grads = _numerics.batch_loss_and_grads(params, X, Y, w, "tanh", 0.0, "identity")
    numeric = _numeric_gradient(params, X, Y, w, "tanh", 0.0, "identity")
    for key in PARAM_KEYS:
        np.testing.assert_allclose(grads[key], 3 * numeric[key], rtol=1e-6, atol=1e-8, err_msg=key)


def test_identity_and_logistic_activations():
    Z = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_array_equal(_numerics.activate(Z, "identity"), Z)
    np.testing.assert_array_equal(_numerics.activation_derivative(Z, "identity"), np.ones_like(Z))
    np.testing.assert_array_equal(_numerics.activate(Z, "logistic"), _numerics.sigmoid(Z))
    A = _numerics.sigmoid(Z)
    np.testing.assert_array_equal(_numerics.activation_derivative(A, "logistic"), A * (1 - A))


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


# ---------------------------------------------------------------- BLAS contexts of the thread policy


def _blas_counts():
    from threadpoolctl import threadpool_info

    return sorted(info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas")


def _inside(context):
    with context:
        return _blas_counts()


def _bound_inside(context):
    from shallownet_fast._dispatch import kernels

    with context:
        bound = kernels.set_gemm_limit(0)
        kernels.set_gemm_limit(bound)
        return bound, _blas_counts()


@pytest.mark.parametrize(
    ("n_threads", "n_x", "hidden", "batch", "bounded"),
    [(None, 2, 4, 32, True), (1, 784, 256, 200, True), (2, 5, 4, 8, False)],
)
def test_batch_blas_context(n_threads, n_x, hidden, batch, bounded):
    """The estimator's BLAS: on the calling thread (a bound on its products, local to it) with n_threads=1
    and for batches under the small-work threshold; BLAS's process-wide count never changes."""
    pytest.importorskip("threadpoolctl")
    before = _blas_counts()
    limit = _threads.gemm_single_thread_limit()
    bound, inside = _bound_inside(_threads.batch_blas_context(n_threads, n_x, hidden, 3, batch))
    assert bound == (limit if bounded else 0)
    assert inside == before
    assert _blas_counts() == before


def test_batch_blas_context_leaves_large_batches_to_blas():
    pytest.importorskip("threadpoolctl")
    before = _blas_counts()
    assert _threads.flops(784, 256, 3, 20000) >= _threads._THREADED_MIN_FLOPS
    assert _inside(_threads.batch_blas_context(None, 784, 256, 3, 20000)) == before

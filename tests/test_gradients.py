"""backward_propagation against central finite differences of the cost (float64).

For every parameter entry theta: (J(theta + h) - J(theta - h)) / (2h) with
J = compute_cost(forward_propagation(X, p)[0], Y), each backend differentiating
its own forward pass.  With h = 1e-6 the truncation error is O(h^2 |J'''|) ~ 1e-12
and the rounding error ~eps * |J| / h ~ 1e-10, so rtol=1e-6, atol=1e-8 leave a
wide margin while any wrong term in a gradient (a missing 1/m, a wrong
derivative, a transposed product) is off by far more.
"""

import numpy as np
import pytest

from conftest import ACTIVATIONS, GRAD_KEYS, PARAM_KEYS, make_data, make_parameters

H = 1e-6
RTOL, ATOL = 1e-6, 1e-8
# ReLU and leaky ReLU have a kink at 0: every pre-activation must stay farther
# from 0 than the largest change a perturbation h can make (h * max|x| ~ 3e-6).
KINK_MARGIN = 1e-3
N_X, N_H, M = 3, 4, 10


def _kink_free_problem(n_y):
    """The first seed whose pre-activations Z1 all satisfy |Z1| > KINK_MARGIN.

    The same problem is used for every activation, so the smooth activations
    are checked on it too.  Deterministic: the seeds are tried in order.
    """
    for seed in range(100):
        X, Y = make_data(seed, N_X, M, n_y)
        params = make_parameters(seed + 1000, N_X, N_H, n_y, scale=1.5)
        Z1 = params["W1"] @ X + params["b1"]
        if np.abs(Z1).min() > KINK_MARGIN:
            return X, Y, params
    raise AssertionError("no kink-free problem among 100 seeds")  # pragma: no cover


def _numerical_gradient(backend, X, Y, params, activation):
    def cost(p):
        A2, _ = backend.forward_propagation(X, p, activation=activation)
        return backend.compute_cost(A2, Y)

    grads = {}
    for key in PARAM_KEYS:
        g = np.zeros_like(params[key])
        for idx in np.ndindex(params[key].shape):
            plus = {k: a.copy() for k, a in params.items()}
            minus = {k: a.copy() for k, a in params.items()}
            plus[key][idx] += H
            minus[key][idx] -= H
            g[idx] = (cost(plus) - cost(minus)) / (2 * H)
        grads["d" + key] = g
    return grads


@pytest.mark.parametrize("n_y", [1, 3])
def test_gradients_match_finite_differences(backend, activation, n_y):
    X, Y, params = _kink_free_problem(n_y)
    A2, cache = backend.forward_propagation(X, params, activation=activation)
    # the problem is not degenerate: outputs are away from the clipped 0 and 1
    assert 1e-6 < A2.min() and A2.max() < 1 - 1e-6
    analytic = backend.backward_propagation(params, cache, X, Y, activation=activation)
    numerical = _numerical_gradient(backend, X, Y, params, activation)
    for k in GRAD_KEYS:
        assert np.abs(numerical[k]).max() > 1e-4, f"{k} is trivially small"
        np.testing.assert_allclose(analytic[k], numerical[k], rtol=RTOL, atol=ATOL, err_msg=f"{activation} {k}")


def test_the_problems_keep_away_from_the_kink():
    """Guard for the ReLU cases: |Z1| > KINK_MARGIN for both output sizes."""
    for n_y in (1, 3):
        X, _, params = _kink_free_problem(n_y)
        assert np.abs(params["W1"] @ X + params["b1"]).min() > KINK_MARGIN
        # relu kills some units and keeps others: both branches are exercised
        Z1 = params["W1"] @ X + params["b1"]
        assert (Z1 > 0).any() and (Z1 < 0).any()


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_one_step_decreases_the_cost(backend, activation):
    """A small step along -grad lowers the cost (first-order check of the sign)."""
    X, Y, params = _kink_free_problem(3)
    A2, cache = backend.forward_propagation(X, params, activation=activation)
    before = backend.compute_cost(A2, Y)
    grads = backend.backward_propagation(params, cache, X, Y, activation=activation)
    new = backend.update_parameters(params, grads, learning_rate=1e-2)
    after = backend.compute_cost(backend.forward_propagation(X, new, activation=activation)[0], Y)
    sq_norm = sum(float((grads[k] ** 2).sum()) for k in GRAD_KEYS)
    assert after < before
    # and by about learning_rate * |grad|^2
    assert before - after == pytest.approx(1e-2 * sq_norm, rel=0.05)

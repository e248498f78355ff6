"""Sparse X (CSR, CSC) in the first layer, never densified: prediction, the full-batch loss and
gradient, L-BFGS-B training and mini-batch epochs equal the dense results to rounding."""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from shallownet_fast import _lbfgs, _minibatch, _numerics, fast
from shallownet_fast._dispatch import kernels as _core
from shallownet_fast._validation import PARAM_KEYS

from conftest import assert_close, make_labels, make_parameters

DTYPES = (np.float64, np.float32)


def sparse_data(seed, m, n_x, dtype, density=0.2, fmt="csr"):
    """A sparse (m, n_x) X with some empty rows and one empty column, unsorted indices in CSR."""
    rng = np.random.default_rng(seed)
    X = sp.random_array((m, n_x), density=density, format="csr", dtype=np.float64, rng=rng)
    X.data = (X.data * 4 - 2).astype(dtype)
    X = X.tolil()
    X[::7] = 0  # empty rows
    X[:, 1] = 0  # an empty column
    X = X.tocsr()
    X.eliminate_zeros()
    if fmt == "csr":  # reverse each row's indices: the kernels must not rely on sorted indices
        for j in range(m):
            lo, hi = X.indptr[j], X.indptr[j + 1]
            X.indices[lo:hi] = X.indices[lo:hi][::-1].copy()
            X.data[lo:hi] = X.data[lo:hi][::-1].copy()
        X.has_sorted_indices = False
        return X
    return X.asformat(fmt)


def dense_T(X):
    return np.ascontiguousarray(X.toarray().T)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize(("output", "n_y"), [("identity", 1), ("logistic", 2), ("softmax", 3)])
def test_predict_equals_dense(dtype, fmt, output, n_y):
    X = sparse_data(0, 90, 12, dtype, fmt=fmt)
    before = X.copy()
    params = make_parameters(0, 12, 5, n_y, dtype)
    got = fast._predict_csr(X, params, activation="tanh", output=output)
    Z2 = _numerics.logits(dense_T(X), *(params[k] for k in PARAM_KEYS), "tanh")
    assert got.dtype == dtype
    assert_close(got, _numerics.output(Z2, output), dtype)
    assert (X != before).nnz == 0  # the input is left alone


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_predict_kernel_in_blocks(dtype, activation):
    X = sparse_data(1, 100, 9, dtype)
    params = make_parameters(1, 9, 4, 3, dtype)
    data, indices, indptr = fast._csr_arrays(X, dtype)
    A2 = np.empty((3, 100), dtype)
    W1, b1, W2, b2 = params["W1"], params["b1"].ravel(), params["W2"], params["b2"].ravel()
    scratch = np.empty((5, 16), dtype), np.empty((9, 4), dtype), np.empty((16, 4), dtype)
    _core.predict_csr(
        data,
        indices,
        indptr,
        W1,
        b1,
        W2,
        b2,
        _core.ACTIVATION_CODES[activation],
        _core.OUTPUT_CODES["softmax"],
        A2,
        *scratch,
    )
    assert_close(A2, _numerics.forward(dense_T(X), *(params[k] for k in PARAM_KEYS), activation)[0], dtype)


def csr_loss_gradient(X, Y, sw, params, activation, output, alpha, block):
    dtype = params["W1"].dtype
    (n_h, n_x), n_y = params["W1"].shape, params["W2"].shape[0]
    grads = (np.empty((n_h, n_x), dtype), np.empty(n_h, dtype), np.empty((n_y, n_h), dtype), np.empty(n_y, dtype))
    scratch = (np.empty((n_h, block), dtype), np.empty((n_h, block), dtype), np.empty((n_y, block), dtype))
    scratch += (np.empty(block, dtype), np.empty((n_x, n_h), dtype), np.empty((n_x, n_h), dtype))
    scratch += (np.empty((block, n_h), dtype),)
    W1, b1, W2, b2 = params["W1"], params["b1"].ravel(), params["W2"], params["b2"].ravel()
    codes = _core.ACTIVATION_CODES[activation], _core.OUTPUT_CODES[output], alpha
    loss = _core.loss_gradient_csr(*fast._csr_arrays(X, dtype), Y, sw, W1, b1, W2, b2, *codes, *grads, *scratch)
    return loss, grads


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("output", "n_y"), [("logistic", 1), ("softmax", 3), ("identity", 2)])
@pytest.mark.parametrize("block", [5, 64, 400])
def test_loss_gradient_equals_dense(dtype, output, n_y, block):
    X = sparse_data(2, 120, 15, dtype)
    rng = np.random.default_rng(2)
    Y = make_labels(rng, n_y, 120, dtype) if output != "identity" else rng.standard_normal((n_y, 120)).astype(dtype)
    sw = rng.uniform(0.5, 2, 120).astype(dtype)
    params = make_parameters(2, 15, 6, n_y, dtype)
    loss, grads = csr_loss_gradient(X, Y, sw, params, "relu", output, 0.2, block)
    want_loss, want = _numerics.batch_loss_and_grads(params, dense_T(X), Y, sw, "relu", 0.2, output)
    assert_close(loss, want_loss, dtype)
    for got, key in zip(grads, PARAM_KEYS):
        assert_close(got, want[key].reshape(got.shape), dtype, err_msg=key)


@pytest.mark.parametrize("backend", ["fast", "reference"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_lbfgs_sparse_equals_dense(backend, dtype, fmt):
    X = sparse_data(3, 150, 10, dtype, fmt=fmt)
    Y = make_labels(np.random.default_rng(3), 3, 150, dtype)
    start = make_parameters(3, 10, 5, 3, dtype)
    results = []
    for XT in (X.T, dense_T(X)):
        params = {k: v.copy() for k, v in start.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            n_iter, loss, _ = _lbfgs.minimize(
                backend,
                XT,
                Y,
                np.ones(150, dtype),
                params,
                activation="tanh",
                output="softmax",
                alpha=1e-3,
                max_iter=8,
                max_fun=15000,
                tol=1e-12,
            )
        results.append((n_iter, loss, params))
    (n_s, loss_s, p_s), (n_d, loss_d, p_d) = results
    assert n_s == n_d == 8
    assert_close(loss_s, loss_d, dtype)
    for k in PARAM_KEYS:
        assert p_s[k].dtype == dtype
        assert_close(p_s[k], p_d[k], dtype, err_msg=k)


@pytest.mark.parametrize("backend", ["fast", "reference"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("n_y", [1, 3])
def test_epoch_sparse_equals_dense(backend, dtype, solver, n_y):
    X = sparse_data(4, 130, 11, dtype)
    rng = np.random.default_rng(4)
    Y = make_labels(rng, n_y, 130, dtype)
    sw = rng.uniform(0.5, 2, 130).astype(dtype)
    order = rng.permutation(130).astype(np.intp)
    start = make_parameters(4, 11, 6, n_y, dtype)
    hyper = dict(
        activation="tanh",
        solver=solver,
        learning_rate=0.05,
        momentum=0.9,
        nesterov=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        alpha=1e-3,
    )
    runs = []
    for XT in (X.T, dense_T(X)):
        params = {k: v.copy() for k, v in start.items()}
        state = _minibatch.make_state(params, solver)
        losses = [_minibatch.run_epoch(backend, XT, Y, sw, o, 32, params, state, **hyper) for o in (order, None)]
        runs.append((losses, params, state["t"]))
    (loss_s, p_s, t_s), (loss_d, p_d, t_d) = runs
    assert t_s == t_d == 10
    assert_close(np.array(loss_s), np.array(loss_d), dtype)
    for k in PARAM_KEYS:
        assert p_s[k].dtype == dtype
        assert_close(p_s[k], p_d[k], dtype, err_msg=k)


def test_csr_structure_is_checked():
    params = make_parameters(5, 4, 3, 1)
    W1, b1, W2, b2 = params["W1"], params["b1"].ravel(), params["W2"], params["b2"].ravel()
    A2 = np.empty((1, 2))
    scratch = np.empty((4, 8)), np.empty((4, 3)), np.empty((8, 3))
    data = np.ones(3)

    def run(indices, indptr):
        idx, ptr = np.array(indices, np.intp), np.array(indptr, np.intp)
        _core.predict_csr(data, idx, ptr, W1, b1, W2, b2, 0, 2, A2, *scratch)

    run([0, 3, 1], [0, 2, 3])  # valid
    with pytest.raises(ValueError, match=r"indices\[1\] = 4 is not a column"):
        run([0, 4, 1], [0, 2, 3])
    with pytest.raises(ValueError, match=r"indices\[0\] = -1"):
        run([-1, 0, 1], [0, 2, 3])
    with pytest.raises(ValueError, match="indptr runs from 0 to 2"):
        run([0, 1, 2], [0, 1, 2])
    with pytest.raises(ValueError, match="indptr decreases at 1"):
        run([0, 1, 2], [0, 3, 2, 3])
    with pytest.raises(ValueError, match="indices has shape"):
        run([0, 1], [0, 1, 3])
    with pytest.raises(ValueError, match="X contains NaN"):
        fast._predict_csr(sp.csr_array(np.array([[np.nan, 0, 0, 1]])), params)
    with pytest.raises(ValueError, match="expected"):
        fast._predict_csr(sp.csr_array(np.ones((2, 5))), params)


def test_memory_is_bounded_by_the_entries_not_the_dense_size():
    """X of 5000 x 200 000 (8 GB dense in float64) with 20 000 entries: the loss and gradient, an
    L-BFGS-B run and prediction take a few times the parameters' size (4.8 MB), never X's dense size."""
    m, n_x, n_h = 5000, 200_000, 3
    rng = np.random.default_rng(6)
    rows, cols = rng.integers(0, m, 20_000), rng.integers(0, n_x, 20_000)
    X = sp.csr_array((rng.standard_normal(20_000), (rows, cols)), shape=(m, n_x))
    Y = make_labels(rng, 1, m)
    params = make_parameters(6, n_x, n_h, 1)
    size = sum(p.nbytes for p in params.values())

    def peak_of(run):
        tracemalloc.start()
        try:
            run()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    loss_grad = _lbfgs._fast_loss_grad(X.T, Y, np.ones(m), params, "tanh", "logistic", 1e-4)
    assert peak_of(loss_grad) < 0.5 * size  # its buffers are made beforehand, once
    assert peak_of(lambda: _lbfgs._fast_loss_grad(X.T, Y, np.ones(m), params, "tanh", "logistic", 1e-4)) < 4 * size
    assert peak_of(lambda: fast._predict_csr(X, params)) < 3 * size

    def train():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            _lbfgs.minimize(
                "fast",
                X.T,
                Y,
                np.ones(m),
                params,
                activation="tanh",
                output="logistic",
                alpha=1e-4,
                max_iter=2,
                max_fun=100,
                tol=1e-9,
            )

    # L-BFGS-B's own workspace: (2 * 10 + 5) vectors of the parameters' size, and a few copies
    assert peak_of(train) < 60 * size

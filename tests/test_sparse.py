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


# ---------------------------------------------------------------- the estimators


def _estimators():
    from shallownet_fast import ShallowNetClassifier, ShallowNetRegressor

    return ShallowNetClassifier, ShallowNetRegressor


def estimator_data(kind, seed=7, m=120, n_x=12, dtype=np.float64, fmt="csr"):
    """(sparse X, dense X, y): X as sparse_data makes it, y multiclass labels, binary, multilabel or two targets."""
    X = sparse_data(seed, m, n_x, dtype, density=0.3, fmt=fmt)
    D = X.toarray()
    scores = D @ np.random.default_rng(seed).standard_normal((n_x, 3))
    y = {
        "multiclass": np.array(["a", "b", "c"])[scores.argmax(axis=1)],
        "binary": (scores[:, 0] > 0).astype(int),
        "multilabel": (scores > 0).astype(int),
        "regression": scores[:, :2],
    }[kind]
    return X, D, y


def fit_quietly(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kw)


def assert_same_fit(a, b, dtype):
    """Two fitted estimators: the same history and parameters, to the table's rounding for `dtype`."""
    assert a.n_iter_ == b.n_iter_ and a.t_ == b.t_
    for k in range(2):
        assert a.coefs_[k].dtype == b.coefs_[k].dtype == dtype
        assert_close(a.coefs_[k], b.coefs_[k], dtype, err_msg=f"coefs_[{k}]")
        assert_close(a.intercepts_[k], b.intercepts_[k], dtype, err_msg=f"intercepts_[{k}]")
    assert_close(np.array(a.loss_curve_), np.array(b.loss_curve_), dtype, err_msg="loss_curve_")
    if b.validation_scores_ is None:
        assert a.validation_scores_ is None
    else:
        assert_close(np.array(a.validation_scores_), np.array(b.validation_scores_), dtype)
        assert_close(np.array(a.validation_loss_curve_), np.array(b.validation_loss_curve_), dtype)


def assert_same_predictions(est, X, D, dtype):
    """Every prediction method on the sparse X equals the one on its dense copy D."""
    methods = ["predict", "score"]
    if hasattr(est, "classes_"):
        methods += ["predict_proba", "predict_log_proba", "decision_function"]
    y = est.predict(D)
    for name in methods:
        args = (y,) if name == "score" else ()
        got, want = getattr(est, name)(X, *args), getattr(est, name)(D, *args)
        if name not in ("predict", "score") or not hasattr(est, "classes_"):
            assert np.asarray(got).dtype == np.asarray(want).dtype
            assert_close(got, want, dtype, err_msg=name)
        else:
            np.testing.assert_array_equal(got, want, err_msg=name)


@pytest.mark.parametrize("backend", ["fast", "reference"])
@pytest.mark.parametrize("kind", ["multiclass", "regression"])
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu", "leaky_relu"])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs", "gd"])
def test_estimator_fit_sparse_equals_dense(backend, kind, activation, solver):
    """fit on CSR X gives the model fit gives on its dense copy, and every prediction of CSR X equals the dense one."""
    Classifier, Regressor = _estimators()
    X, D, y = estimator_data(kind)
    before = X.copy()
    make = Classifier if kind == "multiclass" else Regressor
    kw = dict(hidden_layer_sizes=(5,), activation=activation, solver=solver, batch_size=32, max_iter=4)
    kw.update(learning_rate_init=0.05, random_state=1, backend=backend)
    sparse, dense = fit_quietly(make(**kw), X, y), fit_quietly(make(**kw), D, y)
    assert_same_fit(sparse, dense, np.float64)
    assert_same_predictions(sparse, X, D, np.float64)
    assert (X != before).nnz == 0 and X.has_sorted_indices == before.has_sorted_indices  # X is left alone


@pytest.mark.parametrize("backend", ["fast", "reference"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fmt", ["csr", "csc", "csr_matrix", "csc_matrix", "coo", "csr_int64"])
def test_estimator_formats_and_dtypes(backend, dtype, fmt):
    """CSR and CSC arrays and matrices (and any other format, converted), int64 indices; float32 stays float32."""
    Classifier, _ = _estimators()
    X, D, y = estimator_data("multiclass", seed=8, dtype=dtype)
    if fmt == "csr_int64":
        X = sp.csr_array((X.data, X.indices.astype(np.int64), X.indptr.astype(np.int64)), shape=X.shape)
        X.indices, X.indptr = X.indices.astype(np.int64), X.indptr.astype(np.int64)
    elif fmt.endswith("_matrix"):
        X = getattr(sp, fmt)(X)
    else:
        X = X.asformat(fmt)
    kw = dict(hidden_layer_sizes=(4,), activation="tanh", solver="adam", batch_size=25, max_iter=3, random_state=2)
    sparse = fit_quietly(Classifier(**kw, backend=backend), X, y)
    dense = fit_quietly(Classifier(**kw, backend=backend), D, y)
    assert_same_fit(sparse, dense, dtype)
    assert_same_predictions(sparse, X, D, dtype)
    assert sparse.predict_proba(X).dtype == dtype
    # a float32 network predicts a float64 X in float64, as the dense path does
    assert sparse.decision_function(X.astype(np.float64)).dtype == np.float64


@pytest.mark.parametrize("backend", ["fast", "reference"])
@pytest.mark.parametrize("kind", ["binary", "multilabel", "regression"])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_estimator_early_stopping_and_weights_sparse(backend, kind, fmt, solver):
    """The validation split of a sparse X (stratified for two classes; lbfgs has none, as MLP's), and samples
    of weight zero dropped."""
    Classifier, Regressor = _estimators()
    X, D, y = estimator_data(kind, seed=9, m=160, fmt=fmt)
    sw = np.random.default_rng(9).uniform(0.5, 2, 160)
    sw[::11] = 0
    make = Regressor if kind == "regression" else Classifier
    kw = dict(hidden_layer_sizes=(6,), activation="relu", max_iter=6, batch_size=20, learning_rate_init=0.02)
    kw.update(early_stopping=True, validation_fraction=0.25, n_iter_no_change=2, random_state=4, backend=backend)
    sparse = fit_quietly(make(**kw, solver=solver), X, y, sample_weight=sw)
    dense = fit_quietly(make(**kw, solver=solver), D, y, sample_weight=sw)
    if solver == "adam":
        assert len(sparse.validation_scores_) == sparse.n_iter_ > 1
    assert_same_fit(sparse, dense, np.float64)
    assert_same_predictions(sparse, X, D, np.float64)


@pytest.mark.parametrize("backend", ["fast", "reference"])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_estimator_partial_fit_sparse_equals_dense(backend, solver):
    Classifier, Regressor = _estimators()
    X, D, y = estimator_data("multiclass", seed=10)
    kw = dict(hidden_layer_sizes=(5,), solver=solver, batch_size=30, random_state=5, backend=backend)
    sparse, dense = Classifier(**kw), Classifier(**kw)
    for lo in (0, 60, 0):
        sparse.partial_fit(X[lo : lo + 60], y[lo : lo + 60], classes=["a", "b", "c"])
        dense.partial_fit(D[lo : lo + 60], y[lo : lo + 60], classes=["a", "b", "c"])
    assert_same_fit(sparse, dense, np.float64)
    X, D, y = estimator_data("regression", seed=10)
    sparse, dense = Regressor(**kw).partial_fit(X, y), Regressor(**kw).partial_fit(D, y)
    assert_same_fit(sparse.partial_fit(X, y), dense.partial_fit(D, y), np.float64)
    assert_same_predictions(sparse, X, D, np.float64)


@pytest.mark.parametrize("backend", ["fast", "reference"])
def test_estimator_predicts_sparse_in_row_blocks(backend, monkeypatch):
    """Predictions over many row blocks equal the dense ones (the reference backend's blocks are taken here)."""
    from shallownet_fast.estimators import _base

    Classifier, _ = _estimators()
    X, D, y = estimator_data("multiclass", seed=11, m=200)
    clf = fit_quietly(Classifier(hidden_layer_sizes=(5,), max_iter=3, random_state=6, backend=backend), X, y)
    want = clf.predict_proba(D)
    monkeypatch.setattr(_base, "_PREDICT_BLOCK_ELEMENTS", 1)
    monkeypatch.setattr(_base, "_MIN_PREDICT_ROWS", 7)  # 29 blocks of 7 rows
    assert_close(clf.predict_proba(X), want, np.float64)
    assert_close(clf.predict_proba(X.tocsc()), want, np.float64)


@pytest.mark.parametrize("backend", ["fast", "reference"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_estimator_rejects_non_finite_stored_values(backend, bad):
    Classifier, Regressor = _estimators()
    X, D, y = estimator_data("multiclass", seed=12)
    clf = fit_quietly(Classifier(hidden_layer_sizes=(3,), max_iter=2, random_state=0, backend=backend), X, y)
    coefs = clf.coefs_[0].copy()
    Xbad = X.copy()
    Xbad.data[5] = bad
    for call in (
        lambda: clf.fit(Xbad, y),
        lambda: clf.partial_fit(Xbad, y),
        lambda: Regressor(backend=backend).fit(Xbad.tocsc(), y == "a"),
        lambda: clf.predict(Xbad),
        lambda: clf.predict_proba(Xbad.tocsc()),
        lambda: clf.decision_function(Xbad),
    ):
        with pytest.raises(ValueError, match="NaN|infinity"):
            call()
    np.testing.assert_array_equal(clf.coefs_[0], coefs)  # the failed fit left the estimator as it was
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :5])


@pytest.mark.parametrize("backend", ["fast", "reference"])
def test_estimator_memory_is_bounded_by_the_entries_not_the_dense_size(backend):
    """fit (adam with early stopping, lbfgs) and predict on X of 5000 x 200 000 (8 GB dense in float64) with
    20 000 entries: a few times the network's size (4.8 MB), never X's dense size."""
    Classifier, Regressor = _estimators()
    m, n_x = 5000, 200_000
    rng = np.random.default_rng(13)
    X = sp.csr_array(
        (rng.standard_normal(20_000), (rng.integers(0, m, 20_000), rng.integers(0, n_x, 20_000))), (m, n_x)
    )
    y = rng.integers(0, 2, m)
    size = n_x * 3 * 8  # W1 of 3 hidden units in float64

    def peak_of(run):
        tracemalloc.start()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                run()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    kw = dict(hidden_layer_sizes=(3,), max_iter=2, random_state=0, backend=backend)
    clf = Classifier(**kw, early_stopping=True, batch_size=1000)
    # adam: the parameters, their two moments, the gradient and the initial draw
    assert peak_of(lambda: clf.fit(X, y)) < 12 * size
    assert peak_of(lambda: clf.predict_proba(X)) < 4 * size
    # L-BFGS-B's own workspace: (2 * 10 + 5) vectors of the parameters' size, and a few copies
    assert peak_of(lambda: Regressor(**kw, solver="lbfgs").fit(X, y.astype(float))) < 60 * size

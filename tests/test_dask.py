"""shallownet_fast.dask: data-parallel gd on a LocalCluster equals the single-machine fit; predictions over blocks.

One two-worker LocalCluster (processes, one thread each) for the whole file.
"""

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("sklearn")
distributed = pytest.importorskip("dask.distributed")

import dask  # noqa: E402
import dask.array as da  # noqa: E402
import dask.dataframe as dd  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

import shallownet_fast.dask as sdask  # noqa: E402
from shallownet_fast import ShallowNetClassifier  # noqa: E402

from conftest import assert_close  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0") as cluster:
        yield cluster


@pytest.fixture(scope="module")
def client(cluster):
    with distributed.Client(cluster) as client:
        yield client


def blobs(n=240, n_x=5, k=3, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, k, n)
    X = rng.normal(size=(n, n_x)) + 1.5 * codes[:, None] * rng.normal(size=n_x)
    return X.astype(dtype), codes


def fitted_state(est):
    return {
        "coefs": [c.copy() for c in est.coefs_],
        "intercepts": [b.copy() for b in est.intercepts_],
        "loss_curve": list(est.loss_curve_),
        "n_iter": est.n_iter_,
        "t": est.t_,
    }


def assert_same_fit(dist, local, dtype):
    assert dist.n_iter_ == local.n_iter_ and dist.t_ == local.t_
    assert dist.stop_reason_ == local.stop_reason_
    np.testing.assert_array_equal(dist.classes_, local.classes_)
    for a, b in zip(dist.coefs_ + dist.intercepts_, local.coefs_ + local.intercepts_):
        assert a.dtype == b.dtype == dtype
        assert_close(a, b, dtype)
    assert_close(np.array(dist.loss_curve_), np.array(local.loss_curve_), dtype)


def test_import_shallownet_fast_does_not_import_dask():
    code = "import sys, shallownet_fast; sys.exit(any(m == 'dask' or m.startswith('dask.') for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], env={**os.environ}).returncode == 0


# Partitions of 0 rows, of one class only (the sorted head), and of very different sizes.
UNEVEN = (37, 0, 120, 1, 0, 82)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_gd_equals_single_machine_for_uneven_empty_and_one_class_partitions(client, dtype, activation):
    X, codes = blobs(n=sum(UNEVEN), dtype=dtype)
    order = np.argsort(codes, kind="stable")  # the first partition holds class 0 only
    X, codes = X[order], codes[order]
    y = np.array([10, 20, 30])[codes]
    assert len(np.unique(y[: UNEVEN[0]])) == 1
    kw = dict(
        hidden_layer_sizes=(7,), activation=activation, solver="gd", learning_rate_init=0.1, max_iter=25, random_state=3
    )
    local = ShallowNetClassifier(**kw).fit(X, y)
    dist = sdask.fit(ShallowNetClassifier(**kw), da.from_array(X, chunks=(UNEVEN, 5)), da.from_array(y, chunks=UNEVEN))
    assert_same_fit(dist, local, dtype)


def test_gd_equals_single_machine_for_a_dataframe_with_string_labels_and_weights(client):
    X, codes = blobs(n=200, n_x=4, k=2, seed=1)
    y = np.array(["no", "yes"])[codes]
    w = np.random.default_rng(2).uniform(0, 2, 200)
    w[::7] = 0.0  # dropped, as fit drops them
    kw = dict(hidden_layer_sizes=(6,), solver="gd", learning_rate_init=0.2, max_iter=30, random_state=0, alpha=0.01)
    local = ShallowNetClassifier(**kw).fit(pd.DataFrame(X, columns=list("abcd")), y, sample_weight=w)
    frame = pd.DataFrame(X, columns=list("abcd"))
    ddf = dd.from_pandas(frame, npartitions=3)
    dy = dd.from_pandas(pd.Series(y), npartitions=3)
    dw = dd.from_pandas(pd.Series(w), npartitions=3)
    assert ddf.npartitions == dy.npartitions == dw.npartitions == 3
    dist = sdask.fit(ShallowNetClassifier(**kw), ddf, dy, dw)
    assert_same_fit(dist, local, np.float64)
    np.testing.assert_array_equal(dist.feature_names_in_, list("abcd"))


def test_gd_stopping_rule_and_warm_start_match(client):
    X, codes = blobs(n=150, seed=4)
    kw = dict(
        hidden_layer_sizes=(5,),
        solver="gd",
        learning_rate_init=0.3,
        max_iter=40,
        random_state=1,
        tol=1e-2,
        n_iter_no_change=3,
        warm_start=True,
    )
    local = ShallowNetClassifier(**kw).fit(X, codes)
    dist = sdask.fit(ShallowNetClassifier(**kw), da.from_array(X, chunks=50), da.from_array(codes, chunks=50))
    assert local.stop_reason_ == "converged"
    assert_same_fit(dist, local, np.float64)
    local.fit(X, codes)  # warm start: continues from the parameters and the velocities
    sdask.fit(dist, da.from_array(X, chunks=70), da.from_array(codes, chunks=70))
    assert_same_fit(dist, local, np.float64)


def test_predictions_map_over_blocks_with_dtype_and_chunks(client):
    X, codes = blobs(n=120, dtype=np.float32)
    y = np.array(["a", "b", "c"])[codes]
    est = ShallowNetClassifier(
        hidden_layer_sizes=(6,), solver="gd", learning_rate_init=0.1, max_iter=5, random_state=0
    ).fit(X, y)
    dX = da.from_array(X, chunks=((50, 0, 70), (2, 3)))
    for name in ["predict", "predict_proba", "decision_function"]:
        out = getattr(sdask, name)(est, dX)
        expected = getattr(est, name)(X)
        assert out.dtype == expected.dtype, name
        assert out.chunks[0] == (50, 0, 70), name
        got = out.compute()
        assert got.dtype == expected.dtype and got.shape == expected.shape
        if name == "predict":
            np.testing.assert_array_equal(got, expected)
        else:
            assert_close(got, expected, np.float32)
    frame = dd.from_pandas(pd.DataFrame(X.astype(np.float64)), npartitions=4)
    proba = sdask.predict_proba(est, frame)
    assert proba.dtype == np.float64
    assert_close(proba.compute(), est.predict_proba(X.astype(np.float64)), np.float64)


def test_binary_decision_function_is_one_dimensional(client):
    X, codes = blobs(n=80, k=2)
    est = ShallowNetClassifier(hidden_layer_sizes=(3,), solver="gd", max_iter=3, random_state=0).fit(X, codes)
    out = sdask.decision_function(est, da.from_array(X, chunks=30))
    assert out.shape == (80,) and out.chunks == ((30, 30, 20),)
    assert_close(out.compute(), est.decision_function(X), np.float64)


def _from_blocks(blocks, n_x):
    """A dask array from NumPy blocks as partitions, each declared (rows, n_x) whatever it really is."""
    parts = [da.from_delayed(dask.delayed(b), shape=(b.shape[0], n_x), dtype=b.dtype) for b in blocks]
    return da.concatenate(parts, axis=0)


@pytest.mark.parametrize("problem", ["nan", "width", "unknown label", "nan label"])
def test_a_bad_partition_is_a_value_error_naming_it_and_leaves_the_estimator_as_it_was(client, problem):
    X, codes = blobs(n=90, n_x=4)
    y = codes.astype(np.float64)
    blocks, ys = [X[:30], X[30:60].copy(), X[60:]], [y[:30], y[30:60].copy(), y[60:]]
    classes = None
    if problem == "nan":
        blocks[1][4, 2] = np.nan
    elif problem == "width":
        blocks[1] = blocks[1][:, :3]
    elif problem == "unknown label":
        ys[1][5] = 7.0
        classes = [0.0, 1.0, 2.0]
    else:
        ys[1][5] = np.nan
    kw = dict(hidden_layer_sizes=(4,), solver="gd", max_iter=3, random_state=0, warm_start=False)
    est = sdask.fit(ShallowNetClassifier(**kw), da.from_array(X, chunks=30), da.from_array(y, chunks=30))
    before = fitted_state(est)
    with pytest.raises(ValueError, match="partition 1"):
        sdask.fit(est, _from_blocks(blocks, 4), _from_blocks([v[:, None] for v in ys], 1)[:, 0], classes=classes)
    after = fitted_state(est)
    for a, b in zip(before["coefs"] + before["intercepts"], after["coefs"] + after["intercepts"]):
        np.testing.assert_array_equal(a, b)
    assert before["loss_curve"] == after["loss_curve"] and before["n_iter"] == after["n_iter"]


def test_unsupported_settings_and_inputs_are_clear_errors(client):
    X, codes = blobs(n=60)
    dX, dy = da.from_array(X, chunks=30), da.from_array(codes, chunks=30)
    with pytest.raises(ValueError, match="early_stopping"):
        sdask.fit(ShallowNetClassifier(solver="gd", early_stopping=True), dX, dy)
    with pytest.raises(TypeError, match="dask Array"):
        sdask.fit(ShallowNetClassifier(solver="gd"), X, codes)
    with pytest.raises(ValueError, match="2 classes"):
        sdask.fit(ShallowNetClassifier(solver="gd"), dX, da.zeros(60, chunks=30))


def test_a_worker_killed_mid_fit_the_fit_finishes_with_the_same_result(cluster, client):
    X, codes = blobs(n=400, n_x=6, seed=5)
    kw = dict(hidden_layer_sizes=(8,), solver="gd", learning_rate_init=0.1, max_iter=12, random_state=2)
    dX, dy = da.from_array(X, chunks=50), da.from_array(codes, chunks=50)
    undisturbed = sdask.fit(ShallowNetClassifier(**kw), dX, dy)
    killed = []

    def kill_one_worker(est):
        if est.n_iter_ == 4:
            nanny = next(iter(cluster.workers.values()))
            os.kill(nanny.process.process.pid, signal.SIGKILL)
            killed.append(nanny)

    dist = sdask.fit(ShallowNetClassifier(**kw, callback=kill_one_worker), dX, dy)
    assert killed
    assert_same_fit(dist, undisturbed, np.float64)
    client.wait_for_workers(2, timeout=30)


def test_convergence_warning_as_fit(client):
    X, codes = blobs(n=60)
    with pytest.warns(ConvergenceWarning):
        sdask.fit(
            ShallowNetClassifier(solver="gd", max_iter=2), da.from_array(X, chunks=30), da.from_array(codes, chunks=30)
        )


def test_predicting_before_fit_is_not_fitted_error():
    from sklearn.exceptions import NotFittedError

    dX = da.zeros((10, 3), chunks=5)
    for name in ["predict", "predict_proba", "decision_function"]:
        with pytest.raises(NotFittedError):
            getattr(sdask, name)(ShallowNetClassifier(), dX)


def test_distributed_loss_and_gradient_drive_lbfgs_as_the_local_function(client):
    """L-BFGS-B on the cluster's loss and gradient takes the steps it takes on the concatenated data."""
    from scipy.optimize import minimize

    from shallownet_fast import _numerics
    from shallownet_fast._labels import one_hot

    X, codes = blobs(n=sum(UNEVEN), n_x=4)
    w = np.random.default_rng(7).uniform(0.5, 2.0, len(codes))
    classes = np.array([0, 1, 2])
    data = sdask.distribute(
        da.from_array(X, chunks=(UNEVEN, 4)),
        da.from_array(codes, chunks=UNEVEN),
        da.from_array(w, chunks=UNEVEN),
        classes=classes,
        dtype=np.float64,
    )
    assert data.m == len(codes) and np.isclose(data.total_weight, w.sum())
    shapes = {"W1": (6, 4), "b1": (6, 1), "W2": (3, 6), "b2": (3, 1)}
    sizes = [int(np.prod(s)) for s in shapes.values()]

    def unflatten(theta):
        parts = np.split(theta, np.cumsum(sizes)[:-1])
        return {k: p.reshape(s).copy() for (k, s), p in zip(shapes.items(), parts)}

    def local(theta):
        loss, g = _numerics.batch_loss_and_grads(
            unflatten(theta), X.T.copy(), one_hot(codes, 3, np.float64), w, "tanh", 0.01
        )
        return loss, np.concatenate([g[k].ravel() for k in shapes])

    def distributed(theta):
        loss, g = sdask.loss_and_gradient(data, unflatten(theta), "tanh", 0.01)
        return loss, np.concatenate([g[k].ravel() for k in shapes])

    theta0 = np.random.default_rng(8).uniform(-0.5, 0.5, sum(sizes))
    l_loc, g_loc = local(theta0)
    l_dist, g_dist = distributed(theta0)
    assert_close(np.array([l_dist]), np.array([l_loc]), np.float64)
    assert_close(g_dist, g_loc, np.float64)
    options = {"maxiter": 15}
    res_loc = minimize(local, theta0, jac=True, method="L-BFGS-B", options=options)
    res_dist = minimize(distributed, theta0, jac=True, method="L-BFGS-B", options=options)
    assert res_dist.nit == res_loc.nit and res_dist.nfev == res_loc.nfev
    assert_close(res_dist.x, res_loc.x, np.float64)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_mini_batch_solvers_take_the_single_machine_batches(client, solver):
    """Each step's batch drawn across the partitions, its gradient summed on the cluster: the local run."""
    X, codes = blobs(n=sum(UNEVEN), n_x=4, seed=9)
    w = np.random.default_rng(3).uniform(0.5, 2.0, len(codes))
    w[::9] = 0.0  # dropped before the batches are drawn, as fit drops them
    kw = dict(
        hidden_layer_sizes=(5,), solver=solver, learning_rate_init=0.05, batch_size=40, max_iter=3, random_state=4
    )
    local = ShallowNetClassifier(**kw).fit(X, codes, sample_weight=w)
    dist = sdask.fit(
        ShallowNetClassifier(**kw),
        da.from_array(X, chunks=(UNEVEN, 4)),
        da.from_array(codes, chunks=UNEVEN),
        da.from_array(w, chunks=UNEVEN),
    )
    assert dist.t_ == local.t_ and dist._solver_state["t"] == local._solver_state["t"] == 3 * 6
    assert_same_fit(dist, local, np.float64)


@pytest.mark.parametrize("solver", ["gd", "adam"])
def test_threaded_workers_in_this_process_give_the_single_machine_fit(solver):
    """Workers as threads of this process (LocalCluster(processes=False)): the compiled and NumPy work of each
    partition runs beside the others with the GIL released, and the result is the single-machine fit's."""
    X, codes = blobs(n=sum(UNEVEN), dtype=np.float64)
    y = np.array(["a", "b", "c"])[codes]
    kw = dict(
        hidden_layer_sizes=(5,), solver=solver, learning_rate_init=0.05, batch_size=40, max_iter=4, random_state=4
    )
    local = ShallowNetClassifier(**kw).fit(X, y)
    with (
        distributed.LocalCluster(n_workers=2, processes=False, threads_per_worker=1, dashboard_address=":0") as cluster,
        distributed.Client(cluster) as threaded,
    ):
        dist = sdask.fit(
            ShallowNetClassifier(**kw), da.from_array(X, chunks=(UNEVEN, 5)), da.from_array(y, chunks=UNEVEN)
        )
        proba = sdask.predict_proba(dist, da.from_array(X, chunks=(UNEVEN, 5))).compute()
        with pytest.raises(ValueError, match="partition"):
            bad = X.copy()
            bad[130, 2] = np.nan
            sdask.fit(
                ShallowNetClassifier(**kw), da.from_array(bad, chunks=(UNEVEN, 5)), da.from_array(y, chunks=UNEVEN)
            )
    assert threaded.status == "closed"
    assert_same_fit(dist, local, np.float64)
    assert_close(proba, local.predict_proba(X), np.float64)


# ---------------------------------------------------------------- the compiled per-partition sums


def _prepared(dtype, n=50, n_x=4, k=3, seed=11):
    X, codes = blobs(n=n, n_x=n_x, k=k, seed=seed, dtype=dtype)
    w = np.random.default_rng(seed).uniform(0.5, 2.0, n)
    return sdask._prepare_partition(0, X, codes, w, n_x, np.dtype(dtype), np.arange(k))


def _params(n_x, n_h, n_y, dtype, seed=0):
    rng = np.random.default_rng(seed)
    shapes = {"W1": (n_h, n_x), "b1": (n_h, 1), "W2": (n_y, n_h), "b2": (n_y, 1)}
    return {key: rng.uniform(-0.5, 0.5, s).astype(dtype) for key, s in shapes.items()}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_partition_sums_run_the_compiled_entry_and_equal_the_numpy_formulas(monkeypatch, dtype):
    """backend="fast" sums a partition with the compiled loss_gradient; "reference" with NumPy; the same sums."""
    from shallownet_fast import _lbfgs

    part = _prepared(dtype)
    params = _params(4, 6, 3, dtype)
    calls = []
    compiled = _lbfgs._core.loss_gradient

    def spy(*args):
        calls.append(args[0].dtype)
        return compiled(*args)

    monkeypatch.setattr(_lbfgs._core, "loss_gradient", spy)
    fast = sdask._partition_sums(part, params, "tanh", "softmax", "fast", 0.003)
    assert calls == [np.dtype(dtype)]
    reference = sdask._partition_sums(part, params, "tanh", "softmax", "reference", 0.003)
    assert len(calls) == 1
    assert_close(np.array([fast["loss"]]), np.array([reference["loss"]]), dtype)
    for key in ["W1", "b1", "W2", "b2"]:
        assert fast[key].dtype == reference[key].dtype == dtype and fast[key].shape == params[key].shape
        assert_close(fast[key], reference[key], dtype)
    rows = np.array([3, 0, 17, 40])  # a mini-batch's rows of the partition
    fast_rows = sdask._partition_sums(part, params, "tanh", "softmax", "fast", 0.003, rows)
    reference_rows = sdask._partition_sums(part, params, "tanh", "softmax", "reference", 0.003, rows)
    assert len(calls) == 2
    for key in ["loss", "W1", "b1", "W2", "b2"]:
        assert_close(np.asarray(fast_rows[key]), np.asarray(reference_rows[key]), dtype)


def test_reference_backend_fit_equals_the_single_machine_reference_fit(client):
    X, codes = blobs(n=sum(UNEVEN), seed=6)
    kw = dict(hidden_layer_sizes=(5,), solver="gd", learning_rate_init=0.1, max_iter=8, random_state=0)
    local = ShallowNetClassifier(**kw, backend="reference").fit(X, codes)
    dist = sdask.fit(
        ShallowNetClassifier(**kw, backend="reference"),
        da.from_array(X, chunks=(UNEVEN, 5)),
        da.from_array(codes, chunks=UNEVEN),
    )
    assert_same_fit(dist, local, np.float64)


# ---------------------------------------------------------------- the regressor


def regression(n, n_x=4, n_outputs=2, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_x))
    Y = np.tanh(X @ rng.normal(size=(n_x, n_outputs))) + 0.1 * rng.normal(size=(n, n_outputs))
    return X.astype(dtype), Y if n_outputs > 1 else Y[:, 0]


def assert_same_regression(dist, local, dtype):
    assert dist.n_iter_ == local.n_iter_ and dist.t_ == local.t_ and dist.stop_reason_ == local.stop_reason_
    assert dist.n_outputs_ == local.n_outputs_ and dist.out_activation_ == local.out_activation_ == "identity"
    for a, b in zip(dist.coefs_ + dist.intercepts_, local.coefs_ + local.intercepts_):
        assert a.dtype == b.dtype == dtype
        assert_close(a, b, dtype)
    assert_close(np.array(dist.loss_curve_), np.array(local.loss_curve_), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("solver", ["gd", "adam"])
def test_regressor_equals_single_machine_with_several_outputs(client, dtype, solver):
    from shallownet_fast import ShallowNetRegressor

    X, Y = regression(sum(UNEVEN), dtype=dtype)
    w = np.random.default_rng(5).uniform(0.5, 2.0, len(Y))
    w[::11] = 0.0
    kw = dict(
        hidden_layer_sizes=(6,), solver=solver, learning_rate_init=0.05, batch_size=30, max_iter=6, random_state=2
    )
    local = ShallowNetRegressor(**kw).fit(X, Y, sample_weight=w)
    dX = da.from_array(X, chunks=(UNEVEN, 4))
    dY = da.from_array(Y, chunks=(UNEVEN, 1))  # column chunks are merged
    dist = sdask.fit(ShallowNetRegressor(**kw), dX, dY, da.from_array(w, chunks=UNEVEN))
    assert_same_regression(dist, local, dtype)
    pred = sdask.predict(dist, dX)
    assert pred.dtype == dtype and pred.shape == (len(Y), 2) and pred.chunks[0] == UNEVEN
    got = pred.compute()
    assert got.dtype == dtype
    assert_close(got, local.predict(X), dtype)


def test_regressor_one_output_from_a_dataframe_and_series(client):
    from shallownet_fast import ShallowNetRegressor

    X, y = regression(150, n_outputs=1, seed=3)
    frame = pd.DataFrame(X, columns=list("abcd"))
    kw = dict(hidden_layer_sizes=(5,), solver="gd", learning_rate_init=0.1, max_iter=10, random_state=0)
    local = ShallowNetRegressor(**kw).fit(frame, y)
    ddf, dy = dd.from_pandas(frame, npartitions=3), dd.from_pandas(pd.Series(y), npartitions=3)
    dist = sdask.fit(ShallowNetRegressor(**kw), ddf, dy)
    assert_same_regression(dist, local, np.float64)
    np.testing.assert_array_equal(dist.feature_names_in_, list("abcd"))
    pred = sdask.predict(dist, ddf)
    assert pred.dtype == np.float64
    got = pred.compute()
    assert got.shape == (150,)
    assert_close(got, local.predict(frame), np.float64)
    with pytest.raises(TypeError, match="ShallowNetClassifier"):
        sdask.predict_proba(dist, ddf)
    with pytest.raises(TypeError, match="ShallowNetClassifier"):
        sdask.decision_function(dist, ddf)


def test_regressor_bad_target_partition_is_a_value_error_and_leaves_the_estimator(client):
    from shallownet_fast import ShallowNetRegressor

    X, Y = regression(90)
    kw = dict(hidden_layer_sizes=(4,), solver="gd", max_iter=3, random_state=0)
    est = sdask.fit(ShallowNetRegressor(**kw), da.from_array(X, chunks=30), da.from_array(Y, chunks=30))
    before = fitted_state(est)
    bad = Y.copy()
    bad[40, 1] = np.nan
    with pytest.raises(ValueError, match="partition 1 of y contains NaN"):
        sdask.fit(est, da.from_array(X, chunks=30), da.from_array(bad, chunks=30))
    with pytest.raises(ValueError, match="classes is for a classifier"):
        sdask.fit(est, da.from_array(X, chunks=30), da.from_array(Y, chunks=30), classes=[0, 1])
    est.warm_start = True
    with pytest.raises(ValueError, match="output"):
        sdask.fit(est, da.from_array(X, chunks=30), da.from_array(Y[:, 0], chunks=30))
    after = fitted_state(est)
    for a, b in zip(before["coefs"] + before["intercepts"], after["coefs"] + after["intercepts"]):
        np.testing.assert_array_equal(a, b)
    assert before["loss_curve"] == after["loss_curve"]


# ---------------------------------------------------------------- lbfgs


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_lbfgs_equals_the_single_machine_lbfgs_fit(client, dtype, kind):
    from shallownet_fast import ShallowNetRegressor

    if kind == "classifier":
        X, codes = blobs(n=sum(UNEVEN), dtype=dtype)
        order = np.argsort(codes, kind="stable")  # a partition of one class
        X, y = X[order], np.array(["x", "y", "z"])[codes[order]]
        make = ShallowNetClassifier
    else:
        X, y = regression(sum(UNEVEN), n_x=5, dtype=dtype)
        make = ShallowNetRegressor
    w = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    kw = dict(hidden_layer_sizes=(6,), solver="lbfgs", max_iter=15, alpha=0.01, random_state=5)
    local = make(**kw).fit(X, y, sample_weight=w)
    dist = sdask.fit(
        make(**kw),
        da.from_array(X, chunks=(UNEVEN, 5)),
        da.from_array(y, chunks=UNEVEN if y.ndim == 1 else (UNEVEN, 2)),
        da.from_array(w, chunks=UNEVEN),
    )
    assert dist.stop_reason_ == local.stop_reason_ == "lbfgs"
    assert dist.n_iter_ == local.n_iter_ and dist.t_ == local.t_ == len(y)
    assert_close(np.array([dist.loss_]), np.array([local.loss_]), dtype)
    assert_close(np.array(dist.loss_curve_), np.array(local.loss_curve_), dtype)
    for a, b in zip(dist.coefs_ + dist.intercepts_, local.coefs_ + local.intercepts_):
        assert a.dtype == b.dtype == dtype
        assert_close(a, b, dtype)


def test_lbfgs_max_fun_and_callback_as_the_estimator(client):
    X, codes = blobs(n=120, seed=2)
    dX, dy = da.from_array(X, chunks=40), da.from_array(codes, chunks=40)
    kw = dict(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=50, max_fun=6, random_state=0)
    local = ShallowNetClassifier(**kw).fit(X, codes)
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        dist = sdask.fit(ShallowNetClassifier(**kw), dX, dy)
    assert dist.n_iter_ == local.n_iter_ < 50
    assert_close(dist.coefs_[0], local.coefs_[0], np.float64)
    seen = []
    stop = sdask.fit(
        ShallowNetClassifier(**dict(kw, max_fun=15000), callback=lambda e: seen.append(e.loss_curve_) or True), dX, dy
    )
    assert stop.n_iter_ == 1 and len(seen) == 1


# ---------------------------------------------------------------- step-size schedules


@pytest.mark.parametrize(
    "solver, schedule", [("sgd", "invscaling"), ("sgd", "adaptive"), ("gd", "invscaling"), ("gd", "adaptive")]
)
def test_learning_rate_schedules_as_the_single_machine_fit(client, solver, schedule):
    X, codes = blobs(n=sum(UNEVEN), n_x=4, seed=9)
    kw = dict(
        hidden_layer_sizes=(5,),
        solver=solver,
        learning_rate=schedule,
        learning_rate_init=0.3,
        power_t=0.25,
        batch_size=40,
        max_iter=30,
        random_state=4,
        tol=0.05 if schedule == "adaptive" else 1e-4,  # adaptive: the step size divided by 5 a few times
        n_iter_no_change=2,
    )
    local = ShallowNetClassifier(**kw).fit(X, codes)
    dist = sdask.fit(
        ShallowNetClassifier(**kw), da.from_array(X, chunks=(UNEVEN, 4)), da.from_array(codes, chunks=UNEVEN)
    )
    assert dist._learning_rate == pytest.approx(local._learning_rate, rel=1e-12)
    assert local._learning_rate != 0.3  # the schedule changed the step size
    assert_same_fit(dist, local, np.float64)


def test_class_weight_is_a_clear_error(client):
    X, codes = blobs(n=60)
    with pytest.raises(ValueError, match="class_weight"):
        sdask.fit(
            ShallowNetClassifier(solver="gd", class_weight="balanced"),
            da.from_array(X, chunks=30),
            da.from_array(codes, chunks=30),
        )


def test_a_regressor_partition_is_laid_out_as_the_regressor_lays_out_its_targets():
    """In this process (the workers' function): targets (n_outputs, rows) in the network's dtype, zero weights
    dropped; wrong shapes, non-numeric and non-finite targets are ValueErrors naming the partition."""
    X, Y = regression(20, n_outputs=2, seed=1)
    w = np.ones(20)
    w[[2, 7]] = 0.0
    XT, T, sw, codes = sdask._prepare_partition(3, X, Y, w, 4, np.dtype(np.float32), None, 2)
    keep = w > 0
    assert XT.dtype == T.dtype == sw.dtype == np.float32 and codes.size == 0
    np.testing.assert_array_equal(T, Y[keep].T.astype(np.float32))
    np.testing.assert_array_equal(XT, X[keep].T.astype(np.float32))
    assert T.flags.c_contiguous and XT.flags.c_contiguous
    _, T1, _, _ = sdask._prepare_partition(0, X, pd.Series(Y[:, 0]), None, 4, np.dtype(np.float64), None, 1)
    np.testing.assert_array_equal(T1, Y[:, :1].T)
    with pytest.raises(ValueError, match=r"partition 3: y has shape \(20, 2\), expected \(20, 1\)"):
        sdask._prepare_partition(3, X, Y, None, 4, np.dtype(np.float64), None, 1)
    with pytest.raises(ValueError, match="partition 4 of y is not numeric"):
        sdask._prepare_partition(4, X, np.array(["a"] * 20), None, 4, np.dtype(np.float64), None, 1)
    bad = Y.copy()
    bad[5, 0] = np.inf
    with pytest.raises(ValueError, match="partition 5 of y contains NaN or infinity"):
        sdask._prepare_partition(5, X, bad, None, 4, np.dtype(np.float64), None, 2)

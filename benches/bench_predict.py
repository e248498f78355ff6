"""P1: prediction latency for 1, 64 and 10000 examples on the W1 and W3 networks (float64); EST: the
estimator's predict_proba against MLPClassifier's.

The W1 network is the reference trained on the flower; the W3 network is a random 784-256-1 network
with Xavier weights.  The contenders are the training ones plus a hand-written Numba loop and ONNX
Runtime (1 thread).  Each contender's labels are checked against the reference's (a label may differ
only where the reference's probability is within rounding of 0.5).

EST: ShallowNetClassifier.predict_proba at default settings ("ours") and with n_threads=1 ("ours-1t"),
and MLPClassifier's ("mlp"), all on the same fitted network (50 features, 64 tanh units, 3 classes,
float64), for 1, 1000 and 100000 rows; every one's probabilities are checked against MLPClassifier's,
and the tracemalloc peak of one call goes into extra_info.
"""

import numpy as np
import pytest

pytest.importorskip("pytest_benchmark")

import report as B  # noqa: E402

ROUND_TIME = 0.005  # seconds of back-to-back calls per round
BENCH_TIME = 0.4  # seconds per benchmark, at least MIN_ROUNDS rounds
MIN_ROUNDS, MAX_ROUNDS = 3, 20


@pytest.fixture(scope="module")
def networks():
    cache = {}

    def get(net, m):
        if net not in cache:
            cache[net] = B.predict_network(net)
        if (net, m) not in cache:
            cache[net, m] = B.predict_inputs(net, m)
        return cache[net], cache[net, m]

    return get


@pytest.mark.parametrize("name", B.PREDICT_CONTENDERS)
@pytest.mark.parametrize("m", B.PREDICT_SIZES)
@pytest.mark.parametrize("net", ["W1", "W3"])
def test_predict(benchmark, networks, smoke, contender, record, net, m, name):
    c = contender(name)
    params, X = networks(net, m)
    state = c.setup_predict(params, X)
    benchmark.group = f"predict P1 {net} network, {m} examples, float64"
    if smoke:
        labels = benchmark(c.predict, state)
        calls = 1
    else:
        calls, seconds = B.calibrate(lambda: c.predict(state), ROUND_TIME)
        rounds = int(min(MAX_ROUNDS, max(MIN_ROUNDS, BENCH_TIME / (calls * seconds))))
        labels = benchmark.pedantic(c.predict, args=(state,), rounds=rounds, iterations=calls, warmup_rounds=1)
    check = B.compare_predictions(params, X, labels)
    record(dtype="float64", threads=c.threads(), network=net, examples=m, calls_per_round=calls, **check)
    assert check["ok"], f"{name} predicts other labels than the reference: {check}"


@pytest.fixture(scope="module")
def estimators():
    pytest.importorskip("sklearn")
    return B.estimator_contenders()


@pytest.mark.parametrize("name", ["ours", "ours-1t", "mlp"])
@pytest.mark.parametrize("n", B.ESTIMATOR_ROWS)
def test_estimator_predict_proba(benchmark, estimators, smoke, record, n, name):
    predict_proba, threads = estimators[name]
    X = B.estimator_rows(n)
    benchmark.group = f"predict_proba EST, {n} rows, 50 features, 64 units, 3 classes, float64"
    if smoke:
        proba = benchmark(predict_proba, X)
        calls = 1
    else:
        calls, seconds = B.calibrate(lambda: predict_proba(X), ROUND_TIME)
        rounds = int(min(MAX_ROUNDS, max(MIN_ROUNDS, BENCH_TIME / (calls * seconds))))
        proba = benchmark.pedantic(predict_proba, args=(X,), rounds=rounds, iterations=calls, warmup_rounds=1)
    expected = estimators["mlp"][0](X)
    _, peak = B.traced_peak(predict_proba, X)
    err = float(np.max(np.abs(proba - expected)))
    record(
        dtype="float64", threads=threads, per=calls, rows=n, calls_per_round=calls, peak_bytes=peak, max_abs_diff=err
    )
    assert proba.shape == expected.shape and err <= B.TOLERANCES["float64"]["prob"], (
        f"{name} gives other probabilities than MLPClassifier on the same network: max difference {err:.1e}"
    )

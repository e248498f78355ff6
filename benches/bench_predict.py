"""P1: prediction latency for 1, 64 and 10000 examples on the W1 and W3 networks (float64).

The W1 network is the reference trained on the flower; the W3 network is a random 784-256-1 network
with Xavier weights.  Each contender's labels are checked against the reference's (a label may differ
only where the reference's probability is within rounding of 0.5).
"""

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


@pytest.mark.parametrize("name", B.CONTENDERS)
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

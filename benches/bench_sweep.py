"""Sweep: reference vs fast over n_h in {4, 16, 64, 256} x m in {100, 1000, 10000, 100000} (n_x=20, float64).

Both contenders of a point run the same number of iterations per round, chosen so that a reference
round takes about ROUND_TIME; one table per point shows where fast wins and by how much.
"""

import time

import pytest

pytest.importorskip("pytest_benchmark")

import report as B  # noqa: E402

ROUND_TIME = 0.05
ROUNDS = 3


@pytest.fixture(scope="module")
def points(smoke):
    """points(n_h, m) -> (problem, iterations per round), made once per point."""
    cache = {}

    def get(n_h, m):
        if (n_h, m) not in cache:
            problem = B.sweep_problem(n_h, m)
            k = 1
            if not smoke:  # one reference iteration sets the count (and warms the reference up)
                start = time.perf_counter()
                B.reference.nn_model(
                    problem.X, problem.Y, n_h, 1, learning_rate=problem.learning_rate, parameters=problem.params0
                )
                k = int(min(2000, max(1, ROUND_TIME / (time.perf_counter() - start))))
            cache[n_h, m] = (problem, k)
        return cache[n_h, m]

    return get


@pytest.mark.parametrize("name", ["reference", "fast"])
@pytest.mark.parametrize("m", B.SWEEP_M)
@pytest.mark.parametrize("n_h", B.SWEEP_N_H)
def test_sweep(benchmark, points, smoke, contender, record, n_h, m, name):
    c = contender(name)
    problem, k = points(n_h, m)
    benchmark.group = f"sweep n_x={B.SWEEP_N_X} n_h={n_h} m={m} float64, {k} iterations per round"
    if not smoke:
        c.train(c.setup(problem, 1))
    state = benchmark.pedantic(c.train, setup=lambda: ((c.setup(problem, k),), {}), rounds=1 if smoke else ROUNDS)
    check = B.compare_parameters(problem, c.parameters(state), k)
    record(dtype="float64", threads=c.threads(), per=k, n_h=n_h, m=m, iterations_per_round=k, **check)
    assert check["ok"], f"{name} disagrees with the reference at n_h={n_h}, m={m}: {check}"

"""Training: a fixed number of full-batch gradient steps on W1, W2 and W3, every contender in one table.

Each round trains from the same starting parameters (set up outside the timing); the group name says how
many iterations a round is, so time per iteration = round time / iterations (also in extra_info as
``median_per_unit_s``).  The final parameters of every contender are checked against the reference's.
"""

import pytest

pytest.importorskip("pytest_benchmark")

import report as B  # noqa: E402

# (iterations per round, rounds) when benchmarking; iterations when smoke-testing (--benchmark-disable).
ITERATIONS = {"W1": (1000, 5), "W2": (10, 5), "W3": (2, 3)}
SMOKE_ITERATIONS = {"W1": 10, "W2": 2, "W3": 1}

CASES = [pytest.param(w, dt, id=f"{w}-{B.SHORT[dt]}") for w in ("W1", "W2", "W3") for dt in B.WORKLOADS[w].dtypes]


@pytest.mark.parametrize("name", B.CONTENDERS)
@pytest.mark.parametrize("workload,dtype", CASES)
def test_train(benchmark, problems, smoke, contender, record, workload, dtype, name):
    c = contender(name)
    w = B.WORKLOADS[workload]
    k, rounds = (SMOKE_ITERATIONS[workload], 1) if smoke else ITERATIONS[workload]
    problem = problems(workload, dtype, m=w.smoke_m if smoke else None)
    benchmark.group = f"train {workload} {B.SHORT[dtype]}, {k} iterations per round ({problem.describe()})"
    if not smoke:
        c.train(c.setup(problem, 1))  # warm-up: load code, start thread pools
    state = benchmark.pedantic(c.train, setup=lambda: ((c.setup(problem, k),), {}), rounds=rounds)
    check = B.compare_parameters(problem, c.parameters(state), k)
    record(
        dtype=dtype,
        threads=c.threads(),
        per=k,
        iterations_per_round=k,
        workload=workload,
        shape=problem.describe(),
        **check,
    )
    assert check["ok"], f"{name} disagrees with the reference on {workload} {dtype}: {check}"

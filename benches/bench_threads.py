"""The GIL stays released: two Python threads each training its own W2 model vs the two runs in sequence.

BLAS is limited to one thread (threadpoolctl) and nn_model gets n_threads=1, so each training needs one
core; on 2 cores two threads finish about twice as fast as the sequence only if the GIL is released
while training.  The "threads" benchmark also measures the ratio sequential / threaded (interleaved
repeats) into extra_info, and checks that the threaded results equal the sequential ones.
"""

import pytest

pytest.importorskip("pytest_benchmark")
threadpoolctl = pytest.importorskip("threadpoolctl")

import report as B  # noqa: E402

ITERATIONS, ROUNDS, REPEATS = 10, 3, 3


@pytest.mark.parametrize("mode", ["sequential", "threads"])
@pytest.mark.parametrize("impl", ["fast", "reference"])
def test_two_trainings(benchmark, problems, smoke, record, impl, mode):
    module = {"fast": B.fast, "reference": B.reference}[impl]
    problem = problems("W2", "float64")
    k = 1 if smoke else ITERATIONS
    sequential, threaded = B.two_trainings(module, problem, k, n_threads=1)
    benchmark.group = f"threads: two W2 trainings of {k} iterations, BLAS at 1 thread ({problem.describe()})"
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        expected = sequential()
        got = benchmark.pedantic(sequential if mode == "sequential" else threaded, rounds=1 if smoke else ROUNDS)
    extra = {}
    if mode == "threads":
        extra = B.thread_ratio(module, problem, k, repeats=1 if smoke else REPEATS)
    record(dtype="float64", threads="2 Python threads x BLAS 1" if mode == "threads" else "BLAS 1", impl=impl, **extra)
    assert B.max_abs_diff(expected, got) == 0.0, "the threaded trainings differ from the sequential ones"
    if extra:
        assert extra["results_identical"]

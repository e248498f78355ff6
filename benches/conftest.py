"""Shared fixtures of the benchmark suite (pytest-benchmark).

    pytest benches                       # the benchmarks, one table per workload
    pytest benches --benchmark-disable   # a smoke test: every benchmark body runs once, on small sizes

The workloads, contenders and agreement checks live in `report.py` (this directory), which also runs the
interleaved report (``python benches/report.py``); this suite times the same code with
pytest-benchmark.  Files named ``bench_*.py`` are collected here (the project's pytest configuration only
collects ``test_*.py``).
"""

import pytest

import report as B


def pytest_collect_file(file_path, parent):
    # A file named on the command line is already collected by pytest itself.
    if file_path.suffix == ".py" and file_path.name.startswith("bench_") and not parent.session.isinitpath(file_path):
        return pytest.Module.from_parent(parent, path=file_path)
    return None


@pytest.fixture(scope="session")
def smoke(request):
    """True under --benchmark-disable: the bodies run once, so sizes and iteration counts shrink."""
    config = request.config
    return bool(config.getoption("benchmark_disable", False)) and not config.getoption("benchmark_enable", False)


@pytest.fixture(scope="session")
def machine():
    return B.machine_info()


@pytest.fixture(scope="session")
def problems():
    """Training problems, made once per session: problems(workload, dtype, m=None)."""
    cache = {}

    def get(workload, dtype, m=None):
        key = (workload, dtype, m)
        if key not in cache:
            cache[key] = B.make_problem(workload, dtype, m=m)
        return cache[key]

    return get


def pytest_collection_modifyitems(config, items):
    """Run the torch-1t benchmarks last.

    torch's thread count is global, and on the project's 2-core VM calling torch.set_num_threads(n)
    with n >= 2 made every small parallel op take about 8 ms for the rest of the process.  torch-2t
    uses torch's default count (the number of cores) without calling it; torch-1t sets 1 thread, once,
    after every torch-2t benchmark has run.  (The report runs each torch thread count in a process of
    its own instead.)
    """
    items.sort(key=lambda item: "torch-1t" in item.nodeid)


@pytest.fixture(scope="session")
def contender():
    """contender(name): the contender; skips the test when a package it needs (scikit-learn, torch, numba,
    onnx, onnxruntime) is absent."""

    def get(name):
        c = B.get_contender(name)
        for module in c.requires:
            pytest.importorskip(module)
        return c

    return get


@pytest.fixture
def record(benchmark, machine):
    """record(dtype=..., threads=..., per=None, **more): machine, BLAS, dtype and threads into extra_info.

    With ``per=N`` (iterations or calls per round) the median round time divided by N is added as
    ``median_per_unit_s`` (when the benchmark actually ran).
    """

    def put(*, dtype, threads, per=None, **extra):
        blas = [
            {k: e[k] for k in ("internal_api", "version", "architecture", "num_threads", "library")}
            for e in B.blas_info()
            if e["user_api"] == "blas"
        ]
        info = {
            "cpu": machine["cpu"],
            "cores": machine["cores"],
            "blas": blas,
            "kernels": machine["shallownet_fast_kernels"],
            "dtype": dtype,
            "threads": threads,
            **extra,
        }
        stats = getattr(getattr(benchmark, "stats", None), "stats", None)
        if per and stats is not None:
            info["median_per_unit_s"] = stats.median / per
        benchmark.extra_info.update(info)

    return put

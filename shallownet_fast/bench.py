"""How much faster fast is than the reference on this machine: ``shallownet-fast bench``.

A few workloads, each timed for both implementations in turn (interleaved, so
that a change in the machine's load hits both alike), repeated; the table shows
the medians and the median of the per-repeat ratios.  NumPy only.  The full
report with peers (scikit-learn, PyTorch), memory and thread measurements is
``benches/report.py`` in the repository.
"""

import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass

import numpy as np

from . import datasets, fast, reference
from ._dispatch import kernels, variant
from ._threads import usable_cores

__all__ = ["WORKLOADS", "Workload", "run", "add_arguments", "main"]

IMPLEMENTATIONS = (("reference", reference), ("fast", fast))
# Relative error of fast's parameters after training: max|P - P_ref| / max|P_ref - P_start|.
AGREEMENT = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 1e-3}


@dataclass(frozen=True)
class Workload:
    name: str
    what: str  # "train" (time per iteration) or "predict" (time per call)
    n_x: int
    n_h: int
    m: int
    dtype: type
    iterations: int  # per timed training run; 0 for prediction
    quick_m: int  # examples with --quick


WORKLOADS = {
    "W1": Workload("W1", "train", 2, 4, 400, np.float64, 1000, 400),  # the course's flower
    "W2": Workload("W2", "train", 20, 64, 10_000, np.float64, 10, 2_000),
    "W3": Workload("W3", "train", 784, 256, 20_000, np.float32, 2, 2_000),
    "P1": Workload("P1", "predict", 2, 4, 1, np.float64, 0, 1),  # one example, the flower's network
    "P2": Workload("P2", "predict", 20, 64, 10_000, np.float64, 0, 2_000),
}
DEFAULT = ("W1", "W2", "W3", "P1", "P2")


def _problem(w, m, seed=0):
    """(X, Y, starting parameters, learning rate) of a workload, seeded."""
    rng = np.random.default_rng(seed)
    if w.name in ("W1", "P1"):
        X, Y = datasets.load_planar_dataset()
        X, Y = X[:, :m].astype(w.dtype), Y[:, :m].astype(w.dtype)
        lr = 1.2
    else:
        X = rng.standard_normal((w.n_x, m)).astype(w.dtype)
        direction = rng.standard_normal(w.n_x)
        Y = (direction @ X > 0).astype(w.dtype).reshape(1, m)
        lr = 0.5 if w.n_x < 100 else 0.1
    params = reference.initialize_parameters(w.n_x, w.n_h, 1, init="xavier", seed=seed, dtype=w.dtype)
    return X, Y, params, lr


def _calls_for(fn, target):
    """How many calls of fn take about `target` seconds (at least 1)."""
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= target / 4 or n >= 1 << 20:
            return max(1, int(n * target / max(elapsed, 1e-9)))
        n *= 4


def _time(fn, calls):
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def _agreement(w, X, Y, params, lr):
    """fast's trained parameters against the reference's (relative error, see AGREEMENT), or None for predictions."""
    if w.what == "predict":
        return 0.0 if np.array_equal(fast.predict(params, X), reference.predict(params, X)) else float("inf")
    k = min(w.iterations, 50)
    pr = reference.nn_model(X, Y, w.n_h, k, learning_rate=lr, parameters=params)
    pf = fast.nn_model(X, Y, w.n_h, k, learning_rate=lr, parameters=params)
    moved = max(float(np.max(np.abs(pr[key] - params[key]))) for key in pr)
    error = max(float(np.max(np.abs(pf[key] - pr[key]))) for key in pr)
    return error / moved if moved else error


def measure(w, repeats, quick, target=0.05):
    """Median seconds per iteration (training) or per call (prediction) of each implementation, and the
    median of the per-repeat ratios reference / fast."""
    m = w.quick_m if quick else w.m
    X, Y, params, lr = _problem(w, m)
    if w.what == "train":
        k = max(1, w.iterations // (5 if quick else 1))
        calls = {
            name: (lambda mod=mod: mod.nn_model(X, Y, w.n_h, k, learning_rate=lr, parameters=params), 1, k)
            for name, mod in IMPLEMENTATIONS
        }
    else:
        calls = {}
        for name, mod in IMPLEMENTATIONS:

            def call(mod=mod):
                return mod.predict(params, X)

            calls[name] = (call, _calls_for(call, target), 1)
    for fn, _, _ in calls.values():  # warm-up
        fn()
    times = {name: [] for name in calls}
    names = list(calls)
    for r in range(repeats):
        for name in names[r % 2 :] + names[: r % 2]:  # alternate which goes first
            fn, count, per = calls[name]
            times[name].append(_time(fn, count) / per)
    ratios = [a / b for a, b in zip(times["reference"], times["fast"])]
    return {
        "workload": w.name,
        "m": m,
        "reference": statistics.median(times["reference"]),
        "fast": statistics.median(times["fast"]),
        "ratio": statistics.median(ratios),
        "agreement": _agreement(w, X, Y, params, lr),
    }


def _fmt_time(s):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def cpu_model():
    """The CPU's model name (Linux's /proc/cpuinfo), or what the platform module says."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas():
    try:
        deps = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{deps.get('name', '?')} {deps.get('version', '')}".strip()
    except Exception:  # the layout of NumPy's build information is not a stable API
        return "unknown"


def _describe(w, m):
    kind = "training, per iteration" if w.what == "train" else "predict, per call"
    return f"{kind}: n_x {w.n_x}, n_h {w.n_h}, m {m}, {np.dtype(w.dtype).name}"


def run(workloads=DEFAULT, repeats=5, quick=False, stream=None):
    """Measure `workloads` (names of WORKLOADS), print the table to `stream` (default stdout), return it as text."""
    selected = [str(name).strip().upper() for name in workloads if str(name).strip()]
    unknown = sorted(set(selected) - set(WORKLOADS))
    if unknown or not selected:
        raise ValueError(f"unknown workloads {unknown or workloads!r}; choose from {', '.join(WORKLOADS)}")
    repeats = int(repeats)
    if repeats < 1:
        raise ValueError(f"repeat must be at least 1, got {repeats}")
    stream = sys.stdout if stream is None else stream
    env = ", ".join(f"{k}={os.environ.get(k, 'unset')}" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"))
    lines = [
        "# shallownet_fast: fast against the reference",
        "",
        f"- CPU: {cpu_model()}, {usable_cores()} usable cores; Python {platform.python_version()}",
        f"- NumPy {np.__version__} ({_blas()}); kernels: {variant}, OpenMP: {bool(kernels.openmp_enabled())}",
        f"- threads: n_threads=None (the library's choice); {env}",
        f"- medians of {repeats} interleaved repeats; speed-up: median of the per-repeat ratios reference / fast",
        "",
        "| workload | what | reference | fast | speed-up | agrees |",
        "|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), file=stream, flush=True)
    for name in selected:
        w = WORKLOADS[name]
        row = measure(w, repeats, quick)
        agrees = "yes" if row["agreement"] <= AGREEMENT[np.dtype(w.dtype)] else f"NO ({row['agreement']:.1e})"
        line = (
            f"| {name} | {_describe(w, row['m'])} | {_fmt_time(row['reference'])} | {_fmt_time(row['fast'])} "
            f"| {row['ratio']:.2f}x | {agrees} |"
        )
        print(line, file=stream, flush=True)
        lines.append(line)
    return "\n".join(lines) + "\n"


def add_arguments(parser):
    """The options of ``shallownet-fast bench`` on an argparse parser."""
    parser.add_argument("--quick", action="store_true", help="smaller problems and 3 repeats (a few seconds)")
    parser.add_argument(
        "--workloads",
        metavar="LIST",
        default=",".join(DEFAULT),
        help=f"comma-separated subset of {','.join(WORKLOADS)} (default: all)",
    )
    parser.add_argument("--repeat", metavar="N", type=int, default=None, help="repeats (default 5; 3 with --quick)")
    parser.add_argument(
        "--out", metavar="FILE", default=None, help="also write the table (Markdown) to FILE, a new file"
    )
    return parser


def main(args):
    """Run the report from parsed arguments (see :func:`add_arguments`); returns an exit status."""
    if args.out is not None and os.path.lexists(args.out):
        raise ValueError(f"--out {args.out!r} exists; give the name of a new file")
    repeats = args.repeat if args.repeat is not None else (3 if args.quick else 5)
    text = run(args.workloads.split(","), repeats=repeats, quick=args.quick)
    if args.out is not None:
        with open(args.out, "x") as f:
            f.write(text)
    return 0

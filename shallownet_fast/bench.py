"""How much faster fast is than the reference on this machine: ``shallownet-fast bench``.

A few workloads, each timed for both implementations in turn (interleaved, so
that a change in the machine's load hits both alike), repeated; the table shows
the medians and the median of the per-repeat ratios.  NumPy is all it needs.

Prediction is also timed against the peers installed here ("peers included
where installed"), in the same interleaved rounds: a hand-written Numba loop and
ONNX Runtime (1 thread) on the flower network (one example, 64, 10 000), and
scikit-learn's MLPClassifier against ShallowNetClassifier's ``predict_proba``
on the same fitted network (one row, 1 000 rows).  The peers are imported only
when a report that uses them runs.  The full report with every peer (PyTorch
too), memory and thread measurements is ``benches/report.py`` in the
repository; it builds its Numba, ONNX Runtime and estimator contenders with the
functions here.
"""

import importlib.util
import math
import os
import platform
import statistics
import sys
import time
import warnings
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
    "P64": Workload("P64", "predict", 2, 4, 64, np.float64, 0, 64),
    "P10K": Workload("P10K", "predict", 2, 4, 10_000, np.float64, 0, 10_000),
    "P2": Workload("P2", "predict", 20, 64, 10_000, np.float64, 0, 2_000),
    # ShallowNetClassifier.predict_proba against MLPClassifier's on the same fitted network (3 classes)
    "E1": Workload("E1", "estimator", 50, 64, 1, np.float64, 0, 1),
    "E1K": Workload("E1K", "estimator", 50, 64, 1_000, np.float64, 0, 1_000),
}
DEFAULT = ("W1", "W2", "W3", "P1", "P64", "P10K", "P2", "E1", "E1K")
ESTIMATOR_CLASSES = 3


def _problem(w, m, seed=0):
    """(X, Y, starting parameters, learning rate) of a workload, seeded."""
    rng = np.random.default_rng(seed)
    if w.n_x == 2:  # the flower; beyond its 400 examples, points drawn over the same square
        X, Y = datasets.load_planar_dataset()
        X, Y = X[:, :m].astype(w.dtype), Y[:, :m].astype(w.dtype)
        if m > X.shape[1]:
            X = rng.uniform(-4.0, 4.0, (2, m)).astype(w.dtype)
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


def installed(module):
    """Whether `module` can be imported here (looked up, not imported)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


# ---------------------------------------------------------------- peers (each imported on first use)

_NUMBA_LOOP: list = []  # the compiled loop, once made


def numba_predict():
    """A hand-written Numba loop computing ``fast.predict``'s labels for one sigmoid output unit.

    ``loop(X, W1, b1, W2, b2)`` with X of shape (n_x, m) returns a boolean (1, m) array, as
    ``fast.predict`` does: plain loops, ``math.tanh``, one thread, compiled on its first call for each
    dtype.  It is what a skilled user writes for the fastest single-example latency.
    """
    if not _NUMBA_LOOP:
        from numba import njit

        @njit(nogil=True)
        def loop(X, W1, b1, W2, b2):  # pragma: no cover - compiled by Numba, coverage sees no Python line run
            n_x, m = X.shape
            n_h = W1.shape[0]
            out = np.empty((1, m), np.bool_)
            for k in range(m):
                z2 = b2[0, 0]
                for j in range(n_h):
                    z = b1[j, 0]
                    for i in range(n_x):
                        z += W1[j, i] * X[i, k]
                    z2 += W2[0, j] * math.tanh(z)
                out[0, k] = 1.0 / (1.0 + math.exp(-z2)) > 0.5
            return out

        _NUMBA_LOOP.append(loop)
    return _NUMBA_LOOP[0]


def onnx_predict(parameters):
    """An ONNX Runtime session (1 intra-op and 1 inter-op thread) computing ``fast.predict``'s labels.

    The graph, built with the ``onnx`` helper API, takes X of shape (n_x, m) in the parameters' dtype
    and returns the boolean (1, m) labels: ``Gemm(W1, X, b1)``, ``Tanh``, ``Gemm(W2, A1, b2)``,
    ``Sigmoid``, ``Greater(0.5)``.  Returns ``run(X)``.
    """
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    dtype = np.dtype(parameters["W1"].dtype)
    proto = TensorProto.DOUBLE if dtype == np.float64 else TensorProto.FLOAT
    n_x, n_y = parameters["W1"].shape[1], parameters["W2"].shape[0]
    if n_y != 1:
        raise ValueError(f"onnx_predict takes a network with one output unit, not {n_y}")
    weights = [numpy_helper.from_array(np.ascontiguousarray(parameters[k], dtype), k) for k in ("W1", "b1", "W2", "b2")]
    weights.append(numpy_helper.from_array(np.array(0.5, dtype), "half"))
    nodes = [
        helper.make_node("Gemm", ["W1", "X", "b1"], ["Z1"]),
        helper.make_node("Tanh", ["Z1"], ["A1"]),
        helper.make_node("Gemm", ["W2", "A1", "b2"], ["Z2"]),
        helper.make_node("Sigmoid", ["Z2"], ["A2"]),
        helper.make_node("Greater", ["A2", "half"], ["labels"]),
    ]
    graph = helper.make_graph(
        nodes,
        "shallownet",
        [helper.make_tensor_value_info("X", proto, [n_x, "m"])],
        [helper.make_tensor_value_info("labels", TensorProto.BOOL, [1, "m"])],
        weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = min(model.ir_version, 9)  # what every supported ONNX Runtime reads
    onnx.checker.check_model(model)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    run = session.run

    def predict(X):
        return run(None, {"X": X})[0]

    return predict


def estimator_pair(n_features=50, n_hidden=64, n_classes=ESTIMATOR_CLASSES, seed=0, **ours):
    """(ShallowNetClassifier, MLPClassifier) holding the same fitted network (tanh, float64).

    Ours is fitted on seeded data (a few adam epochs); the MLPClassifier is fitted on the same data for
    one epoch, to create its fitted state, and then given copies of our ``coefs_`` and ``intercepts_``.
    `ours`: more parameters of ShallowNetClassifier (``n_threads=1``).  Needs scikit-learn.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    from .estimators import ShallowNetClassifier

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((2000, n_features))
    y = (X @ rng.standard_normal((n_features, n_classes))).argmax(axis=1)
    common = dict(hidden_layer_sizes=(n_hidden,), activation="tanh", random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        net = ShallowNetClassifier(max_iter=5, **common, **ours).fit(X, y)
        mlp = MLPClassifier(max_iter=1, **common).fit(X, y)
    mlp.coefs_ = [np.array(c, np.float64, order="C") for c in net.coefs_]
    mlp.intercepts_ = [np.array(b, np.float64) for b in net.intercepts_]
    return net, mlp


def estimator_rows(n, n_features=50, seed=1):
    """Seeded rows to predict: float64, C-contiguous, shape (n, n_features)."""
    return np.random.default_rng(seed).standard_normal((n, n_features))


def _interleaved(calls, repeats):
    """Seconds per unit of work of every entry of `calls` (name -> (fn, calls per timing, units per call)),
    per repeat: each repeat times every entry once, the order rotating."""
    for fn, _, _ in calls.values():  # warm-up
        fn()
    times = {name: [] for name in calls}
    names = list(calls)
    for r in range(repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            fn, count, per = calls[name]
            times[name].append(_time(fn, count) / per)
    return times


def _peer_rows(times, ours, peers, agrees):
    """Median time and median per-repeat ratio t_peer / t_ours of each peer."""
    return [
        {
            "peer": name,
            "ours": ours,
            "peer_s": statistics.median(times[name]),
            "ours_s": statistics.median(times[ours]),
            "ratio": statistics.median([p / o for p, o in zip(times[name], times[ours])]),
            "agrees": agrees[name],
        }
        for name in peers
    ]


def _prediction_peers(params, X):
    """name -> (zero-argument call, its labels agree with the reference's) for the peers installed here."""
    expected = reference.predict(params, X)
    out = {}
    if installed("numba"):
        loop = numba_predict()
        W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
        out["Numba loop"] = lambda: loop(X, W1, b1, W2, b2)
    if installed("onnxruntime") and installed("onnx"):
        run = onnx_predict(params)
        out["ONNX Runtime, 1 thread"] = lambda: run(X)
    return {name: (call, bool(np.array_equal(call(), expected))) for name, call in out.items()}


def _measure_estimator(w, repeats, quick, target):
    """ShallowNetClassifier.predict_proba (default settings) against MLPClassifier's on the same network."""
    m = w.quick_m if quick else w.m
    row = {"workload": w.name, "m": m, "peers": []}
    if not installed("sklearn"):
        row["missing"] = "scikit-learn"
        return row
    net, mlp = estimator_pair(w.n_x, w.n_h)
    X = estimator_rows(m, w.n_x)
    entries = {
        "ShallowNetClassifier.predict_proba": net.predict_proba,
        "MLPClassifier.predict_proba": mlp.predict_proba,
    }
    calls = {name: (lambda f=f: f(X), _calls_for(lambda f=f: f(X), target), 1) for name, f in entries.items()}
    times = _interleaved(calls, repeats)
    agrees = float(np.max(np.abs(net.predict_proba(X) - mlp.predict_proba(X)))) <= 1e-9
    ours = "ShallowNetClassifier.predict_proba"
    row["peers"] = _peer_rows(times, ours, ["MLPClassifier.predict_proba"], {"MLPClassifier.predict_proba": agrees})
    return row


def measure(w, repeats, quick, target=0.05, peers=True):
    """Median seconds per iteration (training) or per call (prediction) of each implementation, and the
    median of the per-repeat ratios reference / fast.

    For prediction, the peers installed here (``peers=True``) run in the same interleaved repeats; their
    rows (``"peers"``) give the median of the per-repeat ratios t_peer / t_fast.  An "estimator" workload
    times ShallowNetClassifier's predict_proba against MLPClassifier's (its only rows are ``"peers"``).
    """
    if w.what == "estimator":
        return _measure_estimator(w, repeats, quick, target)
    m = w.quick_m if quick else w.m
    X, Y, params, lr = _problem(w, m)
    others = {}
    if w.what == "train":
        k = max(1, w.iterations // (5 if quick else 1))
        calls = {
            name: (lambda mod=mod: mod.nn_model(X, Y, w.n_h, k, learning_rate=lr, parameters=params), 1, k)
            for name, mod in IMPLEMENTATIONS
        }
    else:
        fns = {name: (lambda mod=mod: mod.predict(params, X)) for name, mod in IMPLEMENTATIONS}
        others = _prediction_peers(params, X) if peers else {}
        fns.update({name: call for name, (call, _) in others.items()})
        calls = {name: (fn, _calls_for(fn, target), 1) for name, fn in fns.items()}
    times = _interleaved(calls, repeats)
    ratios = [a / b for a, b in zip(times["reference"], times["fast"])]
    return {
        "workload": w.name,
        "m": m,
        "reference": statistics.median(times["reference"]),
        "fast": statistics.median(times["fast"]),
        "ratio": statistics.median(ratios),
        "agreement": _agreement(w, X, Y, params, lr),
        "peers": _peer_rows(times, "fast", list(others), {name: ok for name, (_, ok) in others.items()}),
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
    kind = {"train": "training, per iteration", "predict": "predict, per call"}[w.what]
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
        f"- NumPy {np.__version__} ({_blas()}); kernels: {variant}, thread team: {bool(kernels.team_enabled())}",
        f"- threads: n_threads=None (the library's choice); {env}",
        f"- medians of {repeats} interleaved repeats; speed-up: median of the per-repeat ratios reference / fast",
        "",
        "| workload | what | reference | fast | speed-up | agrees |",
        "|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), file=stream, flush=True)
    peer_rows, missing = [], set()
    for name in selected:
        w = WORKLOADS[name]
        row = measure(w, repeats, quick)
        peer_rows += [(name, row["m"], p) for p in row["peers"]]
        if "missing" in row:
            missing.add(row["missing"])
        if w.what == "estimator":
            continue
        agrees = "yes" if row["agreement"] <= AGREEMENT[np.dtype(w.dtype)] else f"NO ({row['agreement']:.1e})"
        line = (
            f"| {name} | {_describe(w, row['m'])} | {_fmt_time(row['reference'])} | {_fmt_time(row['fast'])} "
            f"| {row['ratio']:.2f}x | {agrees} |"
        )
        print(line, file=stream, flush=True)
        lines.append(line)
    if any(WORKLOADS[name].what != "train" for name in selected):
        wanted = {"numba", "onnxruntime"} if any(WORKLOADS[n].what == "predict" for n in selected) else set()
        missing |= {p for p in wanted if not installed(p)}
        more = _peer_table(peer_rows, missing)
        print("\n".join(more), file=stream, flush=True)
        lines += more
    return "\n".join(lines) + "\n"


def _peer_table(rows, missing):
    """The lines of the prediction-against-peers table."""
    lines = [
        "",
        "## Prediction against the peers installed here",
        "",
        "Timed in the same interleaved repeats as the workload's row above; ours: fast.predict (P workloads), "
        f"ShallowNetClassifier.predict_proba at default settings (E workloads: {ESTIMATOR_CLASSES} classes, "
        "tanh, float64). peer / ours: median of the per-repeat ratios (above 1: ours is faster).",
        "",
    ]
    if missing:
        lines += [f"Not installed, left out: {', '.join(sorted(missing))}.", ""]
    lines += ["| peer | workload | m | peer | ours | peer / ours | agrees |", "|---|---|---|---|---|---|---|"]
    for name, m, p in rows:
        lines.append(
            f"| {p['peer']} | {name} | {m} | {_fmt_time(p['peer_s'])} | {_fmt_time(p['ours_s'])} "
            f"| {p['ratio']:.2f}x | {'yes' if p['agrees'] else 'NO'} |"
        )
    return lines


def add_arguments(parser):
    """The options of ``shallownet-fast bench`` on an argparse parser."""
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smaller problems and 3 repeats (seconds, plus the import of the peers installed)",
    )
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

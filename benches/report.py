"""Benchmark report: shallownet_fast against its reference and against peers, interleaved.

``python benches/report.py [--quick] [--out DIR] [--workloads W1,W2,...] [--repeat N]``, from the
repository (it measures the checkout it sits in).  The pytest-benchmark suite in this directory imports
its workloads, contenders and agreement checks from here.  ``shallownet-fast bench`` is the package's own
short fast-against-reference report, with NumPy only.

What is measured (the workloads of the project's PERFORMANCE.md):

- W1 "planar": the course's flower, n_x=2, n_h=4, m=400, learning rate 1.2 (float64);
- W2 "medium": n_x=20, n_h=64, m=10000, learning rate 0.5 (float64);
- W3 "wide": n_x=784, n_h=256, m=20000, learning rate 0.1 (float64 and float32);
- P1: prediction latency for 1, 64 and 10000 examples on the W1 and W3 networks (float64), with a
  hand-written Numba loop and ONNX Runtime (1 thread) among the contenders;
- EST: ShallowNetClassifier.predict_proba (default settings and n_threads=1) against MLPClassifier's on
  the same fitted network (50 features, 64 tanh units, 3 classes, float64), 1, 1000 and 100000 rows,
  with the tracemalloc peak of each call;
- SWEEP: reference vs fast over n_h in {4, 16, 64, 256} x m in {100, ..., 100000}, n_x=20;
- MEM: peak memory of one ``nn_model`` call on W3, reference vs fast, each in a fresh process;
- GIL: two Python threads each training its own W2 model vs the same two runs one after the other.

Training is timed as a fixed number of full-batch gradient steps from the same starting parameters, and
reported per iteration.  Contenders: the NumPy reference, fast, scikit-learn's MLPClassifier (sgd, full
batch, no momentum, no regularisation) and PyTorch with 1 and 2 intra-op threads (both skipped when not
installed); for prediction also a hand-written Numba loop (``@njit``, plain loops, ``math.tanh``) and
ONNX Runtime with one intra-op thread (both built by ``shallownet_fast.bench``, skipped when not
installed).  The contenders run interleaved (each repeat runs every contender once, in a rotating order,
so drift hits all alike, after a short pause that lets the previous contender's idle BLAS/OpenMP
threads stop spinning); the table shows medians of the per-iteration times and medians of the ratios
taken inside each repeat.  Every contender's final parameters are checked against the reference's.
torch runs in one worker process per thread count (its thread count is process-wide); the others run
in this process.  The report also says how much CPU other processes used meanwhile (from /proc/stat):
on a shared 2-core machine that, more than anything, decides how trustworthy the numbers are.

The BLAS kernels in use are printed (threadpoolctl): OpenBLAS picks its kernel from the CPU unless
OPENBLAS_CORETYPE says otherwise, and nothing here changes that variable.

The peers (scikit-learn, torch, numba, onnx and onnxruntime, matplotlib, threadpoolctl) are optional and
imported only when used.
"""

import argparse
import copy
import datetime
import gc
import json
import os
import platform
import statistics
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

if __name__ == "__main__":  # run as a script from the repository: measure this checkout
    sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from shallownet_fast import bench as _bench  # noqa: E402
from shallownet_fast import datasets, fast, reference  # noqa: E402

__all__ = [
    "WORKLOADS",
    "CONTENDERS",
    "PREDICT_CONTENDERS",
    "ESTIMATOR_ROWS",
    "Workload",
    "Problem",
    "make_problem",
    "sweep_problem",
    "predict_network",
    "get_contender",
    "compare_parameters",
    "compare_predictions",
    "estimator_contenders",
    "estimator_rows",
    "traced_peak",
    "two_trainings",
    "thread_ratio",
    "calibrate",
    "peak_memory",
    "machine_info",
    "blas_info",
    "run_report",
    "add_arguments",
    "main",
]

DTYPES = {"float64": np.float64, "float32": np.float32}
SHORT = {"float64": "f64", "float32": "f32"}


# ------------------------------------------------------------------ workloads


@dataclass(frozen=True)
class Workload:
    name: str
    label: str
    n_x: int
    n_h: int
    m: int
    learning_rate: float
    dtypes: tuple
    iterations: int  # per timed round in the full report
    quick_iterations: int  # per timed round with --quick
    smoke_m: int  # examples when benchmarks only smoke-test (pytest --benchmark-disable)


WORKLOADS = {
    "W1": Workload("W1", "planar", 2, 4, 400, 1.2, ("float64",), 2000, 300, 400),
    "W2": Workload("W2", "medium", 20, 64, 10000, 0.5, ("float64",), 20, 3, 10000),
    "W3": Workload("W3", "wide", 784, 256, 20000, 0.1, ("float64", "float32"), 3, 1, 2000),
}

# Seconds of rest before each timed run in the interleaved loops.  An OpenBLAS worker thread spins for
# about 2**28 cycles (~0.1 s) after a call before it sleeps, and libgomp's threads spin too; numpy, scipy
# and torch each bring their own pool, so without a pause a contender shares the 2 cores with the
# previous contender's spinning threads (on the project's VM that made W2 up to 5x slower).
SETTLE_S = 0.2

SWEEP_N_H = (4, 16, 64, 256)
SWEEP_M = (100, 1000, 10000, 100000)
SWEEP_N_X = 20
SWEEP_LR = 0.5
PREDICT_SIZES = (1, 64, 10000)
ESTIMATOR_ROWS = (1, 1000, 100000)  # rows per predict_proba call in EST

# Agreement with the reference.  `param` bounds max|P - P_ref| / max|P_ref - P_0| (the error relative to
# how far the reference moved); `cost` bounds |cost - cost_ref|.  Contenders differ from the reference by
# summation order, vector-math ulps and (torch, scikit-learn) their own formulas for the same gradient.
TOLERANCES = {
    "float64": {"param": 1e-6, "cost": 1e-9, "prob": 1e-9},
    "float32": {"param": 1e-3, "cost": 1e-5, "prob": 1e-4},
}


class Problem:
    """One training problem: data, starting parameters and the layouts the peers want (made on demand)."""

    def __init__(self, name, X, Y, n_h, learning_rate, seed=0, params0=None):
        self.name = name
        self.X, self.Y = X, Y
        self.dtype = X.dtype
        self.dtype_name = X.dtype.name
        self.n_x, self.m = X.shape
        self.n_h = n_h
        self.learning_rate = learning_rate
        if params0 is None:
            params0 = reference.initialize_parameters(self.n_x, n_h, 1, seed=seed, dtype=X.dtype)
        self.params0 = params0
        self._cache = {}

    def cached(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    @property
    def XT(self):
        """X as (m, n_x), C-contiguous: the layout scikit-learn and torch take."""
        return self.cached("XT", lambda: np.ascontiguousarray(self.X.T))

    @property
    def y(self):
        return self.cached("y", lambda: self.Y.ravel().astype(np.int64))

    def reference_result(self, k):
        """The reference's parameters after k iterations (computed once)."""
        return self.cached(
            ("ref", k),
            lambda: reference.nn_model(
                self.X, self.Y, self.n_h, k, learning_rate=self.learning_rate, parameters=self.params0
            ),
        )

    def describe(self):
        return f"n_x={self.n_x}, n_h={self.n_h}, m={self.m}, lr={self.learning_rate}, {self.dtype_name}"


def synthetic_data(n_x, m, dtype, seed=0):
    """Seeded data: X standard normal (n_x, m); Y from a random tanh "teacher" network, 5% of labels flipped.

    Drawn in float64 and rounded, so that both dtypes see the same numbers.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m))
    teacher = rng.standard_normal((8, n_x)) / np.sqrt(n_x)
    score = rng.standard_normal(8) @ np.tanh(teacher @ X)
    labels = (score > 0) ^ (rng.random(m) < 0.05)
    return X.astype(dtype), labels.astype(dtype)[None, :]


def make_problem(workload, dtype_name="float64", m=None, seed=0):
    """The training problem of a workload ("W1", "W2", "W3"); `m` overrides the number of examples."""
    w = WORKLOADS[workload] if isinstance(workload, str) else workload
    dtype = DTYPES[dtype_name]
    if w.name == "W1":
        X, Y = datasets.load_planar_dataset()
        X, Y = X.astype(dtype), Y.astype(dtype)
        if m is not None and m != X.shape[1]:
            X, Y = X[:, :m].copy(), Y[:, :m].copy()
    else:
        X, Y = synthetic_data(w.n_x, w.m if m is None else m, dtype, seed)
    return Problem(w.name, X, Y, w.n_h, w.learning_rate, seed=seed)


def sweep_problem(n_h, m, seed=0):
    X, Y = synthetic_data(SWEEP_N_X, m, np.float64, seed)
    return Problem(f"sweep n_h={n_h} m={m}", X, Y, n_h, SWEEP_LR, seed=seed)


def predict_network(name, seed=0):
    """Parameters of the P1 networks (float64).

    "W1": the reference trained 2000 iterations on the flower.  "W3": a random 784-256-1 network with
    Xavier weights (its outputs spread around 0.5 rather than all sitting at it).
    """
    if name == "W1":
        X, Y = datasets.load_planar_dataset()
        return reference.nn_model(X, Y, 4, 2000, learning_rate=1.2, seed=seed)
    w = WORKLOADS[name]
    return reference.initialize_parameters(w.n_x, w.n_h, 1, init="xavier", seed=seed)


def predict_inputs(name, m, seed=1):
    rng = np.random.default_rng(seed)
    if name == "W1":
        return rng.uniform(-4.0, 4.0, (2, m))
    return rng.standard_normal((WORKLOADS[name].n_x, m))


# ------------------------------------------------------------------ contenders


class Contender:
    """One implementation of training (k full-batch steps) and prediction.

    ``setup`` does everything that is not timed (copies, model construction); ``train`` does the k
    steps and is what is timed; ``parameters`` turns its result into the reference's layout.
    """

    name = ""
    requires: tuple = ()  # modules that must be importable
    trains = True  # False: a prediction-only contender

    def available(self):
        try:
            for module in self.requires:
                __import__(module)
        except ImportError:
            return False
        return True

    def threads(self):
        return f"BLAS {_blas_threads()}"

    def setup(self, problem, k):
        raise NotImplementedError

    def train(self, state):
        raise NotImplementedError

    def parameters(self, state):
        raise NotImplementedError

    def setup_predict(self, params, X):
        raise NotImplementedError

    def predict(self, state):
        raise NotImplementedError

    def timed_train(self, state):
        """(seconds, state) of one train(state)."""
        return _timed(self.train, state)

    def timed_calls(self, state, calls):
        """Seconds taken by `calls` back-to-back predict(state)."""
        start = time.perf_counter()
        for _ in range(calls):
            self.predict(state)
        return time.perf_counter() - start

    def close(self):
        pass


class _Module(Contender):
    module: Any = None

    def setup(self, problem, k):
        return {"p": problem, "k": k, "out": None}

    def train(self, state):
        p = state["p"]
        state["out"] = self.module.nn_model(
            p.X, p.Y, p.n_h, state["k"], learning_rate=p.learning_rate, parameters=p.params0
        )
        return state

    def parameters(self, state):
        return state["out"]

    def setup_predict(self, params, X):
        return params, X

    def predict(self, state):
        return self.module.predict(*state)


class Reference(_Module):
    name = "reference"
    module = reference


class Fast(_Module):
    name = "fast"
    module = fast

    def threads(self):
        variant = _kernel_variant()
        # n_threads=None: fast gives BLAS its configured threads on large problems, one on small ones.
        return f"BLAS <={_blas_threads()}" + (f", {variant} kernels" if variant else "")


class SklearnMLP(Contender):
    """scikit-learn's MLPClassifier as the same full-batch gradient descent.

    Starting parameters are set through its public warm start: a one-step fit on two examples creates
    the model, then ``coefs_`` and ``intercepts_`` are replaced by ours and ``fit`` continues from them.
    """

    name = "sklearn"
    requires = ("sklearn",)

    def _model(self, problem, params, k):
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier

        clf = MLPClassifier(
            hidden_layer_sizes=(problem.n_h,),
            activation="tanh",
            solver="sgd",
            batch_size=2,
            momentum=0.0,
            alpha=0.0,
            learning_rate="constant",
            learning_rate_init=problem.learning_rate,
            tol=0.0,
            n_iter_no_change=10**9,
            shuffle=False,
            max_iter=1,
            warm_start=True,
        )
        y = problem.y
        two = [int(np.argmax(y == 0)), int(np.argmax(y == 1))]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(problem.XT[two], y[two])
        clf.set_params(batch_size=problem.m, max_iter=k)
        dt = problem.dtype
        clf.coefs_ = [np.array(params["W1"].T, dt, order="C"), np.array(params["W2"].T, dt, order="C")]
        clf.intercepts_ = [np.array(params["b1"].ravel(), dt), np.array(params["b2"].ravel(), dt)]
        return clf

    def setup(self, problem, k):
        return {"p": problem, "clf": self._model(problem, problem.params0, k)}

    def train(self, state):
        from sklearn.exceptions import ConvergenceWarning

        p = state["p"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            state["clf"].fit(p.XT, p.y)
        return state

    def parameters(self, state):
        c = state["clf"]
        W1, W2 = c.coefs_
        b1, b2 = c.intercepts_
        return {"W1": W1.T.copy(), "b1": b1.reshape(-1, 1).copy(), "W2": W2.T.copy(), "b2": b2.reshape(-1, 1).copy()}

    def setup_predict(self, params, X):
        n_x, m = X.shape
        # A two-example problem with both labels, only to create the fitted model.
        p = Problem("predict", np.zeros((n_x, 2), X.dtype), np.array([[0, 1]], X.dtype), params["W1"].shape[0], 0.1)
        return self._model(p, params, 1), np.ascontiguousarray(X.T)

    def predict(self, state):
        clf, XT = state
        return clf.predict(XT)


class Torch(Contender):
    """PyTorch: nn.Linear, nn.Tanh, nn.Linear, BCEWithLogitsLoss, torch.optim.SGD on the full batch."""

    requires = ("torch",)

    def __init__(self, n_threads):
        self.n_threads = n_threads
        self.name = f"torch-{n_threads}t"

    def threads(self):
        return f"torch {self.n_threads}"

    def _model(self, params, dtype):
        import torch

        tdtype = torch.float64 if np.dtype(dtype) == np.float64 else torch.float32
        n_h, n_x = params["W1"].shape
        model = torch.nn.Sequential(torch.nn.Linear(n_x, n_h), torch.nn.Tanh(), torch.nn.Linear(n_h, 1)).to(tdtype)
        with torch.no_grad():
            model[0].weight.copy_(torch.tensor(params["W1"]))
            model[0].bias.copy_(torch.tensor(params["b1"].ravel()))
            model[2].weight.copy_(torch.tensor(params["W2"]))
            model[2].bias.copy_(torch.tensor(params["b2"].ravel()))
        return model

    def setup(self, problem, k):
        import torch

        self._threads()
        Xt, Yt = problem.cached("torch", lambda: (torch.tensor(problem.XT), torch.tensor(problem.Y.reshape(-1, 1))))
        model = self._model(problem.params0, problem.dtype)
        opt = torch.optim.SGD(model.parameters(), lr=problem.learning_rate)
        return {"k": k, "X": Xt, "Y": Yt, "model": model, "opt": opt, "loss": torch.nn.BCEWithLogitsLoss()}

    def _threads(self):
        """Give torch our thread count (a global setting), calling set_num_threads only to change it.

        Calling torch.set_num_threads(n) with n >= 2, even to the count torch already has, made every
        small parallel op take about 8 ms on the project's 2-core VM (torch 2.13): so a torch-2t
        contender on 2 cores never calls it, and torch-1t runs last or in a process of its own.
        """
        import torch

        if torch.get_num_threads() != self.n_threads:
            torch.set_num_threads(self.n_threads)

    def train(self, state):
        self._threads()
        model, opt, loss_fn, X, Y = state["model"], state["opt"], state["loss"], state["X"], state["Y"]
        for _ in range(state["k"]):
            opt.zero_grad(set_to_none=True)
            loss_fn(model(X), Y).backward()
            opt.step()
        return state

    def parameters(self, state):
        model = state["model"]
        t = lambda a: a.detach().numpy().copy()  # noqa: E731
        return {
            "W1": t(model[0].weight),
            "b1": t(model[0].bias).reshape(-1, 1),
            "W2": t(model[2].weight),
            "b2": t(model[2].bias).reshape(-1, 1),
        }

    def setup_predict(self, params, X):
        import torch

        self._threads()
        return self._model(params, X.dtype), torch.tensor(np.ascontiguousarray(X.T))

    def predict(self, state):
        import torch

        self._threads()
        model, X = state
        with torch.no_grad():
            return (model(X) > 0).numpy()


class TorchProcess(Contender):
    """The Torch contender run in a process of its own, which keeps one thread count for its lifetime.

    The report uses it because torch's thread count is global and setting it can leave torch slow (see
    Torch._threads): each thread count gets a process that keeps it.  Times are measured inside the
    worker, so the pipe is not in them.
    """

    requires = ("torch",)

    def __init__(self, n_threads):
        import multiprocessing

        self.n_threads = n_threads
        self.name = f"torch-{n_threads}t"
        self._problem_id = None
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_torch_worker, args=(child, n_threads), daemon=True)
        self._proc.start()
        child.close()

    def _call(self, *msg):
        try:
            self._conn.send(msg)
            ok, out = self._conn.recv()
        except (EOFError, OSError) as exc:
            raise RuntimeError(f"the {self.name} worker process died ({exc!r})") from None
        if not ok:
            raise RuntimeError(f"{self.name} worker: {out}")
        return out

    def threads(self):
        return f"torch {self.n_threads} (own process)"

    def info(self):
        return self._call("info")

    def setup(self, problem, k):
        if self._problem_id != id(problem):
            self._call(
                "problem", problem.name, problem.X, problem.Y, problem.n_h, problem.learning_rate, problem.params0
            )
            self._problem_id = id(problem)
        self._call("setup", k)
        return {"k": k}

    def train(self, state):
        state["elapsed"], state["params"] = self._call("train")
        return state

    def timed_train(self, state):
        state = self.train(state)
        return state["elapsed"], state

    def parameters(self, state):
        return state["params"]

    def setup_predict(self, params, X):
        self._call("setup_predict", params, X)
        return None

    def predict(self, state):
        return self._call("predict")

    def timed_calls(self, state, calls):
        return self._call("time_predict", calls)

    def close(self):
        if self._proc.is_alive():
            try:
                self._conn.send(("stop",))
            except OSError:
                pass
            self._proc.join(timeout=10)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join()


def _torch_worker(conn, n_threads):
    """The loop of a TorchProcess worker: commands in, (ok, result) out."""
    local = Torch(n_threads)
    local._threads()
    problem = state = pstate = None
    while True:
        msg = conn.recv()
        op, args = msg[0], msg[1:]
        if op == "stop":
            break
        try:
            if op == "info":
                import torch

                out = {"torch": torch.__version__, "num_threads": torch.get_num_threads(), "libraries": blas_info()}
            elif op == "problem":
                name, X, Y, n_h, lr, params0 = args
                problem = state = None
                gc.collect()
                problem = Problem(name, X, Y, n_h, lr, params0=params0)
                out = None
            elif op == "setup":
                state, out = local.setup(problem, args[0]), None
            elif op == "train":
                gc.collect()
                elapsed, state = _timed(local.train, state)
                out = (elapsed, local.parameters(state))
            elif op == "setup_predict":
                pstate, out = local.setup_predict(*args), None
            elif op == "predict":
                out = local.predict(pstate)
            elif op == "time_predict":
                gc.collect()
                out = local.timed_calls(pstate, args[0])
            else:
                raise ValueError(f"unknown command {op!r}")
            conn.send((True, out))
        except Exception as exc:  # report it to the parent rather than die silently
            conn.send((False, f"{type(exc).__name__}: {exc}"))


class NumbaLoop(Contender):
    """A hand-written Numba loop over the network (``shallownet_fast.bench.numba_predict``): prediction only."""

    name = "numba"
    requires = ("numba",)
    trains = False

    def threads(self):
        return "1 (njit, plain loops)"

    def setup_predict(self, params, X):
        from shallownet_fast import bench

        loop = bench.numba_predict()
        args = (X, params["W1"], params["b1"], params["W2"], params["b2"])
        loop(*args)  # compiled here for these types, not in the timing
        return loop, args

    def predict(self, state):
        loop, args = state
        return loop(*args)


class OnnxRuntime(Contender):
    """ONNX Runtime, 1 intra-op thread, on the graph of ``shallownet_fast.bench.onnx_predict``: prediction only."""

    name = "onnxruntime"
    requires = ("onnx", "onnxruntime")
    trains = False

    def threads(self):
        return "1 intra-op, 1 inter-op"

    def setup_predict(self, params, X):
        from shallownet_fast import bench

        return bench.onnx_predict(params), X

    def predict(self, state):
        run, X = state
        return run(X)


CONTENDERS = ("reference", "fast", "sklearn", "torch-1t", "torch-2t")  # training (and prediction)
PREDICT_CONTENDERS = CONTENDERS + ("numba", "onnxruntime")


def get_contender(name):
    return {
        "reference": Reference,
        "fast": Fast,
        "sklearn": SklearnMLP,
        "torch-1t": lambda: Torch(1),
        "torch-2t": lambda: Torch(2),
        "numba": NumbaLoop,
        "onnxruntime": OnnxRuntime,
    }[name]()


def estimator_contenders():
    """name -> (predict_proba, threads) of the EST contenders, all holding the same fitted network.

    ``ours``: ShallowNetClassifier at default settings; ``ours-1t``: the same model with n_threads=1;
    ``mlp``: MLPClassifier (see ``shallownet_fast.bench.estimator_pair``).  Needs scikit-learn.
    """
    net, mlp = _bench.estimator_pair()
    net1 = copy.deepcopy(net).set_params(n_threads=1)
    return {
        "ours": (net.predict_proba, "n_threads=None"),
        "ours-1t": (net1.predict_proba, "n_threads=1"),
        "mlp": (mlp.predict_proba, f"BLAS {_blas_threads()}"),
    }


def traced_peak(fn, *args):
    """(result, bytes): fn(*args) and the tracemalloc peak of the call above what was traced before it.

    NumPy reports its array data to tracemalloc; memory a BLAS allocates for itself is not counted.
    """
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        out = fn(*args)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return out, peak - before


# ------------------------------------------------------------------ checks


def _cost64(X, Y, params):
    P = {k: np.asarray(a, np.float64) for k, a in params.items()}
    A2, _ = reference.forward_propagation(np.asarray(X, np.float64), P)
    return reference.compute_cost(A2, np.asarray(Y, np.float64))


def compare_parameters(problem, params, k):
    """How far a contender's parameters after k iterations are from the reference's.

    Returns a dict: ``param_err`` = max|P - P_ref| / max|P_ref - P_0| over the four arrays, ``cost`` and
    ``cost_ref`` (the cross-entropy of each, evaluated in float64 by the reference), and ``ok``.
    """
    ref = problem.reference_result(k)
    keys = ("W1", "b1", "W2", "b2")
    num = max(float(np.max(np.abs(np.asarray(params[q], np.float64) - ref[q]))) for q in keys)
    moved = max(float(np.max(np.abs(np.asarray(ref[q], np.float64) - problem.params0[q]))) for q in keys)
    err = num / moved if moved > 0 else num
    cost, cost_ref = _cost64(problem.X, problem.Y, params), _cost64(problem.X, problem.Y, ref)
    tol = TOLERANCES[problem.dtype_name]
    ok = bool(
        err <= tol["param"]
        and abs(cost - cost_ref) <= tol["cost"]
        and all(params[q].shape == ref[q].shape for q in keys)
    )
    return {"ok": ok, "param_err": err, "cost": cost, "cost_ref": cost_ref}


def compare_predictions(params, X, labels):
    """Labels agree with the reference's, except where the reference's probability is within tol of 0.5."""
    A2, _ = reference.forward_propagation(X, params)
    ref = (A2 > 0.5).ravel()
    got = np.asarray(labels).ravel().astype(bool)
    tol = TOLERANCES[X.dtype.name]["prob"]
    differ = got != ref
    ok = bool(got.shape == ref.shape and not np.any(differ & (np.abs(A2.ravel() - 0.5) > tol)))
    return {"ok": ok, "mismatches": int(np.count_nonzero(differ)) if got.shape == ref.shape else -1}


# ------------------------------------------------------------------ machine


def _kernel_variant():
    try:
        from shallownet_fast import _dispatch

        return _dispatch.variant
    except Exception:  # an older build without run-time dispatch
        return None


def blas_info():
    """threadpoolctl's view of the loaded BLAS and OpenMP libraries ([] without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("user_api", "internal_api", "prefix", "version", "architecture", "threading_layer", "num_threads")
    out = []
    for entry in threadpool_info():
        d = {k: entry.get(k) for k in keep}
        path = entry.get("filepath") or ""
        d["library"] = os.path.join(os.path.basename(os.path.dirname(path)), os.path.basename(path))
        out.append(d)
    return out


def _blas_threads():
    nums = sorted({e["num_threads"] for e in blas_info() if e["user_api"] == "blas"})
    return "/".join(str(n) for n in nums) if nums else "?"


cpu_model = _bench.cpu_model
estimator_rows = _bench.estimator_rows


def _version(module):
    try:
        return __import__(module).__version__
    except Exception:
        return None


def machine_info():
    env_keys = (
        "OPENBLAS_CORETYPE",
        "OPENBLAS_L2_SIZE",
        "OPENBLAS_NUM_THREADS",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "SHALLOWNET_FAST_KERNELS",
    )
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {m: _version(m) for m in ("numpy", "scipy", "sklearn", "torch", "threadpoolctl")},
        "shallownet_fast_kernels": _kernel_variant(),
        "team_enabled": _team_enabled(),
        "blas": blas_info(),
        "environment": {k: os.environ.get(k) for k in env_keys},
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "load_average": _loadavg(),
    }


def _cpu_clock():
    """(CPU seconds used by everything, by this process and its children, wall clock); None off Linux."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    t = os.times()
    busy = (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    return busy, t.user + t.system + t.children_user + t.children_system, time.monotonic()


def other_cpu_load(start, end):
    """Average number of cores busy with anything but this process (and its children) between two clocks."""
    if start is None or end is None or end[2] <= start[2]:
        return None
    return max(0.0, ((end[0] - start[0]) - (end[1] - start[1])) / (end[2] - start[2]))


def _loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def _team_enabled():
    try:
        from shallownet_fast import _core

        return bool(_core.team_enabled())
    except Exception:
        return None


def _blas_line(entry):
    arch = f" {entry['architecture']}" if entry.get("architecture") else ""
    return (
        f"{entry['internal_api']} {entry['version']}{arch}, {entry['num_threads']} threads "
        f"({entry['user_api']}, {entry['library']})"
    )


# ------------------------------------------------------------------ timing helpers


def _timed(fn, *args):
    gc.collect()
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def _median(xs):
    return statistics.median(xs) if xs else float("nan")


def _rotate(seq, r):
    r %= max(len(seq), 1)
    return list(seq[r:]) + list(seq[:r])


def time_training(problem, contenders, k, repeats, warmup_k=1):
    """Interleaved timing: per repeat, every contender once (rotating order).  Times are per iteration."""
    for c in contenders:  # load code, spin up thread pools, fault in the allocator
        c.train(c.setup(problem, warmup_k))
    times = {c.name: [] for c in contenders}
    last = {}
    for r in range(repeats):
        for c in _rotate(contenders, r):
            state = c.setup(problem, k)
            gc.collect()
            time.sleep(SETTLE_S)
            t, last[c.name] = c.timed_train(state)
            times[c.name].append(t / k)
    return times, last


def calibrate(fn, target, timer=None):
    """(calls, seconds per call): how many back-to-back calls of fn take about `target` seconds (>= 1).

    `timer(n)`, when given, returns the seconds n calls take (instead of timing fn here).
    """
    if timer is None:

        def timer(n):
            start = time.perf_counter()
            for _ in range(n):
                fn()
            return time.perf_counter() - start

    timer(1)  # warm-up
    calls = 1
    while True:  # measure at least a millisecond: the timer's resolution is far below that
        elapsed = timer(calls)
        if elapsed >= 1e-3 or calls >= 10**6:
            break
        calls *= 10
    per_call = max(elapsed / calls, 1e-9)
    return max(1, int(target / per_call)), per_call


def time_calls(entries, repeats, target):
    """Interleaved timing of predictions: entries maps a name to (contender, state).

    Per repeat, each contender makes `calls` back-to-back predictions (calibrated to take about `target`
    seconds); returns the seconds per call of every repeat, and the calls.
    """
    calls = {
        name: calibrate(None, target, timer=lambda n, c=c, s=s: c.timed_calls(s, n))[0]
        for name, (c, s) in entries.items()
    }
    times = {name: [] for name in entries}
    for r in range(repeats):
        for name in _rotate(list(entries), r):
            (c, s), n = entries[name], calls[name]
            gc.collect()
            time.sleep(SETTLE_S)
            times[name].append(c.timed_calls(s, n) / n)
    return times, calls


def _ratios(times, base):
    """Median over repeats of t_base / t (> 1: faster than base)."""
    if base not in times:
        return {name: None for name in times}
    return {name: _median([b / t for b, t in zip(times[base], ts)]) for name, ts in times.items()}


# ------------------------------------------------------------------ threads and memory


def two_trainings(module, problem, k, n_threads=1):
    """Two independent trainings (k iterations, different starting points) of `module.nn_model`.

    Returns (sequential, threaded): zero-argument functions that run the two one after the other, or
    in two Python threads started together; each returns the two resulting parameter dicts.
    """
    other = reference.initialize_parameters(problem.n_x, problem.n_h, 1, seed=12345, dtype=problem.dtype)

    def run(params):
        return module.nn_model(
            problem.X,
            problem.Y,
            problem.n_h,
            k,
            learning_rate=problem.learning_rate,
            parameters=params,
            n_threads=n_threads,
        )

    def sequential():
        return [run(problem.params0), run(other)]

    def threaded():
        out = [None, None]
        barrier = threading.Barrier(2)

        def work(i, params):
            barrier.wait()
            out[i] = run(params)

        threads = [threading.Thread(target=work, args=(i, p)) for i, p in enumerate((problem.params0, other))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return out

    return sequential, threaded


def max_abs_diff(results_a, results_b):
    """Largest difference between two lists of parameter dicts."""
    return max(float(np.max(np.abs(a[q] - b[q]))) for a, b in zip(results_a, results_b) for q in a)


def thread_ratio(module, problem, k, repeats=3, n_threads=1):
    """Two threads each training its own model vs the same two runs in sequence.

    BLAS is limited to one thread for the whole measurement (threadpoolctl, process-wide), so that each
    run uses one core and two runs can use both: a ratio near 2 on 2 cores means the GIL is released
    during training, near 1 that it is held.  Returns the median sequential and threaded times, the
    median of the per-repeat ratios, and whether the threaded results equal the sequential ones.
    """
    from threadpoolctl import threadpool_limits

    sequential, threaded = two_trainings(module, problem, k, n_threads)
    seq, par = [], []
    with threadpool_limits(limits=1, user_api="blas"):
        a = sequential()  # warm-up, and the results the threaded runs must reproduce
        for r in range(repeats):
            for name in _rotate(["sequential", "threaded"], r):
                time.sleep(SETTLE_S)
                t, _ = _timed(sequential if name == "sequential" else threaded)
                (seq if name == "sequential" else par).append(t)
        b = threaded()
    diff = max_abs_diff(a, b)
    return {
        "k": k,
        "n_threads": n_threads,
        "blas_threads": 1,
        "sequential_s": _median(seq),
        "threaded_s": _median(par),
        "ratio": _median([s / p for s, p in zip(seq, par)]),
        "results_identical": diff == 0.0,
        "max_abs_diff": diff,
    }


def _rss_kib():
    with open("/proc/self/status") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def _memory_child(impl, workload, dtype_name, k, how):
    """Runs in a fresh process: peak memory of one nn_model call beyond the data."""
    import resource
    import tracemalloc

    module = {"reference": reference, "fast": fast}[impl]
    p = make_problem(workload, dtype_name)
    args = (p.X, p.Y, p.n_h, k)
    kwargs = {"learning_rate": p.learning_rate, "parameters": p.params0}
    gc.collect()
    if how == "tracemalloc":
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        module.nn_model(*args, **kwargs)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return {"peak_bytes": peak - before, "method": "tracemalloc peak minus traced memory at the call"}
    try:  # reset the kernel's peak-RSS counter (VmHWM) to the current RSS: Linux >= 4.0
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        before, _ = _rss_kib()
        module.nn_model(*args, **kwargs)
        _, peak = _rss_kib()
        method = "VmHWM after resetting it through /proc/self/clear_refs, minus VmRSS at the call"
    except OSError:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        module.nn_model(*args, **kwargs)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        method = "ru_maxrss after the call minus ru_maxrss before (may under-count)"
    return {"peak_bytes": (peak - before) * 1024, "method": method}


def peak_memory(impl, workload="W3", dtype_name="float64", k=2, how="rss"):
    """Peak memory of ``impl.nn_model`` (k iterations) on a workload, measured in a fresh 'spawn' process.

    how="rss": resident memory (everything: NumPy arrays, BLAS buffers, the allocator's slack).
    how="tracemalloc": Python-tracked allocations, which include NumPy's array data.
    """
    import concurrent.futures
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(_memory_child, impl, workload, dtype_name, k, how).result()


# ------------------------------------------------------------------ the report


def _fmt_time(s):
    if s is None or s != s:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.2f} us"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.3f} s"


def _fmt_bytes(n):
    return f"{n / 2**20:.2f} MiB" if n >= 2**20 else f"{n / 2**10:.1f} KiB"


def _fmt_ratio(x):
    return "-" if x is None or x != x else f"{x:.2f}x"


def _log(msg):
    print(msg, file=sys.stderr, flush=True)


def _available_contenders():
    """The report's contenders (torch in worker processes, one per thread count) and the missing ones."""
    out, missing = [], []
    for name in PREDICT_CONTENDERS:
        c = get_contender(name)
        if not c.available():
            missing.append(name)
        elif isinstance(c, Torch):
            out.append(TorchProcess(c.n_threads))
        else:
            out.append(c)
    return out, missing


def _training_section(selected, quick, repeats, contenders):
    rows = []
    trainers = [c for c in contenders if c.trains]
    for wname in ("W1", "W2", "W3"):
        if wname not in selected:
            continue
        w = WORKLOADS[wname]
        k = w.quick_iterations if quick else w.iterations
        for dt in w.dtypes:
            _log(f"training {wname} {dt}: {k} iterations x {repeats} repeats")
            problem = make_problem(wname, dt)
            times, last = time_training(problem, trainers, k, repeats, warmup_k=max(1, k // 10))
            vs_ref, vs_fast = _ratios(times, "reference"), _ratios(times, "fast")
            for c in trainers:
                check = compare_parameters(problem, c.parameters(last[c.name]), k)
                rows.append(
                    {
                        "section": "train",
                        "workload": wname,
                        "dtype": dt,
                        "contender": c.name,
                        "threads": c.threads(),
                        "iterations": k,
                        "repeats": repeats,
                        "median_s": _median(times[c.name]),
                        "times_s": times[c.name],
                        "vs_reference": vs_ref[c.name],
                        "vs_fast": vs_fast[c.name],
                        "check": check,
                        "shape": problem.describe(),
                    }
                )
            del problem
            gc.collect()
    return rows


def _predict_section(quick, repeats, contenders):
    rows = []
    target = 0.005 if quick else 0.02
    for net in ("W1", "W3"):
        params = predict_network(net)
        for m in PREDICT_SIZES:
            _log(f"prediction P1 {net} network, {m} examples")
            X = predict_inputs(net, m)
            states = {c.name: (c, c.setup_predict(params, X)) for c in contenders}
            times, calls = time_calls(states, repeats, target)
            vs_ref, vs_fast = _ratios(times, "reference"), _ratios(times, "fast")
            for name, (c, s) in states.items():
                check = compare_predictions(params, X, c.predict(s))
                rows.append(
                    {
                        "section": "predict",
                        "workload": f"P1 {net} m={m}",
                        "dtype": "float64",
                        "contender": name,
                        "threads": c.threads(),
                        "calls": calls[name],
                        "repeats": repeats,
                        "median_s": _median(times[name]),
                        "times_s": times[name],
                        "vs_reference": vs_ref[name],
                        "vs_fast": vs_fast[name],
                        "check": check,
                    }
                )
    return rows


class _Function(Contender):
    """A zero-argument call as a contender of time_calls (its state is the call)."""

    def __init__(self, name):
        self.name = name

    def predict(self, state):
        return state()


def _estimator_section(quick, repeats):
    """EST: predict_proba of ours (default, n_threads=1) and MLPClassifier on the same network, interleaved."""
    rows = []
    target = 0.005 if quick else 0.02
    contenders = estimator_contenders()
    mlp = contenders["mlp"][0]
    for n in ESTIMATOR_ROWS:
        _log(f"estimator predict_proba, {n} rows")
        X = estimator_rows(n)
        expected = mlp(X)
        entries = {name: (_Function(name), lambda f=f, X=X: f(X)) for name, (f, _) in contenders.items()}
        times, calls = time_calls(entries, repeats, target)
        vs_mlp = _ratios(times, "mlp")
        vs_1t = _ratios(times, "ours-1t")
        for name, (f, threads) in contenders.items():
            proba, peak = traced_peak(f, X)
            err = float(np.max(np.abs(proba - expected)))
            rows.append(
                {
                    "section": "estimator",
                    "rows": n,
                    "contender": name,
                    "threads": threads,
                    "calls": calls[name],
                    "repeats": repeats,
                    "median_s": _median(times[name]),
                    "times_s": times[name],
                    "vs_mlp": vs_mlp[name],
                    "vs_ours_1t": vs_1t[name],
                    "peak_bytes": peak,
                    "input_bytes": X.nbytes,
                    "output_bytes": proba.nbytes,
                    "max_abs_diff": err,
                    "ok": bool(proba.shape == expected.shape and err <= TOLERANCES["float64"]["prob"]),
                }
            )
    return rows


def _sweep_section(quick, repeats):
    rows = []
    target = 0.03 if quick else 0.15
    cs = [get_contender("reference"), get_contender("fast")]
    for n_h in SWEEP_N_H:
        for m in SWEEP_M[:-1] if quick else SWEEP_M:  # --quick leaves out m = 100000
            problem = sweep_problem(n_h, m)
            t1, _ = _timed(cs[0].train, cs[0].setup(problem, 1))  # also the reference's warm-up
            k = int(min(2000, max(1, target / t1)))
            _log(f"sweep n_h={n_h} m={m}: {k} iterations x {repeats} repeats")
            times, last = time_training(problem, cs, k, repeats, warmup_k=1)
            ratio = _ratios(times, "reference")["fast"]
            check = compare_parameters(problem, cs[1].parameters(last["fast"]), k)
            rows.append(
                {
                    "section": "sweep",
                    "n_x": SWEEP_N_X,
                    "n_h": n_h,
                    "m": m,
                    "iterations": k,
                    "repeats": repeats,
                    "reference_s": _median(times["reference"]),
                    "fast_s": _median(times["fast"]),
                    "fast_vs_reference": ratio,
                    "check": check,
                    "reference_times_s": times["reference"],
                    "fast_times_s": times["fast"],
                }
            )
    return rows


def _memory_section(quick):
    rows = []
    k = 1 if quick else 2
    for dt in WORKLOADS["W3"].dtypes[: 1 if quick else None]:
        for impl in ("reference", "fast"):
            _log(f"memory W3 {dt} {impl}")
            rss = peak_memory(impl, "W3", dt, k=k, how="rss")
            tm = peak_memory(impl, "W3", dt, k=k, how="tracemalloc")
            rows.append(
                {
                    "workload": "W3",
                    "dtype": dt,
                    "impl": impl,
                    "iterations": k,
                    "rss_peak_bytes": rss["peak_bytes"],
                    "rss_method": rss["method"],
                    "tracemalloc_peak_bytes": tm["peak_bytes"],
                    "tracemalloc_method": tm["method"],
                }
            )
    return rows


def _gil_section(quick, repeats):
    rows = []
    w = WORKLOADS["W2"]
    problem = make_problem("W2", "float64")
    for impl, module in (("fast", fast), ("reference", reference)):
        k = 3 if quick else 10
        _log(f"threads: two W2 trainings ({k} iterations) with {impl}")
        r = thread_ratio(module, problem, k, repeats=max(3, repeats // 2 if quick else repeats))
        r.update({"impl": impl, "workload": f"W2 ({w.n_x}x{w.m}, n_h={w.n_h})"})
        rows.append(r)
    return rows


def _targets(train, predict, sweep, gil, estimator=()):
    def ratio(section, workload, dtype, contender, key="vs_reference"):
        for row in section:
            if row["workload"] == workload and row["dtype"] == dtype and row["contender"] == contender:
                return row[key]
        return None

    out = []

    def target(text, value, threshold):
        if value is None:  # not measured in this run
            return
        met = bool(value >= threshold)
        out.append({"target": text, "measured": value, "threshold": threshold, "met": met})

    target("W1: fast >= 10x reference", ratio(train, "W1", "float64", "fast"), 10)
    target("W2: fast >= 3x reference", ratio(train, "W2", "float64", "fast"), 3)
    t2 = ratio(train, "W2", "float64", "torch-2t", key="vs_fast")
    target("W2: fast faster than torch 2 threads (t_torch2 / t_fast)", None if t2 is None else 1 / t2, 1)
    target("W3 f64: fast >= 1.8x reference", ratio(train, "W3", "float64", "fast"), 1.8)
    target("W3 f32: fast >= 1.4x reference", ratio(train, "W3", "float32", "fast"), 1.4)
    f64 = next(
        (
            r["median_s"]
            for r in train
            if r["workload"] == "W3" and r["dtype"] == "float64" and r["contender"] == "fast"
        ),
        None,
    )
    f32 = next(
        (
            r["median_s"]
            for r in train
            if r["workload"] == "W3" and r["dtype"] == "float32" and r["contender"] == "fast"
        ),
        None,
    )
    target("W3: fast f32 >= 1.8x faster than fast f64 (medians)", f64 / f32 if f64 and f32 else None, 1.8)
    target("P1: 1 example on the W1 network, fast >= 3x reference", ratio(predict, "P1 W1 m=1", "float64", "fast"), 3)
    target(
        "P1: 10000 examples on the W3 network, fast >= 1.5x reference",
        ratio(predict, "P1 W3 m=10000", "float64", "fast"),
        1.5,
    )
    for m in PREDICT_SIZES:
        wl = f"P1 W1 m={m}"
        for peer, what in (
            ("numba", "the Numba loop"),
            ("onnxruntime", "ONNX Runtime"),
            ("torch-1t", "torch 1 thread"),
        ):
            if m != 1 and peer == "numba":
                continue
            r = ratio(predict, wl, "float64", peer, key="vs_fast")
            verb = "at least as fast as" if peer == "numba" else "faster than"
            target(f"{wl}: fast {verb} {what} (t_{peer} / t_fast)", None if r is None else 1 / r, 1)

    def est(n, name, key):
        return next((r[key] for r in estimator if r["rows"] == n and r["contender"] == name), None)

    for n, at_least in zip(ESTIMATOR_ROWS, (10, 1.5, 1.5)):
        target(
            f"EST {n} row{'s' if n > 1 else ''}: predict_proba >= {at_least}x MLPClassifier's (t_mlp / t_ours)",
            est(n, "ours", "vs_mlp"),
            at_least,
        )
    for n in ESTIMATOR_ROWS[1:]:
        target(
            f"EST {n} rows: default settings not slower than n_threads=1 (t_1t / t_default, 5% allowed for noise)",
            est(n, "ours", "vs_ours_1t"),
            0.95,
        )
    if sweep:
        worst = min(sweep, key=lambda r: r["fast_vs_reference"])
        target(
            f"sweep: fast never slower than reference (worst: n_h={worst['n_h']}, m={worst['m']})",
            worst["fast_vs_reference"],
            1,
        )
    return out


def _markdown(report):
    mi = report["machine"]
    lines = [
        f"# shallownet_fast benchmark report ({'quick' if report['quick'] else 'full'})",
        "",
        f"Made by `{REPRODUCE}` from the repository (the peers need the `bench` extra); "
        "`shallownet-fast bench` compares fast with the reference alone, with NumPy only.",
        "",
    ]
    lines += [
        f"- date: {mi['date']}; load average (1, 5, 15 min) at the start {mi['load_average']}, "
        f"at the end {report['load_average_end']}",
        f"- CPU: {mi['cpu']}, {mi['cores']} cores ({mi['usable_cores']} usable); {mi['platform']}",
        f"- Python {mi['python']}; " + ", ".join(f"{k} {v}" for k, v in mi["versions"].items() if v),
        f"- shallownet_fast kernels: {mi['shallownet_fast_kernels']}, thread team: {mi['team_enabled']}",
        "- environment: " + ", ".join(f"{k}={'unset' if v is None else v}" for k, v in mi["environment"].items()),
        "- BLAS and OpenMP libraries in use (threadpoolctl):",
    ]
    lines += [f"  - {_blas_line(e)}" for e in mi["blas"]] or ["  - (threadpoolctl not installed)"]
    for w in mi.get("torch_workers", []):
        lines.append(
            f"- {w['contender']} runs in a process of its own (torch {w['torch']}, {w['num_threads']} threads), with:"
        )
        lines += [f"  - {_blas_line(e)}" for e in w["libraries"]]
    others = report.get("other_cpu_cores")
    if others is not None:
        lines.append(f"- CPU used by other processes during the run: {others:.2f} cores on average (from /proc/stat)")
        if others > 0.2:
            lines.append(
                "- WARNING: other processes competed for the cores during the run; multi-threaded "
                "contenders suffer most (a descheduled BLAS thread stalls every product); "
                "treat these numbers with caution"
            )
    if report["missing"]:
        lines.append(f"- skipped (not installed): {', '.join(report['missing'])}")
    lines += [
        "",
        f"Medians over {report['repeats']} interleaved repeats (each repeat runs every contender once, "
        f"in a rotating order, after a {SETTLE_S} s pause that lets the previous contender's idle threads "
        "go to sleep). Ratios are medians of per-repeat ratios t_other / t_this: above 1 means this "
        "contender is faster.",
        "",
    ]

    train = [r for r in report["results"] if r["section"] == "train"]
    if train:
        lines += [
            "## Training (time per full-batch iteration)",
            "",
            "| workload | dtype | contender | threads | per iteration | vs reference | vs fast | agrees |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in train:
            c = r["check"]
            agree = (
                "yes"
                if c["ok"]
                else f"NO (param err {c['param_err']:.1e}, cost {c['cost']:.6g} vs {c['cost_ref']:.6g})"
            )
            lines.append(
                f"| {r['workload']} ({r['iterations']} it) | {SHORT[r['dtype']]} | {r['contender']} | "
                f"{r['threads']} | {_fmt_time(r['median_s'])} | {_fmt_ratio(r['vs_reference'])} | "
                f"{_fmt_ratio(r['vs_fast'])} | {agree} |"
            )
        lines.append("")
    pred = [r for r in report["results"] if r["section"] == "predict"]
    if pred:
        lines += [
            "## Prediction latency (P1, float64, time per call)",
            "",
            "| workload | contender | threads | per call | vs reference | vs fast | agrees |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in pred:
            agree = "yes" if r["check"]["ok"] else f"NO ({r['check']['mismatches']} labels differ)"
            lines.append(
                f"| {r['workload']} | {r['contender']} | {r['threads']} | {_fmt_time(r['median_s'])} | "
                f"{_fmt_ratio(r['vs_reference'])} | {_fmt_ratio(r['vs_fast'])} | {agree} |"
            )
        lines.append("")
    if report.get("estimator"):
        lines += [
            "## Estimator prediction: predict_proba against MLPClassifier on the same fitted network",
            "",
            "50 features, 64 tanh hidden units, 3 classes (softmax), float64, C-contiguous rows. ours: "
            "ShallowNetClassifier; mlp: MLPClassifier holding copies of its coefs_ and intercepts_. "
            "mlp / this: median of the per-repeat ratios t_mlp / t_this; peak: tracemalloc peak of one call "
            "above what was traced before it (NumPy's arrays, output included; not BLAS's own buffers).",
            "",
            "| rows | contender | threads | per call | mlp / this | 1t / this | peak memory | agrees |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in report["estimator"]:
            agree = "yes" if r["ok"] else f"NO (max diff {r['max_abs_diff']:.1e})"
            lines.append(
                f"| {r['rows']} | {r['contender']} | {r['threads']} | {_fmt_time(r['median_s'])} | "
                f"{_fmt_ratio(r['vs_mlp'])} | {_fmt_ratio(r['vs_ours_1t'])} | {_fmt_bytes(r['peak_bytes'])} | {agree} |"
            )
        n = ESTIMATOR_ROWS[-1]
        sizes = next((r for r in report["estimator"] if r["rows"] == n), None)
        if sizes:
            lines += [
                "",
                f"At {n} rows the input is {_fmt_bytes(sizes['input_bytes'])} and the output "
                f"{_fmt_bytes(sizes['output_bytes'])}.",
            ]
        lines.append("")
    if report["sweep"]:
        ms = sorted({x["m"] for x in report["sweep"]})
        lines += [
            f"## Sweep: fast vs reference per iteration (n_x={SWEEP_N_X}, float64, lr {SWEEP_LR})",
            "",
            "Speed-up of fast (t_reference / t_fast), then the two times per iteration.",
            "",
            "| n_h \\ m | " + " | ".join(str(m) for m in ms) + " |",
            "|---|" + "---|" * len(ms),
        ]
        for n_h in sorted({x["n_h"] for x in report["sweep"]}):
            cells = []
            for m in ms:
                r = next(x for x in report["sweep"] if x["n_h"] == n_h and x["m"] == m)
                flag = "" if r["check"]["ok"] else " (DISAGREES)"
                cells.append(
                    f"{_fmt_ratio(r['fast_vs_reference'])} ({_fmt_time(r['reference_s'])} -> "
                    f"{_fmt_time(r['fast_s'])}){flag}"
                )
            lines.append(f"| {n_h} | " + " | ".join(cells) + " |")
        lines.append("")
    if report["memory"]:
        lines += [
            f"## Peak memory of one nn_model call on W3 ({report['memory'][0]['iterations']} iterations, "
            "fresh process each)",
            "",
            "| dtype | implementation | peak RSS above the data | tracemalloc peak |",
            "|---|---|---|---|",
        ]
        for r in report["memory"]:
            lines.append(
                f"| {SHORT[r['dtype']]} | {r['impl']} | {r['rss_peak_bytes'] / 2**20:.1f} MiB | "
                f"{r['tracemalloc_peak_bytes'] / 2**20:.1f} MiB |"
            )
        lines += [
            "",
            f"RSS: {report['memory'][0]['rss_method']}. tracemalloc: "
            f"{report['memory'][0]['tracemalloc_method']} (NumPy reports its array data to tracemalloc; "
            "BLAS buffers are not counted).",
            "",
        ]
    if report["gil"]:
        lines += [
            "## Threads: two trainings in two Python threads vs one after the other (BLAS at 1 thread)",
            "",
            "| implementation | workload | iterations | sequential | two threads | ratio | same results |",
            "|---|---|---|---|---|---|---|",
        ]
        for g in report["gil"]:
            lines.append(
                f"| {g['impl']} | {g['workload']} | {g['k']} | {_fmt_time(g['sequential_s'])} | "
                f"{_fmt_time(g['threaded_s'])} | {_fmt_ratio(g['ratio'])} | {g['results_identical']} |"
            )
        lines.append("")
    if report["targets"]:
        lines += ["## Targets (reported, not asserted)", "", "| target | measured | met |", "|---|---|---|"]
        for t in report["targets"]:
            met = "-" if t["met"] is None else ("yes" if t["met"] else "NO")
            lines.append(f"| {t['target']} | {_fmt_ratio(t['measured'])} | {met} |")
        lines.append("")
    parts = ", ".join(f"{k} {v:.0f} s" for k, v in report.get("section_seconds", {}).items())
    lines.append(f"Total time: {report['elapsed_s']:.0f} s ({parts})")
    return "\n".join(lines) + "\n"


def _plot(report, path):
    """Bar charts (log scale) of training time per iteration and prediction latency; sweep speed-ups."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    train = [r for r in report["results"] if r["section"] == "train"]
    pred = [r for r in report["results"] if r["section"] == "predict"]
    panels = [p for p in (("train", train), ("predict", pred), ("sweep", report["sweep"])) if p[1]]
    if not panels:
        return None
    fig = Figure(figsize=(6.5 * len(panels), 5), layout="constrained")
    FigureCanvasAgg(fig)
    names = [n for n in PREDICT_CONTENDERS if any(r["contender"] == n for r in train + pred)]
    for ax, (kind, rows) in zip(fig.subplots(1, len(panels), squeeze=False)[0], panels):
        if kind == "sweep":
            for n_h in SWEEP_N_H:
                pts = sorted((r["m"], r["fast_vs_reference"]) for r in rows if r["n_h"] == n_h)
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=f"n_h={n_h}")
            ax.axhline(1.0, color="grey", lw=1, ls="--")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("m (examples)")
            ax.set_ylabel("fast speed-up over reference (x)")
            ax.set_title(f"Sweep, n_x={SWEEP_N_X}, float64")
            ax.legend()
            continue
        groups = []
        for r in rows:
            g = r["workload"] + ("" if kind == "predict" else f" {SHORT[r['dtype']]}")
            if g not in groups:
                groups.append(g)
        width = 0.8 / max(len(names), 1)
        for i, name in enumerate(names):
            xs, ys = [], []
            for j, g in enumerate(groups):
                for r in rows:
                    key = r["workload"] + ("" if kind == "predict" else f" {SHORT[r['dtype']]}")
                    if key == g and r["contender"] == name:
                        xs.append(j + (i - (len(names) - 1) / 2) * width)
                        ys.append(r["median_s"])
            ax.bar(xs, ys, width, label=name)
        ax.set_yscale("log")
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels([g.replace("P1 ", "").replace(" m=", "\nm=") for g in groups], fontsize=8)
        ax.set_ylabel("seconds per iteration" if kind == "train" else "seconds per call")
        ax.set_title("Training: time per iteration" if kind == "train" else "Prediction latency (P1)")
        ax.legend(fontsize=8)
    fig.suptitle(f"shallownet_fast on {report['machine']['cpu']} ({report['machine']['cores']} cores)")
    fig.savefig(path, dpi=110)
    return path


SECTIONS = ("W1", "W2", "W3", "P1", "EST", "SWEEP", "MEM", "GIL")
REPRODUCE = "python benches/report.py --out DIR"


def run_report(out_dir=None, quick=False, workloads=None, repeat=None, stream=None):
    """Run the benchmarks, print a markdown report and (with `out_dir`) write report.md, report.json, report.png.

    `workloads`: a subset of SECTIONS (default all).  `repeat`: interleaved repeats (default 3 quick, 5 full).
    Returns the report as a dict.
    """
    start = time.perf_counter()
    clock = _cpu_clock()
    selected = [s.upper() for s in (workloads or SECTIONS)]
    unknown = sorted(set(selected) - set(SECTIONS))
    if unknown:
        raise ValueError(f"unknown workloads {unknown}; choose from {', '.join(SECTIONS)}")
    repeats = int(repeat) if repeat else (3 if quick else 5)
    if repeats < 1:
        raise ValueError(f"repeat must be at least 1, got {repeats}")
    contenders, missing = [], []
    if set(selected) & {"W1", "W2", "W3", "P1"}:
        contenders, missing = _available_contenders()
    if "EST" in selected and not _has("sklearn"):
        missing.append("sklearn (EST)")
    try:
        machine = machine_info()
        machine["torch_workers"] = [
            {"contender": c.name, **c.info()} for c in contenders if isinstance(c, TorchProcess)
        ]
        seconds = {}

        def section(name, wanted, run):
            if not wanted:
                return []
            t0 = time.perf_counter()
            out = run()
            seconds[name] = round(time.perf_counter() - t0, 1)
            return out

        train = section(
            "training",
            bool(set(selected) & {"W1", "W2", "W3"}),
            lambda: _training_section(selected, quick, repeats, contenders),
        )
        pred = section("P1", "P1" in selected, lambda: _predict_section(quick, repeats, contenders))
        estimator = section(
            "estimator", "EST" in selected and _has("sklearn"), lambda: _estimator_section(quick, repeats)
        )
        sweep = section("sweep", "SWEEP" in selected, lambda: _sweep_section(quick, repeats))
        memory = section(
            "memory", "MEM" in selected and sys.platform.startswith("linux"), lambda: _memory_section(quick)
        )
        gil = section("threads", "GIL" in selected and _has("threadpoolctl"), lambda: _gil_section(quick, repeats))
    finally:
        for c in contenders:  # the torch workers end here: their CPU time then counts as ours
            c.close()
    report = {
        "quick": quick,
        "repeats": repeats,
        "workloads": selected,
        "missing": missing,
        "machine": machine,
        "results": train + pred,
        "sweep": sweep,
        "memory": memory,
        "gil": gil,
        "estimator": estimator,
        "targets": _targets(train, pred, sweep, gil, estimator),
        "section_seconds": seconds,
    }
    report["elapsed_s"] = time.perf_counter() - start
    report["load_average_end"] = _loadavg()
    report["other_cpu_cores"] = other_cpu_load(clock, _cpu_clock())
    text = _markdown(report)
    print(text, file=stream or sys.stdout, flush=True)
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, "report.md"), "w") as f:
            f.write(text)
        with open(os.path.join(out_dir, "report.json"), "w") as f:
            json.dump(report, f, indent=1, default=_json_default)
        if _has("matplotlib"):
            _plot(report, os.path.join(out_dir, "report.png"))
        else:
            _log("matplotlib is not installed: no chart")
        _log(f"wrote {out_dir}/report.md, report.json" + (", report.png" if _has("matplotlib") else ""))
    return report


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def _has(module):
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def add_arguments(parser):
    """The options of ``bench`` on an argparse parser (for the package's command line)."""
    parser.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="write report.md, report.json and report.png (with matplotlib) into DIR",
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer iterations and repeats, and no m=100000 in the sweep"
    )
    parser.add_argument(
        "--workloads",
        metavar="LIST",
        default=",".join(SECTIONS),
        help=f"comma-separated subset of {','.join(SECTIONS)} (default: all)",
    )
    parser.add_argument(
        "--repeat",
        metavar="N",
        type=int,
        default=None,
        help="interleaved repeats per measurement (default 3 with --quick, 5 otherwise)",
    )
    return parser


def main(args):
    """Run the report from parsed arguments (see :func:`add_arguments`); returns an exit status."""
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    run_report(out_dir=args.out, quick=args.quick, workloads=workloads, repeat=args.repeat)
    return 0


if __name__ == "__main__":
    # Run through the module `report` (not this __main__ copy), so that 'spawn' children find the
    # functions they run under their real names (they inherit this sys.path, with benches/ first).
    import report as _report

    _parser = argparse.ArgumentParser(prog="python benches/report.py", description=__doc__.split("\n")[0])
    _report.add_arguments(_parser)
    sys.exit(_report.main(_parser.parse_args()))

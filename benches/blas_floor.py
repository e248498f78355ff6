"""W3's training iteration against the time its two large products alone take in BLAS.

    python benches/blas_floor.py [--repeats 5] [--iterations 2]

For W3 (784 features, 256 hidden units, 20 000 examples) in float64 and
float32: the two large products of an iteration, W1 @ X and dZ1 @ X.T, run
alone into preallocated outputs through the kernels' own BLAS (SciPy's, by
way of _core.product_check and _core.gemm_check, BLAS at its default thread
count); then fast.nn_model and reference.nn_model, time per iteration.  The
three run interleaved, after a pause that lets the previous one's idle
threads sleep.  Prints one JSON line per dtype with the medians and the
ratios fast / floor (the "within 1.1x" of the Speed targets) and
reference / fast, and a line with the BLAS libraries in use.

Unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE in the command that runs it.
"""

import argparse
import json
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_info

from shallownet_fast import fast, reference
from shallownet_fast._dispatch import kernels

import report as bench

SETTLE_S = 0.3


def floor_and_training(dtype, repeats, iterations):
    p = bench.make_problem("W3", dtype)
    W1 = np.ascontiguousarray(p.params0["W1"])
    H = np.empty((W1.shape[0], p.X.shape[1]), p.X.dtype)
    dW1 = np.empty_like(W1)
    one, zero = p.X.dtype.type(1), p.X.dtype.type(0)

    def products():
        kernels.product_check(W1, p.X, H, True)  # W1 @ X
        kernels.gemm_check(False, True, H, p.X, one, zero, dW1)  # dZ1 @ X.T

    def train(module):
        module.nn_model(p.X, p.Y, p.n_h, iterations, learning_rate=p.learning_rate, parameters=p.params0)

    runs = {
        "products": (products, 1),
        "fast": (lambda: train(fast), iterations),
        "reference": (lambda: train(reference), iterations),
    }
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, (run, per) in runs.items():
            time.sleep(SETTLE_S)
            start = time.perf_counter()
            run()
            times[name].append((time.perf_counter() - start) / per)
    med = {name: statistics.median(t) for name, t in times.items()}
    return {
        "dtype": dtype,
        "median_ms": {name: round(t * 1e3, 1) for name, t in med.items()},
        "fast_over_products": round(med["fast"] / med["products"], 3),
        "reference_over_fast": round(med["reference"] / med["fast"], 3),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=2)
    args = parser.parse_args()
    for dtype in ("float64", "float32"):
        print(json.dumps(floor_and_training(dtype, args.repeats, args.iterations)), flush=True)
    blas = [
        (i["internal_api"], i["version"], i.get("architecture"), i["num_threads"], i["filepath"])
        for i in threadpool_info()
        if i["user_api"] == "blas"
    ]
    print(json.dumps({"kernels": fast._core.__name__, "blas": blas}))


if __name__ == "__main__":
    main()

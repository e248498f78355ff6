"""Fit time of ShallowNetClassifier / ShallowNetRegressor against MLPClassifier / MLPRegressor, same settings.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benches/fit_time.py [--repeats 5]
        [--threads default|1|2] [--reference] [--json results.json]

The grid: classifier and regressor x solvers lbfgs, sgd, adam x three data sets
(the flower, 400 x 2, 2 classes; 10 000 x 20, 3 classes; 5000 x 784, digits
upsampled to 28 x 28 with noise, 10 classes), 100 hidden relu units, float64,
alpha 1e-4, learning rate 0.001, batches of 200, tol=0 and a large
n_iter_no_change so that every epoch (every lbfgs iteration) runs.  The classifier's targets are the data set's classes;
the regressor's a noisy smooth function of X.  MLP and ours are built from the
same parameters (``ShallowNet*(**mlp.get_params())``).

In each cell of the grid the contenders run interleaved, in alternating order,
after one warm-up round; the script prints the machine (CPU, BLAS libraries
and their thread counts, load average before and after), one JSON line per
cell with the median fit times and the ratio MLP time / ours (above 1: ours is
faster), and a Markdown table of the ratios.
"""

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np
from scipy.ndimage import zoom
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from shallownet_fast import ShallowNetClassifier, ShallowNetRegressor  # noqa: E402
from shallownet_fast.datasets import load_planar_dataset  # noqa: E402

from report import machine_info  # noqa: E402

SOLVERS = ("lbfgs", "sgd", "adam")
# Epochs of sgd and adam, iterations of lbfgs, per data set: fits of about 0.05-2 s.
BUDGETS = {
    "flower": {"sgd": 200, "adam": 200, "lbfgs": 200},
    "10000x20": {"sgd": 20, "adam": 20, "lbfgs": 20},
    "5000x784": {"sgd": 10, "adam": 10, "lbfgs": 10},
}


def _regression_target(X, rng):
    """A noisy smooth function of X, standardised."""
    w = rng.standard_normal(X.shape[1]) / np.sqrt(X.shape[1])
    y = np.sin(3 * X @ w) + 0.5 * np.tanh(X[:, 0]) + 0.1 * rng.standard_normal(X.shape[0])
    return (y - y.mean()) / y.std()


def problems():
    """(key, description, X, classes, regression target) for the three data sets."""
    rng = np.random.default_rng(0)
    X, Y = load_planar_dataset()
    X = X.T.copy()
    yield "flower", "flower, 400 x 2", X, Y.ravel(), _regression_target(X, rng)
    X = rng.standard_normal((10_000, 20))
    w = rng.standard_normal((20, 3))
    y = np.argmax(np.tanh(X @ w) + 0.3 * rng.standard_normal((10_000, 3)), axis=1)
    yield "10000x20", "10,000 x 20", X, y, _regression_target(X, rng)
    digits = load_digits()
    idx = rng.integers(0, len(digits.images), 5000)
    images = zoom(digits.images, (1, 3.5, 3.5), order=1)  # (1797, 28, 28)
    X = images[idx].reshape(5000, -1) / 16 + 0.05 * rng.standard_normal((5000, 784))
    yield "5000x784", "5000 x 784, digits upsampled", X, digits.target[idx], _regression_target(X, rng)


def time_cell(makers, X, y, repeats):
    """Median fit time of each contender over `repeats` interleaved rounds (order alternating), after a warm-up."""
    times = {k: [] for k in makers}
    names = list(makers)
    for r in range(repeats + 1):  # round 0 warms up
        for k in names if r % 2 else names[::-1]:
            est = makers[k]()
            start = time.perf_counter()
            est.fit(X, y)
            if r:
                times[k].append(time.perf_counter() - start)
    return {k: float(np.median(v)) for k, v in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", default="default", help="BLAS threads for every contender (default: BLAS's own)")
    parser.add_argument("--reference", action="store_true", help="also time backend='reference'")
    parser.add_argument("--json", help="write the machine and the rows to this file")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    if args.threads != "default":
        threadpool_limits(int(args.threads))
    machine = machine_info()
    blas = [
        {k: e.get(k) for k in ("library", "internal_api", "version", "architecture", "num_threads")}
        for e in machine["blas"]
    ]
    print(json.dumps({"cpu": machine["cpu"], "cores": machine["cores"], "threads": args.threads, "blas": blas}))
    print(json.dumps({"versions": machine["versions"], "kernels": machine["shallownet_fast_kernels"]}))
    print(json.dumps({"dtype": "float64", "load_average_before": machine["load_average"]}), flush=True)
    contenders = ("fast", "reference") if args.reference else ("fast",)
    rows = []
    for key, description, X, classes, target in problems():
        for kind, mlp_class, ours_class, y in (
            ("classifier", MLPClassifier, ShallowNetClassifier, classes),
            ("regressor", MLPRegressor, ShallowNetRegressor, target),
        ):
            for solver in SOLVERS:
                budget = BUDGETS[key][solver]
                settings = dict(
                    hidden_layer_sizes=(100,),
                    activation="relu",
                    solver=solver,
                    alpha=1e-4,
                    learning_rate_init=0.001,
                    batch_size=200,
                    max_iter=budget,
                    tol=0.0,
                    n_iter_no_change=100_000,
                    random_state=0,
                )
                params = mlp_class(**settings).get_params()
                makers = {"mlp": lambda p=params, c=mlp_class: c(**p)}
                for backend in contenders:
                    makers[backend] = lambda p=params, b=backend, c=ours_class: c(**p, backend=b)
                med = time_cell(makers, X, y, args.repeats)
                row = dict(estimator=kind, data=description, solver=solver, iterations=budget)
                row.update({f"{k}_s": round(v, 5) for k, v in med.items()})
                row.update({f"ratio_{b}": round(med["mlp"] / med[b], 3) for b in contenders})
                rows.append(row)
                print(json.dumps(row), flush=True)
    load_after = os.getloadavg()
    print(json.dumps({"load_average_after": [round(x, 2) for x in load_after]}))
    print()
    print("| estimator | data | solver | epochs / iterations | MLP | fast | ratio |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['estimator']} | {r['data']} | {r['solver']} | {r['iterations']} | {r['mlp_s']:.3f} s "
            f"| {r['fast_s']:.3f} s | {r['ratio_fast']:.2f} |"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {"machine": machine, "threads": args.threads, "rows": rows, "load_after": load_after}, f, indent=1
            )


if __name__ == "__main__":
    main()

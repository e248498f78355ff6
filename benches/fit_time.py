"""Fit time of ShallowNetClassifier against MLPClassifier, same settings.

    python benches/fit_time.py [--repeats 5] [--threads default|1|2]

Three problems (the flower, 10 000 x 20 with 3 classes, 5000 x 784 digits
upsampled to 28 x 28 with noise, 10 classes), solvers sgd and adam, 100 hidden
relu units, learning rate 0.001, batches of 200, tol=0 so that every epoch
runs. The contenders run interleaved after one warm-up round; the script
prints one JSON line per problem and solver with the median fit times and the
ratios MLPClassifier time / ours (above 1: ours is faster).
"""

import argparse
import json
import time
import warnings

import numpy as np
from scipy.ndimage import zoom
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from shallownet_fast import ShallowNetClassifier
from shallownet_fast.datasets import load_planar_dataset


def problems():
    X, Y = load_planar_dataset()
    yield "flower 400 x 2, 2 classes", X.T.copy(), Y.ravel(), 200
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10_000, 20))
    w = rng.standard_normal((20, 3))
    y = np.argmax(np.tanh(X @ w) + 0.3 * rng.standard_normal((10_000, 3)), axis=1)
    yield "10 000 x 20, 3 classes", X, y, 20
    digits = load_digits()
    idx = rng.integers(0, len(digits.images), 5000)
    images = zoom(digits.images, (1, 3.5, 3.5), order=1)  # (1797, 28, 28)
    X = images[idx].reshape(5000, -1) / 16 + 0.05 * rng.standard_normal((5000, 784))
    yield "5000 x 784 (digits upsampled), 10 classes", X, digits.target[idx], 10


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", default="default", help="BLAS threads for every contender (default: BLAS's own)")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    if args.threads != "default":
        threadpool_limits(int(args.threads))
    print("BLAS threads:", args.threads)
    for name, X, y, epochs in problems():
        for solver in ("sgd", "adam"):
            common = dict(
                solver=solver, max_iter=epochs, tol=0.0, n_iter_no_change=100_000, random_state=0, batch_size=200
            )
            makers = {
                "mlp": lambda kw=common: MLPClassifier(hidden_layer_sizes=(100,), learning_rate_init=0.001, **kw),
                "fast": lambda kw=common: ShallowNetClassifier((100,), learning_rate_init=0.001, backend="fast", **kw),
                "reference": lambda kw=common: ShallowNetClassifier(
                    (100,), learning_rate_init=0.001, backend="reference", **kw
                ),
            }
            times = {k: [] for k in makers}
            for r in range(args.repeats + 1):  # round 0 warms up
                for k, make in makers.items():
                    est = make()
                    start = time.perf_counter()
                    est.fit(X, y)
                    if r:
                        times[k].append(time.perf_counter() - start)
            med = {k: float(np.median(v)) for k, v in times.items()}
            row = dict(
                problem=name,
                solver=solver,
                epochs=epochs,
                **{f"{k}_s": v for k, v in med.items()},
                ratio_fast=med["mlp"] / med["fast"],
                ratio_reference=med["mlp"] / med["reference"],
            )
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()

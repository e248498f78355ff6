"""Where BLAS starts to beat the kernels' loop nest for out := W @ X.

    python benches/crossover.py [--dtype float64] [--threads 1]

For each W of shape (rows, K) and X of shape (K, m), times the two ways of
computing the product interleaved (loop, BLAS, loop, BLAS, ...), prints the
median ratio loop/BLAS (above 1: BLAS is faster) and, per m, the smallest
rows * K from which BLAS wins everywhere.  shallownet_fast._kernels uses one
threshold on rows * K (BLAS_MIN_WORK) chosen from this table.
"""

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from shallownet_fast import kernel_variant
from shallownet_fast._dispatch import kernels


def _median_ratio(W, X, out, repeats):
    t_loop, t_blas = [], []
    for _ in range(repeats):
        for blas, times in ((False, t_loop), (True, t_blas)):
            start = time.perf_counter()
            kernels.product_check(W, X, out, blas)
            times.append(time.perf_counter() - start)
    return float(np.median(t_loop) / np.median(t_blas))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    parser.add_argument("--repeats", type=int, default=31)
    args = parser.parse_args()
    dtype = np.dtype(args.dtype)
    rng = np.random.default_rng(0)
    blas = [(i["internal_api"], i["version"], i.get("architecture"), i["num_threads"]) for i in threadpool_info()]
    print(f"kernels: {kernel_variant}, dtype {dtype}, BLAS threads {args.threads}, BLAS {blas}")
    rows_list, k_list = [1, 2, 4, 8, 16, 32, 64, 256], [1, 2, 4, 8, 16, 32, 64, 256]
    with threadpool_limits(args.threads, user_api="blas"):
        for m in (400, 10000):
            print(f"\nm = {m}: loop time / BLAS time (rows down, K across)")
            print("rows\\K " + " ".join(f"{k:>6}" for k in k_list))
            wins = {}
            for rows in rows_list:
                cells = []
                for K in k_list:
                    W = rng.standard_normal((rows, K)).astype(dtype)
                    X = rng.standard_normal((K, m)).astype(dtype)
                    out = np.empty((rows, m), dtype)
                    ratio = _median_ratio(W, X, out, args.repeats)
                    wins[rows * K] = wins.get(rows * K, True) and ratio > 1
                    cells.append(f"{ratio:6.2f}")
                print(f"{rows:>6} " + " ".join(cells))
            work = sorted(wins)
            first = next((w for w in work if all(wins[v] for v in work if v >= w)), None)
            print(f"BLAS wins from rows * K = {first} on")


if __name__ == "__main__":
    main()

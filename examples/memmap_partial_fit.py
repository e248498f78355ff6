"""Train ShallowNetClassifier on data larger than memory: partial_fit over chunks of a memory map.

The data lives in a .npy file opened with ``np.load(..., mmap_mode="r")``:
the operating system pages it in as the chunks are read, and each
``partial_fit`` call copies only its chunk (transposed, in the network's
dtype).  Memory therefore grows with the chunk size, not with the file.  The
script writes a synthetic data set block by block (it is never whole in
memory either), trains a few epochs over shuffled chunks, scores a held-out
part, and reports the peak of Python's traced allocations next to the file's
size.

    python examples/memmap_partial_fit.py                       # 1,000,000 x 20 float32, 80 MB
    python examples/memmap_partial_fit.py --rows 5000000 --dir /data/tmp

Needs scikit-learn: pip install "shallownet_fast[sklearn]".
"""

import argparse
import os
import tempfile
import time
import tracemalloc

import numpy as np

from shallownet_fast import ShallowNetClassifier


def write_dataset(directory, n_rows, n_features, seed=0, block=100_000):
    """X.npy (float32) and y.npy (int8) in `directory`, written block by block; a nonlinear 3-class rule."""
    rng = np.random.default_rng(seed)
    create = np.lib.format.open_memmap
    X = create(os.path.join(directory, "X.npy"), mode="w+", dtype=np.float32, shape=(n_rows, n_features))
    y = create(os.path.join(directory, "y.npy"), mode="w+", dtype=np.int8, shape=(n_rows,))
    w1, w2 = rng.standard_normal((2, n_features))
    for start in range(0, n_rows, block):
        stop = min(n_rows, start + block)
        xb = rng.standard_normal((stop - start, n_features)).astype(np.float32)
        s = np.tanh(xb @ w1) + 0.5 * (xb @ w2) ** 2 / n_features
        X[start:stop] = xb
        y[start:stop] = np.digitize(s, [-0.3, 0.6])
    X.flush()
    y.flush()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--chunk", type=int, default=20_000, help="rows per partial_fit call")
    parser.add_argument("--epochs", type=int, default=3, help="passes over the training chunks")
    parser.add_argument("--backend", choices=("fast", "reference"), default="fast")
    parser.add_argument("--dir", default=None, help="where to write the data (a temporary directory by default)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(dir=args.dir) as directory:
        t0 = time.perf_counter()
        write_dataset(directory, args.rows, args.features)
        X = np.load(os.path.join(directory, "X.npy"), mmap_mode="r")
        y = np.load(os.path.join(directory, "y.npy"), mmap_mode="r")
        print(
            f"data: {X.shape[0]:,} x {X.shape[1]} {X.dtype} memory map, {X.nbytes / 2**20:.1f} MiB "
            f"(written in {time.perf_counter() - t0:.1f} s)"
        )

        n_test = args.rows // 10  # the last tenth is held out
        starts = np.arange(0, args.rows - n_test, args.chunk)
        clf = ShallowNetClassifier(
            hidden_layer_sizes=(64,), learning_rate_init=0.002, backend=args.backend, random_state=0
        )
        rng = np.random.default_rng(0)

        tracemalloc.start()
        t0 = time.perf_counter()
        for epoch in range(1, args.epochs + 1):
            for start in rng.permutation(starts):  # chunks in a new order each epoch
                stop = min(start + args.chunk, args.rows - n_test)
                clf.partial_fit(X[start:stop], y[start:stop], classes=[0, 1, 2])
            print(f"epoch {epoch}: mean chunk loss {np.mean(clf.loss_curve_[-len(starts) :]):.4f}")
        train_time = time.perf_counter() - t0
        _, train_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        accuracy = clf.score(X[-n_test:], y[-n_test:])  # predictions run over row blocks too
        _, predict_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        print(f"trained on {clf.t_:,} samples in {train_time:.1f} s; held-out accuracy {accuracy:.3f}")
        print(
            f"peak traced memory: training {train_peak / 2**20:.1f} MiB, prediction {predict_peak / 2**20:.1f} MiB, "
            f"for a {X.nbytes / 2**20:.1f} MiB memory map"
        )
        del X, y  # close the maps before the directory goes


if __name__ == "__main__":
    main()

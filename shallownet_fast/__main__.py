"""Command line: ``python -m shallownet_fast demo`` (or ``shallownet-fast demo``)."""

import argparse
import sys
import time

import numpy as np

from . import _validation as v
from . import datasets, fast, reference


def _demo(args):
    X, Y = datasets.load_planar_dataset()
    print(
        f"The flower: X {X.shape}, Y {Y.shape}; n_h = {args.hidden}, {args.iterations} iterations, "
        f"learning rate {args.learning_rate}, {args.activation} hidden layer, seed {args.seed}\n"
    )
    times = {}
    for name, module in (("reference", reference), ("fast", fast)):
        print(f"[{name}]")
        start = time.perf_counter()
        params = module.nn_model(
            X, Y, args.hidden, args.iterations, learning_rate=args.learning_rate,
            activation=args.activation, seed=args.seed, print_cost=True,
        )  # fmt: skip
        times[name] = time.perf_counter() - start
        accuracy = float(np.mean(module.predict(params, X, activation=args.activation) == Y))
        print(f"accuracy {accuracy:.2%}, {times[name]:.3f} s ({times[name] / max(args.iterations, 1) * 1e6:.1f} us per iteration)\n")
    print(f"fast is {times['reference'] / times['fast']:.1f}x faster than reference")
    return 0


def _parser():
    parser = argparse.ArgumentParser(prog="shallownet-fast", description="A one-hidden-layer neural network, twice.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="train the flower with both implementations and compare them")
    demo.add_argument("--hidden", type=int, default=4, help="hidden units (default 4)")
    demo.add_argument("--iterations", type=int, default=10000, help="gradient steps (default 10000)")
    demo.add_argument("--learning-rate", type=float, default=1.2, help="default 1.2")
    demo.add_argument("--activation", choices=v.ACTIVATIONS, default="tanh")
    demo.add_argument("--seed", type=int, default=0, help="initialisation seed (default 0)")
    demo.set_defaults(run=_demo)
    return parser


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, TypeError) as exc:
        print(f"shallownet-fast: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""Command line: ``shallownet-fast SUBCOMMAND`` or ``python -m shallownet_fast SUBCOMMAND``.

Subcommands:

- ``demo``: train a course data set (the flower by default) with both
  implementations and compare them; ``--plot`` / ``--cost-plot`` save the
  decision boundary and the cost curve.
- ``sweep``: the course's hidden-layer-size experiment, an accuracy table in
  markdown; ``--plot`` saves the grid of decision boundaries.
- ``train DATA --label COLUMN --out MODEL.npz``: fit a network on a CSV or
  .npy file and write a model file (:mod:`shallownet_fast._modelfile`, the
  format ``ShallowNetClassifier.load`` reads).
- ``predict MODEL.npz DATA --out PRED.csv``: the predicted class of every
  example, with a model written by ``train`` or ``ShallowNetClassifier.save``.
- ``bench``: the benchmark report of :mod:`shallownet_fast.bench`.

Exit status: 0 on success; 2 for a wrong argument or an unreadable or invalid
file, or a request larger than memory; 1 when an optional package a
subcommand needs (scikit-learn, matplotlib) is missing; 130 when interrupted.
Every error is one line on stderr, never a traceback.  An output file is
never one of the inputs, and is replaced only once it is complete.
"""

import argparse
import os
import sys

import numpy as np

from .. import _validation, datasets
from ._commands import (
    COURSE_HIDDEN_SIZES,
    IMPLEMENTATIONS,
    PROG,
    _bench,
    _demo,
    _predict,
    _sweep,
    _train,
)

__all__ = ["COURSE_HIDDEN_SIZES", "PROG", "main"]


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (and exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive_int(text):
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _nonnegative_int(text):
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {value}")
    return value


def _int(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _sizes(text):
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"hidden sizes must be integers of at least 1, got {text!r}")
    return sizes


def _add_training_options(p, hidden=True, iterations=10000):
    if hidden:
        p.add_argument("--hidden", type=_positive_int, default=4, metavar="N_H", help="hidden units (default 4)")
    p.add_argument(
        "--iterations",
        type=_nonnegative_int,
        default=iterations,
        metavar="N",
        help=f"gradient steps (default {iterations})",
    )
    p.add_argument("--learning-rate", type=_positive_float, default=1.2, metavar="LR", help="default 1.2")
    p.add_argument(
        "--activation", choices=_validation.ACTIVATIONS, default="tanh", help="hidden activation (default tanh)"
    )
    p.add_argument("--seed", type=_int, default=0, help="initialisation seed (default 0)")


def _add_dataset_option(p):
    p.add_argument(
        "--dataset",
        choices=datasets.DATASETS,
        default="flower",
        help="the flower (default) or one of the course's extra data sets (these need scikit-learn)",
    )


def _parser():
    parser = _Parser(
        prog=PROG,
        description="A one-hidden-layer neural network, twice.",
        epilog="Exit status: 0 success, 1 a missing optional package, 2 a wrong argument or file.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="train the flower (or --dataset) with both implementations and compare them")
    _add_training_options(demo)
    _add_dataset_option(demo)
    demo.add_argument("--plot", metavar="PATH", help="save the decision boundary (PNG) of the fast network")
    demo.add_argument("--cost-plot", metavar="PATH", help="save the cost of every iteration (PNG)")
    demo.set_defaults(run=_demo)

    sweep = sub.add_parser("sweep", help="the course's hidden-layer-size experiment: an accuracy table")
    sweep.add_argument(
        "--hidden-sizes",
        type=_sizes,
        default=list(COURSE_HIDDEN_SIZES),
        metavar="LIST",
        help="comma-separated hidden sizes (default 1,2,3,4,5,20,50)",
    )
    _add_training_options(sweep, hidden=False, iterations=5000)
    _add_dataset_option(sweep)
    sweep.add_argument("--implementation", choices=tuple(IMPLEMENTATIONS), default="fast", help="default fast")
    sweep.add_argument("--plot", metavar="PATH", help="save the grid of decision boundaries (PNG)")
    sweep.set_defaults(run=_sweep)

    train = sub.add_parser(
        "train",
        help="fit a network on a CSV or .npy file and save it (.npz)",
        description="Fit a network on a CSV file (header row; numeric features; labels numbers "
        "or strings) or a .npy file (2-D array, label column by index). Features are "
        "standardised; two classes give one sigmoid output, more a softmax.",
    )
    train.add_argument("data", metavar="DATA", help="CSV file with a header row, or .npy file")
    train.add_argument(
        "--label", required=True, metavar="COLUMN", help="the label column: a name, or an index (the only way for .npy)"
    )
    train.add_argument("--out", required=True, metavar="MODEL.npz", help="where to write the model")
    _add_training_options(train)
    train.add_argument("--quiet", action="store_true", help="no progress line")
    train.set_defaults(run=_train)

    predict = sub.add_parser(
        "predict",
        help="predict the class of every example of a file with a saved model",
        description="Write one predicted class name per line, under a header naming the label "
        "column. The data file needs the model's feature columns; its label column, if "
        "present, is used to report the accuracy.",
    )
    predict.add_argument("model", metavar="MODEL.npz", help="a model written by train")
    predict.add_argument("data", metavar="DATA", help="CSV file with a header row, or .npy file")
    predict.add_argument(
        "--out", metavar="PRED.csv", default=None, help="where to write the predictions (default: stdout)"
    )
    predict.add_argument(
        "--label",
        metavar="COLUMN",
        default=None,
        help="the data's label column, to report the accuracy (default: the model's, if it names one)",
    )
    predict.set_defaults(run=_predict)

    bench = sub.add_parser("bench", add_help=False, help="the benchmark report (see: bench --help)")
    bench.set_defaults(run=None)
    return parser


def _version():
    from .. import __version__

    return __version__


def _message(exc):
    if isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.filename}: {exc.strerror}" if exc.filename is not None else exc.strerror
    elif isinstance(exc, KeyError) and exc.args:
        text = str(exc.args[0])
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def main(argv=None):
    """Run the command line.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program's name (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 success, 1 a missing optional package, 2 a wrong
        argument or an unreadable or invalid file, 130 interrupted.
    """
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "bench":
        prog = f"{PROG} {args.command}"
        parser.exit(2, f"{prog}: error: unrecognized arguments: {' '.join(extra)} (see {prog} --help)\n")
    try:
        if args.command == "bench":
            return _bench(args, extra, _Parser)
        return args.run(args)
    except BrokenPipeError:  # the reader of stdout went away (`... | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except ImportError as exc:
        print(f"{PROG}: error: {_message(exc)}", file=sys.stderr)
        return 1
    except (OSError, ValueError, TypeError, KeyError, FloatingPointError) as exc:
        print(f"{PROG}: error: {_message(exc)}", file=sys.stderr)
        return 2
    except MemoryError as exc:  # NumPy's says how much it asked for
        detail = _message(exc) if str(exc) else "a request larger than the memory available"
        print(f"{PROG}: error: out of memory: {detail}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130

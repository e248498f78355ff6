"""Command line: ``shallownet-fast SUBCOMMAND`` or ``python -m shallownet_fast SUBCOMMAND``.

Subcommands:

- ``demo``: train a course data set (the flower by default) with both
  implementations and compare them; ``--plot`` / ``--cost-plot`` save the
  decision boundary and the cost curve.
- ``sweep``: the course's hidden-layer-size experiment, an accuracy table in
  markdown; ``--plot`` saves the grid of decision boundaries.
- ``train DATA --label COLUMN --out MODEL.npz``: fit a ShallowNetClassifier
  on a CSV or .npy file, score it on a held-out part, and write a model file
  (:mod:`shallownet_fast._modelfile`, the format ``ShallowNetClassifier.load``
  reads).
- ``predict MODEL.npz DATA --out PRED.csv``: the predicted class (``--proba``:
  the class probabilities) of every example, with a model written by
  ``train`` or ``ShallowNetClassifier.save``.
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
    TRAIN_SOLVERS,
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


def _nonnegative_float(text):
    value = _float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {text!r}")
    return value


def _open_fraction(text):
    value = _float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (both excluded), got {text!r}")
    return value


def _test_fraction(text):
    value = _float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 0 and less than 1, got {text!r}")
    return value


def _float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def _seed(text):
    value = _int(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be an integer in [0, 2**32), got {value}")
    return value


def _schedule(text):
    if text in _validation.LEARNING_RATE_SCHEDULES:
        return text
    hint = ""
    try:
        float(text)
        hint = " (the step size is --learning-rate-init)"
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(
        f"the schedule must be one of {', '.join(_validation.LEARNING_RATE_SCHEDULES)}, got {text!r}{hint}"
    )


def _names(text):
    names = [s.strip() for s in text.split(",")]
    if not text.strip() or not all(names):
        raise argparse.ArgumentTypeError(f"a comma-separated list of column names expected, got {text!r}")
    return names


def _delimiter(text):
    value = {"\\t": "\t", "tab": "\t"}.get(text, text)
    if len(value) != 1 or value in '"\r\n' or value.isalnum() or value in ".+-":
        raise argparse.ArgumentTypeError(
            f"one character that cannot be part of a number (\\t or tab for a tab), got {text!r}"
        )
    return value


def _add_column_options(p):
    p.add_argument(
        "--features", type=_names, metavar="A,B,C", help="the feature columns, by name (default: all but the label)"
    )
    p.add_argument("--drop", type=_names, metavar="A,B", help="columns that are not features, by name")
    p.add_argument(
        "--delimiter",
        type=_delimiter,
        default=",",
        metavar="CHAR",
        help='the CSV delimiter, of the data and of the predictions (default ","; \\t or tab for a tab)',
    )


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
        description="Fit a ShallowNetClassifier on a CSV file (header row; numeric features; labels "
        "numbers or strings) or a .npy file (2-D array, label column by index). A held-out part "
        "(--test-size) is set aside and scored; the features are standardised on the rest, and the "
        "standardisation is folded into the saved network's first layer (the file holds no optimizer "
        "state: it belongs to the standardised problem). Options left out take the estimator's "
        "defaults (MLPClassifier's).",
    )
    train.add_argument("data", metavar="DATA", help="CSV file with a header row, or .npy file")
    train.add_argument(
        "--label", required=True, metavar="COLUMN", help="the label column: a name, or an index (the only way for .npy)"
    )
    train.add_argument("--out", required=True, metavar="MODEL.npz", help="where to write the model")
    _add_column_options(train)
    train.add_argument("--hidden", type=_positive_int, metavar="N_H", help="hidden units (default 100)")
    train.add_argument("--activation", choices=_validation.ACTIVATIONS, help="hidden activation (default relu)")
    train.add_argument("--solver", choices=TRAIN_SOLVERS, help="default adam; gd: full-batch gradient descent")
    train.add_argument(
        "--batch-size", type=_positive_int, metavar="N", help="examples per step of sgd and adam (default min(200, m))"
    )
    train.add_argument(
        "--learning-rate",
        type=_schedule,
        metavar="SCHEDULE",
        help="the step-size schedule of sgd and gd: constant (default), invscaling or adaptive",
    )
    train.add_argument(
        "--learning-rate-init", type=_positive_float, metavar="LR", help="the (initial) step size (default 0.001)"
    )
    train.add_argument("--max-iter", type=_positive_int, metavar="N", help="epochs (lbfgs: iterations; default 200)")
    train.add_argument("--alpha", type=_nonnegative_float, metavar="A", help="L2 penalty (default 0.0001)")
    train.add_argument(
        "--tol", type=_nonnegative_float, metavar="TOL", help="the stopping rule's tolerance (default 0.0001)"
    )
    train.add_argument(
        "--n-iter-no-change",
        type=_positive_int,
        metavar="N",
        help="epochs without improvement before stopping (default 10)",
    )
    train.add_argument(
        "--early-stopping",
        action="store_true",
        help="stop on the score of a validation part of the training data (sgd, adam, gd)",
    )
    train.add_argument(
        "--validation-fraction",
        type=_open_fraction,
        metavar="F",
        help="the validation part of --early-stopping (default 0.1)",
    )
    train.add_argument(
        "--test-size",
        type=_test_fraction,
        default=0.2,
        metavar="F",
        help="the held-out part scored after training (default 0.2; 0 for none): seeded, stratified when "
        "every class has two examples or more",
    )
    train.add_argument("--seed", type=_seed, default=0, help="the seed of the split and of the training (default 0)")
    train.add_argument("--quiet", action="store_true", help="no progress line")
    train.set_defaults(run=_train)

    predict = sub.add_parser(
        "predict",
        help="predict the class of every example of a file with a saved model",
        description="Write one predicted class name per line (with --proba: one probability column per "
        "class), under a header naming the label column (the classes). The data file needs the model's "
        "feature columns; its label column, if present, is used to report the accuracy.",
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
    predict.add_argument("--proba", action="store_true", help="write the probability of every class, one column each")
    _add_column_options(predict)
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

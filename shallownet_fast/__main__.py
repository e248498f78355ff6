"""Command line: ``shallownet-fast SUBCOMMAND`` or ``python -m shallownet_fast SUBCOMMAND``.

Subcommands:

- ``demo``: train a course data set (the flower by default) with both
  implementations and compare them; ``--plot`` / ``--cost-plot`` save the
  decision boundary and the cost curve.
- ``sweep``: the course's hidden-layer-size experiment, an accuracy table in
  markdown; ``--plot`` saves the grid of decision boundaries.
- ``train DATA --label COLUMN --out MODEL.npz``: fit a network on a CSV or
  .npy file.
- ``predict MODEL.npz DATA --out PRED.csv``: the predicted class of every example.
- ``bench``: the benchmark report of :mod:`shallownet_fast.bench`.

Exit status: 0 on success; 2 for a wrong argument or an unreadable or invalid
file; 1 when an optional package a subcommand needs (scikit-learn,
matplotlib) is missing; 130 when interrupted.  Every error is one line on
stderr, never a traceback.
"""

import argparse
import os
import sys
import time

import numpy as np

from . import _validation, datasets, fast, reference
from . import io as snio

PROG = "shallownet-fast"
COURSE_HIDDEN_SIZES = (1, 2, 3, 4, 5, 20, 50)
TRAIN_CHUNK = 1000  # iterations per nn_model call in `train`, between two progress updates
IMPLEMENTATIONS = {"reference": reference, "fast": fast}


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


def _check_image_paths(*paths):
    """Fail before any training when a requested picture could not be written."""
    from . import plots

    for path in paths:
        if path is not None:
            plots.check_output_path(path)


def _check_output_file(path):
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ValueError(f"cannot write {path}: no directory {directory}")


def _predictor(module, params, activation):
    """predict(P) for points P of shape (2, k), as the plots want it."""
    return lambda P: module.predict(params, P, activation=activation)


def _accuracy(module, params, X, Y, activation):
    return float(np.mean(module.predict(params, X, activation=activation) == Y))


def _dataset_title(name):
    return "The flower" if name == "flower" else f"The {name} data set"


# ------------------------------------------------------------------ demo


def _demo(args):
    _check_image_paths(args.plot, args.cost_plot)
    X, Y = datasets.load_dataset(args.dataset)
    print(
        f"{_dataset_title(args.dataset)}: X {X.shape}, Y {Y.shape}; n_h = {args.hidden}, {args.iterations} iterations, "
        f"learning rate {args.learning_rate}, {args.activation} hidden layer, seed {args.seed}\n"
    )
    times, trained = {}, {}
    for name, module in IMPLEMENTATIONS.items():
        print(f"[{name}]")
        start = time.perf_counter()
        params = module.nn_model(
            X, Y, args.hidden, args.iterations, learning_rate=args.learning_rate,
            activation=args.activation, seed=args.seed, print_cost=True,
        )  # fmt: skip
        times[name] = time.perf_counter() - start
        trained[name] = params
        accuracy = _accuracy(module, params, X, Y, args.activation)
        print(f"accuracy {accuracy:.2%}, {times[name]:.3f} s ({times[name] / max(args.iterations, 1) * 1e6:.1f} us per iteration)\n")
    print(f"fast is {times['reference'] / times['fast']:.1f}x faster than reference")
    if args.plot or args.cost_plot:
        from . import plots

        if args.plot:
            title = f"Decision boundary for hidden layer size {args.hidden}"
            plots.decision_boundary(_predictor(fast, trained["fast"], args.activation), X, Y, args.plot, title=title)
            print(f"wrote the decision boundary to {args.plot}")
        if args.cost_plot:
            # The same training again (same seed, same parameters), recording every iteration's cost.
            _, costs = fast.nn_model(
                X, Y, args.hidden, args.iterations, learning_rate=args.learning_rate,
                activation=args.activation, seed=args.seed, return_costs=True,
            )  # fmt: skip
            title = f"Cost, hidden layer size {args.hidden}, learning rate {args.learning_rate}"
            plots.cost_curve(costs, args.cost_plot, title=title)
            print(f"wrote the cost curve to {args.cost_plot}")
    return 0


# ----------------------------------------------------------------- sweep


def _sweep(args):
    _check_image_paths(args.plot)
    module = IMPLEMENTATIONS[args.implementation]
    X, Y = datasets.load_dataset(args.dataset)
    print(
        f"{_dataset_title(args.dataset)}: X {X.shape}, Y {Y.shape}; {args.iterations} iterations, learning rate "
        f"{args.learning_rate}, {args.activation} hidden layer, seed {args.seed}, {args.implementation} implementation\n"
    )
    print("| hidden units | accuracy | time |")
    print("|---:|---:|---:|", flush=True)
    panels = []
    for n_h in args.hidden_sizes:
        start = time.perf_counter()
        params = module.nn_model(
            X, Y, n_h, args.iterations, learning_rate=args.learning_rate, activation=args.activation, seed=args.seed
        )
        elapsed = time.perf_counter() - start
        accuracy = _accuracy(module, params, X, Y, args.activation)
        print(f"| {n_h} | {accuracy:.2%} | {elapsed:.3f} s |", flush=True)
        panels.append((f"Hidden layer of size {n_h} ({accuracy:.1%})", _predictor(module, params, args.activation)))
    if args.plot:
        from . import plots

        plots.sweep_grid(panels, X, Y, args.plot, title=f"{_dataset_title(args.dataset)}: hidden layer size")
        print(f"\nwrote the decision boundaries to {args.plot}")
    return 0


# ----------------------------------------------------------------- train


class _Progress:
    """tqdm when installed, else a plain line on stderr rewritten after every chunk."""

    def __init__(self, total, enabled, stream=None):
        self.total, self.done, self.enabled = total, 0, enabled and total > 0
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.bar = None
        if self.enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                pass
            else:
                self.bar = tqdm(total=total, desc="training", unit="it", file=self.stream)

    def update(self, count, cost):
        self.done += count
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.set_postfix(cost=f"{cost:.6f}", refresh=False)
            self.bar.update(count)
            return
        line = f"training: {self.done}/{self.total} iterations ({self.done / self.total:.0%}), cost {cost:.6f}"
        self.stream.write(("\r" + line) if self.tty else (line + "\n"))
        self.stream.flush()

    def close(self):
        if self.bar is not None:
            self.bar.close()
        elif self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _targets(y, n_classes):
    """Y of shape (1, m) for two classes, one-hot (K, m) for more."""
    if n_classes == 2:
        return y.reshape(1, -1).astype(np.float64)
    return np.eye(n_classes)[y].T.copy()


def _class_indices(predictions):
    """fast.predict's output, (1, m) booleans or (m,) indices, as (m,) indices."""
    return np.asarray(predictions).reshape(-1).astype(np.int64)


def _train(args):
    _check_output_file(args.out)
    data = snio.read_dataset(args.data, label=args.label)
    classes, y = snio.encode_labels(data.labels)
    if len(classes) < 2:
        raise ValueError(f"{args.data}: the label column {data.label!r} has one class ({str(classes[0])!r}); need two or more")
    mean, std = snio.standardise(data.X)
    X = np.ascontiguousarray(((data.X - mean) / std).T)  # (n_x, m): one example per column
    Y = _targets(y, len(classes))
    (n_x, m), n_y = X.shape, Y.shape[0]
    shown = ", ".join(classes[:10]) + (", ..." if len(classes) > 10 else "")
    print(
        f"{args.data}: {m} examples, {n_x} features, label {data.label!r} with {len(classes)} classes ({shown}); "
        f"n_h = {args.hidden}, {args.iterations} iterations, learning rate {args.learning_rate}, "
        f"{args.activation} hidden layer, seed {args.seed}",
        flush=True,
    )
    params = fast.initialize_parameters(n_x, args.hidden, n_y, seed=args.seed)
    progress = _Progress(args.iterations, not args.quiet)
    start = time.perf_counter()
    try:
        for first in range(0, args.iterations, TRAIN_CHUNK):
            count = min(TRAIN_CHUNK, args.iterations - first)
            params = fast.nn_model(
                X, Y, args.hidden, count, learning_rate=args.learning_rate, activation=args.activation, parameters=params
            )
            A2, _ = fast.forward_propagation(X, params, activation=args.activation)
            progress.update(count, fast.compute_cost(A2, Y))
    finally:
        progress.close()
    elapsed = time.perf_counter() - start
    predicted = _class_indices(fast.predict(params, X, activation=args.activation))
    A2, _ = fast.forward_propagation(X, params, activation=args.activation)
    snio.save_model(
        args.out, params, activation=args.activation, classes=classes, features=data.features,
        label=data.label, mean=mean, std=std,
    )  # fmt: skip
    print(f"cost {fast.compute_cost(A2, Y):.6f}, training accuracy {np.mean(predicted == y):.2%}, {elapsed:.2f} s")
    print(f"wrote the model to {args.out}")
    return 0


# --------------------------------------------------------------- predict


def _predict(args):
    to_stdout = args.out in (None, "-")
    if not to_stdout:
        _check_output_file(args.out)
    model = snio.load_model(args.model)
    data = snio.read_dataset(args.data, label=model["label"], features=model["features"])
    X = np.ascontiguousarray(((data.X - model["mean"]) / model["std"]).T)
    indices = _class_indices(fast.predict(model["parameters"], X, activation=model["activation"]))
    names = model["classes"][indices]
    summary = [f"{args.data}: predicted {len(names)} examples"]
    counts = dict(zip(*np.unique(names, return_counts=True)))
    summary.append(", ".join(f"{c}: {counts.get(c, 0)}" for c in model["classes"]))
    if data.labels is not None:
        summary.append(f"accuracy {np.mean(names == data.labels):.2%} against the column {data.label!r}")
    if to_stdout:
        snio.write_predictions(sys.stdout, model["label"], names)
        print("; ".join(summary), file=sys.stderr)
    else:
        snio.write_predictions(args.out, model["label"], names)
        print("; ".join(summary))
        print(f"wrote the predictions to {args.out}")
    return 0


# ----------------------------------------------------------------- bench


def _bench(args, extra):
    try:
        from . import bench
    except ImportError as exc:
        raise ImportError(f"the bench subcommand needs shallownet_fast.bench, which could not be imported ({exc})") from None
    parser = _Parser(prog=f"{PROG} bench", description="The benchmark report of shallownet_fast.bench.")
    bench.add_arguments(parser)
    return bench.main(parser.parse_args(extra))


# ---------------------------------------------------------------- parser


def _add_training_options(p, hidden=True, iterations=10000):
    if hidden:
        p.add_argument("--hidden", type=_positive_int, default=4, metavar="N_H", help="hidden units (default 4)")
    p.add_argument("--iterations", type=_nonnegative_int, default=iterations, metavar="N",
                   help=f"gradient steps (default {iterations})")  # fmt: skip
    p.add_argument("--learning-rate", type=_positive_float, default=1.2, metavar="LR", help="default 1.2")
    p.add_argument("--activation", choices=_validation.ACTIVATIONS, default="tanh", help="hidden activation (default tanh)")
    p.add_argument("--seed", type=_int, default=0, help="initialisation seed (default 0)")


def _add_dataset_option(p):
    p.add_argument("--dataset", choices=datasets.DATASETS, default="flower",
                   help="the flower (default) or one of the course's extra data sets (these need scikit-learn)")  # fmt: skip


def _parser():
    parser = _Parser(prog=PROG, description="A one-hidden-layer neural network, twice.",
                     epilog="Exit status: 0 success, 1 a missing optional package, 2 a wrong argument or file.")  # fmt: skip
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="train the flower (or --dataset) with both implementations and compare them")
    _add_training_options(demo)
    _add_dataset_option(demo)
    demo.add_argument("--plot", metavar="PATH", help="save the decision boundary (PNG) of the fast network")
    demo.add_argument("--cost-plot", metavar="PATH", help="save the cost of every iteration (PNG)")
    demo.set_defaults(run=_demo)

    sweep = sub.add_parser("sweep", help="the course's hidden-layer-size experiment: an accuracy table")
    sweep.add_argument("--hidden-sizes", type=_sizes, default=list(COURSE_HIDDEN_SIZES), metavar="LIST",
                       help="comma-separated hidden sizes (default 1,2,3,4,5,20,50)")  # fmt: skip
    _add_training_options(sweep, hidden=False, iterations=5000)
    _add_dataset_option(sweep)
    sweep.add_argument("--implementation", choices=tuple(IMPLEMENTATIONS), default="fast", help="default fast")
    sweep.add_argument("--plot", metavar="PATH", help="save the grid of decision boundaries (PNG)")
    sweep.set_defaults(run=_sweep)

    train = sub.add_parser("train", help="fit a network on a CSV or .npy file and save it (.npz)",
                           description="Fit a network on a CSV file (header row; numeric features; labels numbers "
                           "or strings) or a .npy file (2-D array, label column by index). Features are "
                           "standardised; two classes give one sigmoid output, more a softmax.")  # fmt: skip
    train.add_argument("data", metavar="DATA", help="CSV file with a header row, or .npy file")
    train.add_argument("--label", required=True, metavar="COLUMN",
                       help="the label column: a name, or an index (the only way for .npy)")  # fmt: skip
    train.add_argument("--out", required=True, metavar="MODEL.npz", help="where to write the model")
    _add_training_options(train)
    train.add_argument("--quiet", action="store_true", help="no progress line")
    train.set_defaults(run=_train)

    predict = sub.add_parser("predict", help="predict the class of every example of a file with a saved model",
                             description="Write one predicted class name per line, under a header naming the label "
                             "column. The data file needs the model's feature columns; its label column, if "
                             "present, is used to report the accuracy.")  # fmt: skip
    predict.add_argument("model", metavar="MODEL.npz", help="a model written by train")
    predict.add_argument("data", metavar="DATA", help="CSV file with a header row, or .npy file")
    predict.add_argument("--out", metavar="PRED.csv", default=None, help="where to write the predictions (default: stdout)")
    predict.set_defaults(run=_predict)

    bench = sub.add_parser("bench", add_help=False, help="the benchmark report (see: bench --help)")
    bench.set_defaults(run=None)
    return parser


def _version():
    from . import __version__

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
            return _bench(args, extra)
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
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

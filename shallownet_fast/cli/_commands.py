"""The command line's subcommands: demo, sweep, train, predict, bench.

Each takes the parsed arguments and returns the exit status; errors are
exceptions (ValueError, OSError, ...) that :func:`shallownet_fast.cli.main`
turns into one line on stderr.
"""

import os
import sys
import time

import numpy as np

from .. import _modelfile, datasets, fast, reference
from .._atomic import refuse_overwriting, same_file
from .._labels import one_hot
from .._progress import Progress
from . import _files

PROG = "shallownet-fast"
COURSE_HIDDEN_SIZES = (1, 2, 3, 4, 5, 20, 50)
TRAIN_CHUNK = 1000  # iterations per nn_model call in `train`, between two progress updates
IMPLEMENTATIONS = {"reference": reference, "fast": fast}


def _check_image_paths(*paths):
    """Fail before any training when a requested picture could not be written."""
    from .. import plots

    for path in paths:
        if path is not None:
            plots.check_output_path(path)


def _check_output_file(path, inputs=()):
    """Fail before anything is read when `path` could not be written or is one of the `inputs`."""
    refuse_overwriting(path, inputs, "--out")
    name = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(name))
    if not os.path.isdir(directory):
        raise ValueError(f"cannot write {name}: no directory {directory}")
    if os.path.isdir(name):
        raise ValueError(f"cannot write {name}: a directory")
    if os.path.exists(name) and not os.path.isfile(name):
        raise ValueError(f"cannot write {name}: not a regular file (a device, a pipe or a socket)")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ValueError(f"cannot write {name}: no permission to write in {directory}")


def _check_memory(n_x, n_h, n_y, m, what):
    """Fail with the figure when a network of n_h hidden units on m examples would not fit in memory."""
    # Parameters, gradients and optimizer state (6 copies), the layers' outputs and their gradients (4 of
    # (n_h, m), 4 of (n_y, m)), the data (2 copies): 8-byte numbers.
    need = 8 * (6 * (n_h * (n_x + 1) + n_y * (n_h + 1)) + 4 * (n_h + n_y) * m + 2 * n_x * m)
    total = _physical_memory()
    if total is not None and need > total:
        raise ValueError(
            f"{what} needs about {_size(need)} of memory ({n_h} hidden units, {m} examples); "
            f"this machine has {_size(total)}"
        )


def _physical_memory():
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _size(nbytes):
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if nbytes < 1024 or unit == "PiB":
            return f"{nbytes:.1f} {unit}" if unit != "bytes" else f"{nbytes} bytes"
        nbytes /= 1024


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
    if args.plot and args.cost_plot and same_file(args.plot, args.cost_plot):
        raise ValueError(f"--plot and --cost-plot name the same file {args.plot}")
    X, Y = datasets.load_dataset(args.dataset)
    _check_memory(X.shape[0], args.hidden, Y.shape[0], X.shape[1], f"--hidden {args.hidden}")
    print(
        f"{_dataset_title(args.dataset)}: X {X.shape}, Y {Y.shape}; n_h = {args.hidden}, {args.iterations} iterations, "
        f"learning rate {args.learning_rate}, {args.activation} hidden layer, seed {args.seed}\n"
    )
    times, trained = {}, {}
    for name, module in IMPLEMENTATIONS.items():
        print(f"[{name}]")
        start = time.perf_counter()
        params = module.nn_model(
            X,
            Y,
            args.hidden,
            args.iterations,
            learning_rate=args.learning_rate,
            activation=args.activation,
            seed=args.seed,
            print_cost=True,
        )
        times[name] = time.perf_counter() - start
        trained[name] = params
        accuracy = _accuracy(module, params, X, Y, args.activation)
        print(
            f"accuracy {accuracy:.2%}, {times[name]:.3f} s"
            f" ({times[name] / max(args.iterations, 1) * 1e6:.1f} us per iteration)\n"
        )
    print(f"fast is {times['reference'] / times['fast']:.1f}x faster than reference")
    if args.plot or args.cost_plot:
        from .. import plots

        if args.plot:
            title = f"Decision boundary for hidden layer size {args.hidden}"
            plots.decision_boundary(_predictor(fast, trained["fast"], args.activation), X, Y, args.plot, title=title)
            print(f"wrote the decision boundary to {args.plot}")
        if args.cost_plot:
            # The same training again (same seed, same parameters), recording every iteration's cost.
            _, costs = fast.nn_model(
                X,
                Y,
                args.hidden,
                args.iterations,
                learning_rate=args.learning_rate,
                activation=args.activation,
                seed=args.seed,
                return_costs=True,
            )
            title = f"Cost, hidden layer size {args.hidden}, learning rate {args.learning_rate}"
            plots.cost_curve(costs, args.cost_plot, title=title)
            print(f"wrote the cost curve to {args.cost_plot}")
    return 0


# ----------------------------------------------------------------- sweep


def _sweep(args):
    _check_image_paths(args.plot)
    module = IMPLEMENTATIONS[args.implementation]
    X, Y = datasets.load_dataset(args.dataset)
    n_h = max(args.hidden_sizes)
    _check_memory(X.shape[0], n_h, Y.shape[0], X.shape[1], f"--hidden-sizes {n_h}")
    print(
        f"{_dataset_title(args.dataset)}: X {X.shape}, Y {Y.shape}; {args.iterations} iterations, learning rate "
        f"{args.learning_rate}, {args.activation} hidden layer, seed {args.seed},"
        f" {args.implementation} implementation\n"
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
        from .. import plots

        plots.sweep_grid(panels, X, Y, args.plot, title=f"{_dataset_title(args.dataset)}: hidden layer size")
        print(f"\nwrote the decision boundaries to {args.plot}")
    return 0


# ----------------------------------------------------------------- train


def standardise(X):
    """Mean and standard deviation of each feature (a constant feature gets std 1).

    Parameters
    ----------
    X : ndarray of shape (m, n_features)

    Returns
    -------
    mean, std : ndarray of shape (n_features,), float64
        So that ``(X - mean) / std`` has zero mean and unit variance per feature.
    """
    mean = X.mean(axis=0)
    std = X.std(axis=0)
    return mean, np.where(std > 0, std, 1.0)


def fold_standardisation(params, mean, std):
    """The parameters of the same network on raw features: W1' = W1 / std, b1' = b1 - W1' @ mean."""
    W1 = params["W1"] / std
    b1 = params["b1"] - W1 @ mean.reshape(-1, 1)
    return {"W1": W1, "b1": b1, "W2": params["W2"].copy(), "b2": params["b2"].copy()}


def _shown(classes):
    texts = [_files.class_text(c) for c in classes[:10]]
    return ", ".join(texts) + (", ..." if len(classes) > 10 else "")


def _train(args):
    _check_output_file(args.out, [("data", args.data)])
    data = _files.read_dataset(args.data, label=args.label)
    classes, y = data.classes, data.codes
    if len(classes) < 2:
        raise ValueError(
            f"{args.data}: the label column {data.label!r} has one class ({_files.class_text(classes[0])!r}); "
            "need two or more"
        )
    (m, n_x), n_y = data.X.shape, (1 if len(classes) == 2 else len(classes))
    _check_memory(n_x, args.hidden, n_y, m, f"--hidden {args.hidden}")
    mean, std = standardise(data.X)
    X = np.ascontiguousarray(((data.X - mean) / std).T)  # (n_x, m): one example per column
    del data.X
    Y = one_hot(y, len(classes))
    print(
        f"{args.data}: {m} examples, {n_x} features, label {data.label!r} with {len(classes)} classes "
        f"({_shown(classes)}); n_h = {args.hidden}, {args.iterations} iterations, learning rate {args.learning_rate}, "
        f"{args.activation} hidden layer, seed {args.seed}",
        flush=True,
    )
    params = fast.initialize_parameters(n_x, args.hidden, n_y, seed=args.seed)
    progress = Progress(
        args.iterations, enabled=not args.quiet, desc="training", unit="it", stream=sys.stderr, rewrite=True
    )
    start = time.perf_counter()
    try:
        for first in range(0, args.iterations, TRAIN_CHUNK):
            count = min(TRAIN_CHUNK, args.iterations - first)
            params = fast.nn_model(
                X,
                Y,
                args.hidden,
                count,
                learning_rate=args.learning_rate,
                activation=args.activation,
                parameters=params,
            )
            A2, _ = fast.forward_propagation(X, params, activation=args.activation)
            cost = float(fast.compute_cost(A2, Y))
            progress.update(
                count,
                postfix={"cost": f"{cost:.6f}"},
                line=lambda done, total, c=cost: (
                    f"training: {done}/{total} iterations ({done / total:.0%}), cost {c:.6f}"
                ),
            )
    finally:
        progress.close()
    elapsed = time.perf_counter() - start
    A2, cache = fast.forward_propagation(X, params, activation=args.activation)
    cost = float(fast.compute_cost(A2, Y))
    predicted = _class_indices(cache["Z2"])
    seed = args.seed if 0 <= args.seed < 2**32 else None
    metadata = {
        "params": {
            "hidden_layer_sizes": [args.hidden],
            "activation": args.activation,
            "solver": "gd",
            "learning_rate_init": args.learning_rate,
            "max_iter": max(args.iterations, 1),
            "random_state": seed,
        },
        "n_features_in": n_x,
        "n_iter": args.iterations,
        "t": args.iterations * m,
        "loss": cost,
        "loss_curve": [],
        "best_loss": cost,
        "no_improvement_count": 0,
        "stop_reason": "max_iter",
        "state_family": "momentum",
        "state_t": 0,
        "label": data.label,
    }
    model = {
        **fold_standardisation(params, mean, std),
        "classes": classes,
        "metadata": metadata,
        "columns": data.features,
    }
    _modelfile.write(args.out, model)
    print(f"cost {cost:.6f}, training accuracy {np.mean(predicted == y):.2%}, {elapsed:.2f} s")
    print(f"wrote the model to {args.out}")
    return 0


# --------------------------------------------------------------- predict


def _class_indices(Z2):
    """The predicted class of each column of the output layer's Z2 (as ShallowNetClassifier.predict)."""
    return (Z2[0] > 0).astype(np.intp) if Z2.shape[0] == 1 else Z2.argmax(axis=0)


def _predict(args):
    to_stdout = args.out in (None, "-")
    if not to_stdout:
        _check_output_file(args.out, [("model", args.model), ("data", args.data)])
    model = _modelfile.read(args.model)
    meta = model["metadata"]
    activation = meta["params"].get("activation", "relu")
    n_x = model["W1"].shape[1]
    features = model["columns"] or model["feature_names_in"]
    label = args.label if args.label is not None else meta["label"]
    if features is None:  # columns by position: every column of the file but the label column
        try:
            data = _files.read_dataset(args.data, label=label)
        except ValueError as exc:
            if label is not None or "is not a number" not in str(exc):
                raise
            raise ValueError(f"{exc} (the model names no columns: give the label column with --label)") from None
        if data.X.shape[1] != n_x:
            raise ValueError(
                f"{args.data}: {data.X.shape[1]} feature columns"
                + (f" besides the label column {data.label!r}" if data.label is not None else "")
                + f"; the model takes {n_x} (and names none of them: give --label if one is the label)"
            )
    else:
        data = _files.read_dataset(args.data, label=label, features=features)
    dtype = model["W1"].dtype
    params = {k: model[k] for k in ("W1", "b1", "W2", "b2")}
    X = np.ascontiguousarray(data.X.T, dtype=dtype)
    del data.X
    _, cache = fast.forward_propagation(X, params, activation=activation)
    indices = _class_indices(cache["Z2"])
    texts = np.array([_files.class_text(c) for c in model["classes"]], dtype=str)
    names = texts[indices]
    summary = [f"{args.data}: predicted {len(names)} examples"]
    counts = np.bincount(indices, minlength=len(texts))
    summary.append(", ".join(f"{c}: {n}" for c, n in zip(texts, counts)))
    if data.codes is not None:
        truth = np.array([_files.class_text(c) for c in data.classes], dtype=str)[data.codes]
        summary.append(f"accuracy {np.mean(names == truth):.2%} against the column {data.label!r}")
    header = meta["label"] if meta["label"] is not None else (label if label is not None else "label")
    if to_stdout:
        _files.write_predictions(sys.stdout, header, names)
        print("; ".join(summary), file=sys.stderr)
    else:
        _files.write_predictions(args.out, header, names)
        print("; ".join(summary))
        print(f"wrote the predictions to {args.out}")
    return 0


# ----------------------------------------------------------------- bench


def _bench(args, extra, parser_class):
    try:
        from .. import bench
    except ImportError as exc:
        raise ImportError(
            f"the bench subcommand needs shallownet_fast.bench, which could not be imported ({exc})"
        ) from None
    parser = parser_class(prog=f"{PROG} bench", description="The benchmark report of shallownet_fast.bench.")
    bench.add_arguments(parser)
    return bench.main(parser.parse_args(extra))

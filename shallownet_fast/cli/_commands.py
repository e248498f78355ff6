"""The command line's subcommands: demo, sweep, train, predict, bench.

Each takes the parsed arguments and returns the exit status; errors are
exceptions (ValueError, OSError, ...) that :func:`shallownet_fast.cli.main`
turns into one line on stderr.
"""

import math
import os
import sys
import time
import warnings

import numpy as np

from .. import _modelfile, _numerics, _validation, datasets, fast, reference
from .._atomic import refuse_overwriting, same_file
from .._progress import Progress
from . import _files

PROG = "shallownet-fast"
COURSE_HIDDEN_SIZES = (1, 2, 3, 4, 5, 20, 50)
TRAIN_SOLVERS = (*_validation.ESTIMATOR_SOLVERS, "gd")
PREDICT_BLOCK_ELEMENTS = 1 << 20  # predict's memory beyond the data: about this many numbers per block of rows
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


# The options of train that apply to some solvers only, and those solvers.
_SOLVER_OPTIONS = {
    "batch_size": ("--batch-size", ("sgd", "adam")),
    "learning_rate": ("--learning-rate", ("sgd", "gd")),
    "learning_rate_init": ("--learning-rate-init", ("sgd", "adam", "gd")),
    "early_stopping": ("--early-stopping", ("sgd", "adam", "gd")),
    "n_iter_no_change": ("--n-iter-no-change", ("sgd", "adam", "gd")),
}
# The options of train that are the estimator's hyperparameters of the same name (None: its default).
_ESTIMATOR_OPTIONS = (
    "activation",
    "solver",
    "batch_size",
    "learning_rate",
    "learning_rate_init",
    "max_iter",
    "alpha",
    "tol",
    "n_iter_no_change",
    "validation_fraction",
)


def _estimator_params(args):
    """ShallowNetClassifier's hyperparameters from the options given (the others keep its defaults)."""
    solver = args.solver or "adam"
    for name, (option, solvers) in _SOLVER_OPTIONS.items():
        if getattr(args, name) not in (None, False) and solver not in solvers:
            raise ValueError(f"{option} does not apply to --solver {solver} (only to {', '.join(solvers)})")
    if args.validation_fraction is not None and not args.early_stopping:
        raise ValueError("--validation-fraction needs --early-stopping")
    params = {k: getattr(args, k) for k in _ESTIMATOR_OPTIONS if getattr(args, k) is not None}
    if args.hidden is not None:
        params["hidden_layer_sizes"] = (args.hidden,)
    params["early_stopping"] = args.early_stopping
    params["random_state"] = args.seed
    return params


def _split(m, codes, n_classes, test_size, seed):
    """(train rows, test rows, stratified): the held-out part, stratified when every class can be in both parts."""
    if test_size == 0:
        return np.arange(m), np.arange(0), False
    n_test = math.ceil(test_size * m)
    if m - n_test < 2:
        raise ValueError(f"--test-size {test_size} leaves {m - n_test} of the {m} examples to train on")
    counts = np.bincount(codes, minlength=n_classes)
    stratified = counts.min() >= 2 and n_test >= n_classes and m - n_test >= n_classes
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(
        np.arange(m), test_size=n_test, random_state=seed, stratify=codes if stratified else None
    )
    return np.sort(train), np.sort(test), stratified


def _confusion_matrix(truth, predicted, texts, label):
    """The confusion matrix as lines of text: true classes in rows, predicted ones in columns."""
    k = len(texts)
    counts = np.bincount(truth * k + predicted, minlength=k * k).reshape(k, k)
    corner = f"{label} \\ predicted"
    rows = [[corner, *texts]] + [[t, *map(str, row)] for t, row in zip(texts, counts)]
    widths = [max(len(r[j]) for r in rows) for j in range(k + 1)]
    return [
        "  ".join(cell.ljust(w) if j == 0 else cell.rjust(w) for j, (cell, w) in enumerate(zip(r, widths)))
        for r in rows
    ]


class _EpochProgress:
    """The estimator's callback: a progress display of the epochs on stderr (about ten plain lines).

    The display starts at the first epoch's end, so that a fit refused before any epoch shows nothing.
    """

    def __init__(self, total, enabled, unit):
        self.total, self.enabled, self.unit = total, enabled, unit
        self.shown, self.calls, self.progress = 0, 0, None
        self.every = max(1, total // 10)

    def __call__(self, est):
        if self.progress is None:
            self.progress = Progress(
                self.total, enabled=self.enabled, desc="training", unit=self.unit, stream=sys.stderr, rewrite=True
            )
        self.calls += 1
        done = self.calls if est.solver == "lbfgs" else est.n_iter_  # lbfgs: called once per iteration
        if done - self.shown >= self.every or done >= self.total:
            # lbfgs publishes its loss curve at the end only.
            loss = f"{est.loss_curve_[-1]:.6f}" if est.solver != "lbfgs" and est.loss_curve_ else None
            self.progress.update(
                done - self.shown,
                postfix=None if loss is None else {"loss": loss},
                line=lambda d, t: f"training: {d}/{t} {self.unit} ({d / t:.0%})" + (f", loss {loss}" if loss else ""),
            )
            self.shown = done
        return False

    def close(self):
        if self.progress is not None:
            self.progress.close()


def _settings(p, unit):
    """The training settings that apply to the solver, as one line of text."""
    solver = p["solver"]
    items = [f"{p['activation']} hidden layer", f"solver {solver}", f"at most {p['max_iter']} {unit}"]
    if solver != "lbfgs":
        schedule = f" ({p['learning_rate']})" if solver in ("sgd", "gd") else ""
        items.append(f"learning rate {p['learning_rate_init']}{schedule}")
    if solver in ("sgd", "adam"):
        items.append(f"batch size {p['batch_size']}")
    items.append(f"alpha {p['alpha']}")
    if p["early_stopping"]:
        items.append(f"early stopping (validation fraction {p['validation_fraction']})")
    return ", ".join(items)


def _train(args):
    _check_output_file(args.out, [("data", args.data)])
    params = _estimator_params(args)
    try:
        from ..estimators import ShallowNetClassifier
    except ImportError as exc:
        raise ImportError(f"train needs scikit-learn: {exc}") from None
    from sklearn.exceptions import ConvergenceWarning

    data = _files.read_dataset(
        args.data,
        label=args.label,
        features=args.features,
        drop=args.drop,
        delimiter=args.delimiter,
        option="--features",
    )
    classes, codes = data.classes, data.codes
    if len(classes) < 2:
        raise ValueError(
            f"{args.data}: the label column {data.label!r} has one class ({_files.class_text(classes[0])!r}); "
            "need two or more"
        )
    (m, n_x), n_y = data.X.shape, (1 if len(classes) == 2 else len(classes))
    n_h = params.get("hidden_layer_sizes", (100,))[0]
    _check_memory(n_x, n_h, n_y, m, f"--hidden {n_h}")
    train, test, stratified = _split(m, codes, len(classes), args.test_size, args.seed)
    missing = np.setdiff1d(np.arange(len(classes)), codes[train])
    if len(missing):
        raise ValueError(
            f"--test-size {args.test_size} leaves no example of the class {_files.class_text(classes[missing[0]])!r} "
            "to train on (it has one example): give a smaller --test-size, or 0"
        )
    # Two copies of the data at most: the held-out rows and the training rows, standardised in place.
    X_test, y_test = data.X[test], codes[test]
    X_train, y_train = (data.X if len(test) == 0 else data.X[train]), classes[codes[train]]
    del data.X
    mean, std = standardise(X_train)
    X_train -= mean
    X_train /= std
    est = ShallowNetClassifier(**params)
    settings = est.get_params()
    unit = "iterations" if settings["solver"] == "lbfgs" else "epochs"
    print(
        f"{args.data}: {m} examples, {n_x} features, label {data.label!r} with {len(classes)} classes "
        f"({_shown(classes)}); training on {len(train)}"
        + (f", testing on {len(test)} ({'stratified' if stratified else 'random'} split)" if len(test) else "")
        + f"\nn_h = {n_h}, {_settings(settings, unit)}, seed {args.seed}",
        flush=True,
    )
    progress = _EpochProgress(settings["max_iter"], not args.quiet, unit)
    est.set_params(callback=progress)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est.fit(X_train, y_train)
    except ValueError as exc:  # with early stopping: a validation split of too few examples
        raise ValueError(f"--early-stopping: {exc}" if settings["early_stopping"] else str(exc)) from None
    finally:
        progress.close()
    elapsed = time.perf_counter() - start
    est.set_params(callback=None)
    if est.stop_reason_ == "interrupted":
        raise KeyboardInterrupt
    train_accuracy = est.score(X_train, y_train)
    del X_train
    # The network on raw features (see fold_standardisation); the estimator predicts with it from here.
    fitted = {"W1": est.coefs_[0].T, "b1": est.intercepts_[0].reshape(-1, 1), "W2": est.coefs_[1].T}
    folded = fold_standardisation(dict(fitted, b2=est.intercepts_[1].reshape(-1, 1)), mean, std)
    est.coefs_ = [folded["W1"].T, folded["W2"].T]
    est.intercepts_ = [folded["b1"].ravel(), folded["b2"].ravel()]
    lines = [f"loss {est.loss_:.6f} after {est.n_iter_} {unit}, {elapsed:.2f} s"]
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        lines[0] += f" (not converged: --max-iter {settings['max_iter']} reached)"
    if settings["early_stopping"]:
        lines[0] += f", best validation score {est.best_validation_score_:.2%}"
    lines.append(f"training accuracy {train_accuracy:.2%}")
    if len(test):  # predicted by the folded network on the raw features, as predict will
        texts = [_files.class_text(c) for c in classes]
        predicted = np.searchsorted(classes, est.predict(X_test))
        accuracy = np.mean(predicted == y_test)
        lines[-1] += f", test accuracy {accuracy:.2%} on {len(test)} held-out examples"
        lines += ["confusion matrix of the held-out examples:"]
        lines += ["  " + line for line in _confusion_matrix(y_test, predicted, texts, data.label)]
    model = _modelfile.estimator_model(est)
    # The optimizer's state belongs to the standardised problem, not to the folded network: none is stored
    # (nor early stopping's best parameters, equal to the final ones), so that training a loaded model
    # further on raw features starts its optimizer afresh, with zero moments.
    model.update(state=None, best=None, columns=data.features)
    model["metadata"].update(state_t=0, label=data.label)
    _modelfile.write(args.out, model)
    print("\n".join(lines))
    print(f"wrote the model to {args.out}")
    return 0


# --------------------------------------------------------------- predict


def _logits(params, X, activation):
    """Z2 of shape (n_y, m) of the network on the rows of X, a block of about PREDICT_BLOCK_ELEMENTS at a time."""
    (n_h, n_x), n_y = params["W1"].shape, params["W2"].shape[0]
    Z2 = np.empty((n_y, X.shape[0]), params["W1"].dtype)
    rows = max(1, PREDICT_BLOCK_ELEMENTS // (n_x + 2 * n_h + 4 * n_y))
    for s in range(0, X.shape[0], rows):
        XT = np.ascontiguousarray(X[s : s + rows].T, dtype=params["W1"].dtype)
        Z2[:, s : s + rows] = fast.forward_propagation(XT, params, activation=activation)[1]["Z2"]
    return Z2


def _class_indices(Z2):
    """The predicted class of each column of the output layer's Z2 (as ShallowNetClassifier.predict)."""
    return (Z2[0] > 0).astype(np.intp) if Z2.shape[0] == 1 else Z2.argmax(axis=0)


def _probabilities(Z2):
    """The class probabilities, one row per class (as ShallowNetClassifier.predict_proba, transposed)."""
    if Z2.shape[0] == 1:
        return np.vstack([_numerics.sigmoid(-Z2[0]), _numerics.sigmoid(Z2[0])])
    return _numerics.softmax(Z2)


def _predict(args):
    to_stdout = args.out in (None, "-")
    if not to_stdout:
        _check_output_file(args.out, [("model", args.model), ("data", args.data)])
    model = _modelfile.read(args.model)
    meta = model["metadata"]
    if meta["estimator"] == "regressor" or meta["multilabel"]:
        what = "a regressor" if meta["estimator"] == "regressor" else "a multilabel classifier"
        raise ValueError(f"{args.model}: holds {what}; predict takes a classifier of one label column")
    activation = meta["params"].get("activation", "relu")
    n_x = model["W1"].shape[1]
    features = model["columns"] or model["feature_names_in"]
    label = args.label if args.label is not None else meta["label"]
    columns = {"drop": args.drop, "delimiter": args.delimiter}
    if features is not None and args.features is not None:
        if len(args.features) != n_x:
            raise ValueError(
                f"--features names {len(args.features)} columns; the model takes {n_x} ({', '.join(features)})"
            )
        features, columns["option"] = args.features, "--features"
    elif features is not None and args.drop is not None:
        needed = [c for c in args.drop if c in features]
        if needed:
            raise ValueError(f"--drop: the model takes the column {needed[0]!r}")
        columns["drop"] = None  # columns the model does not read anyway
    if features is None:  # columns by position: every column of the file but the label column
        try:
            data = _files.read_dataset(args.data, label=label, features=args.features, option="--features", **columns)
        except ValueError as exc:
            if label is not None or "is not a number" not in str(exc):
                raise
            raise ValueError(f"{exc} (the model names no columns: give the label column with --label)") from None
        if data.X.shape[1] != n_x:
            raise ValueError(
                f"{args.data}: {data.X.shape[1]} feature columns"
                + (f" besides the label column {data.label!r}" if data.label is not None else "")
                + f"; the model takes {n_x} (and names none of them: give --label if one is the label"
                + ", or choose them with --features or --drop)"
            )
    else:
        data = _files.read_dataset(args.data, label=label, features=features, **columns)
    Z2 = _logits({k: model[k] for k in ("W1", "b1", "W2", "b2")}, data.X, activation)
    del data.X
    indices = _class_indices(Z2)
    texts = np.array([_files.class_text(c) for c in model["classes"]], dtype=str)
    names = texts[indices]
    summary = [f"{args.data}: predicted {len(names)} examples"]
    counts = np.bincount(indices, minlength=len(texts))
    summary.append(", ".join(f"{c}: {n}" for c, n in zip(texts, counts)))
    if data.codes is not None:
        truth = np.array([_files.class_text(c) for c in data.classes], dtype=str)[data.codes]
        summary.append(f"accuracy {np.mean(names == truth):.2%} against the column {data.label!r}")
    if args.proba:
        headers, table = list(texts), list(_probabilities(Z2))
    else:
        header = meta["label"] if meta["label"] is not None else (label if label is not None else "label")
        headers, table = [header], [names]
    if to_stdout:
        _files.write_table(sys.stdout, headers, table, args.delimiter)
        print("; ".join(summary), file=sys.stderr)
    else:
        _files.write_table(args.out, headers, table, args.delimiter)
        print("; ".join(summary))
        print(f"wrote the {'probabilities' if args.proba else 'predictions'} to {args.out}")
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

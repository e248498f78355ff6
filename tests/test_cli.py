"""The command line, run as a user runs it: ``python -m shallownet_fast ...`` in a fresh process.

Each run starts in a temporary directory (no source tree in sight) with the
interpreter running this suite and the package this suite imports.  Iteration
counts are small, to keep the file fast.  Errors must exit with status 2 (1 for
a missing optional package) and one line on stderr, never a traceback.
"""

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import shallownet_fast
from shallownet_fast import _modelfile, datasets
from shallownet_fast.cli import COURSE_HIDDEN_SIZES, main

ROOT = str(Path(shallownet_fast.__file__).resolve().parents[1])  # where the imported package lives


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def run(cwd, *args, status=0):
    """``python -m shallownet_fast *args`` in `cwd`; checks the exit status and returns the process."""
    proc = subprocess.run(
        [sys.executable, "-m", "shallownet_fast", *map(str, args)],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == status, (
        f"exit {proc.returncode}, expected {status}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    )
    return proc


def run_without(cwd, module, *args, status):
    """The command line in a process where `module` cannot be imported."""
    code = (
        "import sys; sys.modules[sys.argv[1]] = None\n"
        "from shallownet_fast.cli import main\n"
        "sys.exit(main(sys.argv[2:]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, module, *map(str, args)],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == status, proc.stderr
    return proc


def assert_one_line_error(proc):
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{proc.stderr}"
    assert lines[0].startswith("shallownet-fast") and "error" in lines[0], lines[0]
    return lines[0]


def write_flower_csv(path, label="colour", names=("red", "blue")):
    """The flower as a CSV file: x1, x2 and a string label column."""
    X, Y = datasets.load_planar_dataset()
    with open(path, "w") as f:
        f.write(f"x1,x2,{label}\n")
        for (a, b), y in zip(X.T, Y.ravel()):
            f.write(f"{float(a)!r},{float(b)!r},{names[y]}\n")
    return np.array(names)[Y.ravel()]


def read_predictions(path):
    lines = Path(path).read_text().splitlines()
    return lines[0], np.array(lines[1:])


@pytest.fixture
def flower_csv(tmp_path):
    labels = write_flower_csv(tmp_path / "flower.csv")
    return tmp_path / "flower.csv", labels


# ------------------------------------------------------------------ help


def test_help_lists_every_subcommand(tmp_path):
    out = run(tmp_path, "--help").stdout
    for command in ("demo", "sweep", "train", "predict", "bench"):
        assert command in out
    assert shallownet_fast.__version__ in run(tmp_path, "--version").stdout


# ------------------------------------------------------------------ demo


def test_demo(tmp_path):
    out = run(tmp_path, "demo", "--iterations", "1500").stdout
    assert out.startswith(
        "The flower: X (2, 400), Y (1, 400); n_h = 4, 1500 iterations, learning rate 1.2, tanh hidden layer, seed 0\n"
    )
    assert "[reference]" in out and "[fast]" in out
    assert out.count("Cost after iteration 0: 0.69") == 2
    assert out.count("Cost after iteration 1000: ") == 2
    accuracies = re.findall(r"accuracy (\d+\.\d\d)%, [\d.]+ s \([\d.]+ us per iteration\)", out)
    assert len(accuracies) == 2 and accuracies[0] == accuracies[1]
    assert float(accuracies[0]) > 85
    assert re.search(r"fast is [\d.]+x faster than reference\n$", out)


def test_demo_options(tmp_path):
    out = run(
        tmp_path,
        "demo",
        "--iterations",
        "200",
        "--hidden",
        "3",
        "--activation",
        "relu",
        "--learning-rate",
        "0.5",
        "--seed",
        "7",
    ).stdout
    assert "n_h = 3, 200 iterations, learning rate 0.5, relu hidden layer, seed 7" in out


def test_demo_extra_dataset(tmp_path):
    pytest.importorskip("sklearn")
    out = run(tmp_path, "demo", "--dataset", "noisy_moons", "--iterations", "300").stdout
    assert out.startswith("The noisy_moons data set: X (2, 200), Y (1, 200);")
    assert "faster than reference" in out


@pytest.mark.parametrize("name", datasets.EXTRA_DATASETS)
def test_demo_and_sweep_take_every_extra_dataset(name, capsys):
    """In-process (scikit-learn is slow to import in every new process)."""
    pytest.importorskip("sklearn")
    assert main(["demo", "--dataset", name, "--iterations", "200"]) == 0
    assert capsys.readouterr().out.startswith(f"The {name} data set: X (2, 200), Y (1, 200);")
    assert main(["sweep", "--dataset", name, "--iterations", "200", "--hidden-sizes", "1,3"]) == 0
    assert [n for n, _ in _table(capsys.readouterr().out)] == [1, 3]


@pytest.mark.parametrize("name", datasets.EXTRA_DATASETS)
def test_extra_datasets_are_the_courses(name):
    pytest.importorskip("sklearn")
    X, Y = datasets.load_dataset(name)
    assert X.shape == (2, 200) and X.dtype == np.float64 and Y.shape == (1, 200) and Y.dtype == np.uint8
    assert set(np.unique(Y)) == {0, 1}  # blobs too: six blobs folded into two classes
    X2, Y2 = datasets.load_dataset(name)
    assert np.array_equal(X, X2) and np.array_equal(Y, Y2)  # the same points every time
    assert not np.array_equal(X, datasets.load_dataset(name, seed=123)[0])


def test_extra_datasets_need_scikit_learn(tmp_path):
    proc = run_without(tmp_path, "sklearn", "demo", "--dataset", "noisy_moons", status=1)
    assert "scikit-learn" in assert_one_line_error(proc)


def test_plots_need_matplotlib(tmp_path):
    proc = run_without(tmp_path, "matplotlib", "demo", "--iterations", "10", "--plot", "x.png", status=1)
    assert "matplotlib" in assert_one_line_error(proc)
    assert not (tmp_path / "x.png").exists()


# ----------------------------------------------------------------- sweep


def _table(out):
    rows = re.findall(r"^\| (\d+) \| (\d+\.\d\d)% \| [\d.]+ s \|$", out, flags=re.M)
    return [(int(n), float(a)) for n, a in rows]


def test_sweep_default_is_the_course_experiment(tmp_path):
    out = run(tmp_path, "sweep").stdout
    assert "5000 iterations" in out and "fast implementation" in out
    assert "| hidden units | accuracy | time |\n|---:|---:|---:|\n" in out
    table = _table(out)
    assert [n for n, _ in table] == list(COURSE_HIDDEN_SIZES)
    accuracy = dict(table)
    assert accuracy[1] < 75 and accuracy[4] > 85 and accuracy[5] > 85  # the course: 67.5% with one unit, ~90% with 4-5


def test_sweep_implementations_agree(tmp_path):
    args = ("sweep", "--iterations", "300", "--hidden-sizes", "2,5")
    fast_table = _table(run(tmp_path, *args).stdout)
    ref_out = run(tmp_path, *args, "--implementation", "reference").stdout
    assert "reference implementation" in ref_out
    assert _table(ref_out) == fast_table and [n for n, _ in fast_table] == [2, 5]


# ----------------------------------------------------------------- train / predict


# Small, quick settings that fit the flower well: 4 tanh units, L-BFGS.
LBFGS = ("--hidden", "4", "--activation", "tanh", "--solver", "lbfgs")


def test_train_then_predict_csv(tmp_path, flower_csv):
    data, labels = flower_csv
    out = run(tmp_path, "train", data.name, "--label", "colour", "--out", "model.npz", *LBFGS, "--quiet").stdout
    assert "400 examples, 2 features, label 'colour' with 2 classes (blue, red)" in out
    assert "training on 320, testing on 80 (stratified split)" in out
    assert "n_h = 4, tanh hidden layer, solver lbfgs, at most 200 iterations, alpha 0.0001, seed 0" in out
    assert re.search(r"training accuracy (\d+\.\d\d)%, test accuracy (\d+\.\d\d)% on 80 held-out examples", out)
    assert "wrote the model to model.npz" in out

    with np.load(tmp_path / "model.npz", allow_pickle=False) as z:
        assert {"W1", "b1", "W2", "b2", "classes", "metadata", "columns", "format_version"} <= set(z.files)
        assert z["W1"].shape == (4, 2) and z["W2"].shape == (1, 4)
        assert list(z["classes"]) == ["blue", "red"] and z["classes"].dtype.kind == "U"
        assert list(z["columns"]) == ["x1", "x2"] and int(z["format_version"]) == 2
    meta = _modelfile.read(tmp_path / "model.npz")["metadata"]
    assert meta["params"]["activation"] == "tanh" and meta["params"]["solver"] == "lbfgs" and meta["label"] == "colour"

    out = run(tmp_path, "predict", "model.npz", data.name, "--out", "pred.csv").stdout
    assert "predicted 400 examples" in out and "wrote the predictions to pred.csv" in out
    header, predicted = read_predictions(tmp_path / "pred.csv")
    assert header == "colour" and len(predicted) == 400
    assert set(predicted) <= {"red", "blue"}
    accuracy = np.mean(predicted == labels)
    assert accuracy > 0.85
    assert f"accuracy {accuracy:.2%} against the column 'colour'" in out


def test_predict_without_label_column_to_stdout(tmp_path, flower_csv):
    data, labels = flower_csv
    run(tmp_path, "train", data.name, "--label", "colour", "--out", "m.npz", *LBFGS, "--quiet")
    features_only = tmp_path / "features.csv"
    features_only.write_text("\n".join(",".join(line.split(",")[:2]) for line in data.read_text().splitlines()))
    proc = run(tmp_path, "predict", "m.npz", "features.csv")
    lines = proc.stdout.splitlines()
    assert lines[0] == "colour" and len(lines) == 401
    assert np.mean(np.array(lines[1:]) == labels) > 0.85
    assert "predicted 400 examples" in proc.stderr and "accuracy" not in proc.stderr


def test_train_then_predict_npy_three_classes(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3)) * [1, 5, 100] + [0, 10, -50]  # scales that need standardising
    y = np.argmax((X - [0, 10, -50]) / [1, 5, 100] @ rng.standard_normal((3, 3)), axis=1)
    np.save(tmp_path / "train.npy", np.column_stack([y, X]))  # the label first
    np.save(tmp_path / "features.npy", X)
    out = run(
        tmp_path,
        "train",
        "train.npy",
        "--label",
        "0",
        "--out",
        "m.npz",
        "--hidden",
        "6",
        "--solver",
        "adam",
        "--learning-rate-init",
        "0.01",
        "--max-iter",
        "300",
        "--seed",
        "1",
        "--quiet",
    ).stdout
    assert "300 examples, 3 features, label '0' with 3 classes (0, 1, 2)" in out
    assert "learning rate 0.01, batch size auto" in out and "seed 1" in out
    model = _modelfile.read(tmp_path / "m.npz")
    assert model["W1"].shape == (6, 3) and model["W2"].shape == (3, 6)
    assert model["classes"].tolist() == [0, 1, 2] and model["classes"].dtype == np.int64  # numbers stay numbers
    run(tmp_path, "predict", "m.npz", "features.npy", "--out", "p.csv")
    header, predicted = read_predictions(tmp_path / "p.csv")
    assert header == "0"
    assert np.mean(predicted == y.astype(str)) > 0.9
    out = run(tmp_path, "predict", "m.npz", "train.npy", "--out", "p2.csv").stdout  # with its label column
    assert "against the column '0'" in out
    assert np.array_equal(read_predictions(tmp_path / "p2.csv")[1], predicted)


def test_train_integer_labels_keep_numeric_order(tmp_path):
    X, Y = datasets.load_planar_dataset()
    codes = np.where(Y.ravel() == 1, 10, 2)
    (tmp_path / "d.csv").write_text("a,b,y\n" + "".join(f"{p},{q},{c}\n" for (p, q), c in zip(X.T, codes)))
    out = run(tmp_path, "train", "d.csv", "--label", "y", "--out", "m.npz", "--max-iter", "100", "--quiet").stdout
    assert "2 classes (2, 10)" in out


def _flower_split(test_size, seed):
    """The flower's rows and labels, and the train and test rows of a stratified split (sklearn's)."""
    from sklearn.model_selection import train_test_split

    X, Y = datasets.load_planar_dataset()
    rows = np.ascontiguousarray(X.T)
    labels = np.array(["red", "blue"])[Y.ravel()]
    n_test = int(np.ceil(test_size * len(rows)))
    train, test = train_test_split(np.arange(len(rows)), test_size=n_test, random_state=seed, stratify=labels)
    return rows, labels, np.sort(train), np.sort(test)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs", "gd"])
def test_train_saves_the_estimator_fitted_on_standardised_features(tmp_path, flower_csv, capsys, solver):
    """The file holds ShallowNetClassifier's network, fitted on the standardised training rows, folded."""
    from shallownet_fast import ShallowNetClassifier

    options = {
        "sgd": ["--batch-size", "32", "--learning-rate-init", "0.05", "--learning-rate", "invscaling"],
        "adam": ["--batch-size", "50", "--learning-rate-init", "0.01", "--early-stopping"],
        "lbfgs": [],
        "gd": ["--learning-rate-init", "0.5", "--learning-rate", "adaptive"],
    }[solver]
    data, _ = flower_csv
    model = tmp_path / "m.npz"
    args = ["train", str(data), "--label", "colour", "--out", str(model), "--hidden", "5", "--activation", "tanh"]
    args += ["--solver", solver, "--max-iter", "40", "--alpha", "0.001", "--seed", "3", "--test-size", "0.25"]
    assert main([*args, *options, "--quiet"]) == 0
    out = capsys.readouterr().out

    rows, labels, train, test = _flower_split(0.25, 3)
    mean, std = rows[train].mean(axis=0), rows[train].std(axis=0)
    params = {
        "sgd": dict(batch_size=32, learning_rate_init=0.05, learning_rate="invscaling"),
        "adam": dict(batch_size=50, learning_rate_init=0.01, early_stopping=True),
        "lbfgs": {},
        "gd": dict(learning_rate_init=0.5, learning_rate="adaptive"),
    }[solver]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = ShallowNetClassifier(
            hidden_layer_sizes=(5,),
            activation="tanh",
            solver=solver,
            max_iter=40,
            alpha=0.001,
            random_state=3,
            **params,
        ).fit((rows[train] - mean) / std, labels[train])
    # The file holds the same network on raw features: W1 / std, and b1 - (W1 / std) @ mean.
    W1 = est.coefs_[0].T / std
    expected = {
        "W1": W1,
        "b1": est.intercepts_[0].reshape(-1, 1) - W1 @ mean.reshape(2, 1),
        "W2": est.coefs_[1].T,
        "b2": est.intercepts_[1].reshape(-1, 1),
    }
    saved = _modelfile.read(model)
    for k in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(saved[k], expected[k], rtol=1e-12, atol=1e-14, err_msg=k)
    meta = saved["metadata"]
    assert (
        meta["params"]["solver"] == solver
        and meta["n_iter"] == est.n_iter_
        and meta["loss_curve"] == pytest.approx(est.loss_curve_, rel=1e-12)
    )
    assert meta["params"]["callback"] is None and meta["dropped_params"] == [] and meta["params"]["verbose"] is False
    # No optimizer state nor best parameters of the standardised problem next to the folded network.
    assert saved["state"] is None and saved["best"] is None and meta["state_t"] == 0
    if solver == "adam":
        assert meta["validation_scores"] == pytest.approx(est.validation_scores_, rel=1e-12)
        assert f"best validation score {est.best_validation_score_:.2%}" in out

    # The held-out score and confusion matrix, as the saved model gives them on the raw test rows.
    loaded = ShallowNetClassifier.load(model)
    predicted = loaded.predict(rows[test])
    np.testing.assert_array_equal(predicted, est.predict((rows[test] - mean) / std))
    assert f"test accuracy {np.mean(predicted == labels[test]):.2%} on 100 held-out examples" in out
    table = out[out.index("confusion matrix") :].splitlines()[1:4]
    assert table[0].split() == ["colour", "\\", "predicted", "blue", "red"]
    for line, truth in zip(table[1:], ("blue", "red")):
        counts = [int(np.sum((labels[test] == truth) & (predicted == p))) for p in ("blue", "red")]
        assert line.split() == [truth, *map(str, counts)], table


def test_test_size_zero_trains_on_every_example(tmp_path, flower_csv, capsys):
    from shallownet_fast import ShallowNetClassifier

    data, labels = flower_csv
    args = ["train", str(data), "--label", "colour", "--out", str(tmp_path / "m.npz"), "--test-size", "0"]
    assert main([*args, *LBFGS, "--max-iter", "30", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "training on 400\n" in out and "testing" not in out and "test accuracy" not in out and "confusion" not in out
    X, _ = datasets.load_planar_dataset()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = ShallowNetClassifier(
            hidden_layer_sizes=(4,), activation="tanh", solver="lbfgs", max_iter=30, random_state=0
        ).fit((X.T - X.T.mean(axis=0)) / X.T.std(axis=0), labels)
    assert f"training accuracy {est.score((X.T - X.T.mean(axis=0)) / X.T.std(axis=0), labels):.2%}" in out


def test_split_is_random_when_a_class_cannot_be_stratified(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    y = np.where(X[:, 0] > 0, "a", "b")
    y[7] = "c"  # one example: no stratified split
    (tmp_path / "d.csv").write_text("p,q,y\n" + "".join(f"{p!r},{q!r},{c}\n" for (p, q), c in zip(X.tolist(), y)))
    base = ["train", str(tmp_path / "d.csv"), "--label", "y", "--out", str(tmp_path / "m.npz"), "--max-iter", "5"]
    outcomes = set()
    for seed in range(12):
        status = main([*base, "--seed", str(seed), "--quiet"])
        captured = capsys.readouterr()
        if status == 0:
            assert "training on 32, testing on 8 (random split)" in captured.out
            outcomes.add("trained")
        else:  # the lone example of "c" fell in the held-out part
            assert status == 2 and captured.err.count("\n") == 1, captured.err
            assert "--test-size 0.2 leaves no example of the class 'c' to train on" in captured.err
            outcomes.add("refused")
    assert outcomes == {"trained", "refused"}


def test_every_solver_and_activation_trains_a_model_the_estimator_loads(tmp_path, flower_csv, capsys):
    from shallownet_fast import ShallowNetClassifier, _validation

    data, _ = flower_csv
    X, _ = datasets.load_planar_dataset()
    for solver in ("sgd", "adam", "lbfgs", "gd"):
        for activation in _validation.ACTIVATIONS:
            model = tmp_path / f"{solver}-{activation}.npz"
            args = ["train", str(data), "--label", "colour", "--out", str(model), "--hidden", "3"]
            assert main([*args, "--solver", solver, "--activation", activation, "--max-iter", "5", "--quiet"]) == 0
            est = ShallowNetClassifier.load(model)
            assert (est.solver, est.activation, est.hidden_layer_sizes) == (solver, activation, (3,))
            assert main(["predict", str(model), str(data), "--out", str(tmp_path / "p.csv")]) == 0
            _, predicted = read_predictions(tmp_path / "p.csv")
            np.testing.assert_array_equal(predicted, est.predict(X.T), err_msg=f"{solver} {activation}")
    capsys.readouterr()


def test_train_progress_line_without_tqdm(tmp_path, flower_csv):
    args = ["train", "flower.csv", "--label", "colour", "--out", "m.npz", "--hidden", "4", "--activation", "tanh"]
    proc = run_without(
        tmp_path, "tqdm", *args, "--solver", "gd", "--learning-rate-init", "0.5", "--max-iter", "50", status=0
    )
    progress = proc.stderr.splitlines()
    assert [line.split(",")[0] for line in progress] == [
        f"training: {k}/50 epochs ({k / 50:.0%})" for k in range(5, 51, 5)
    ]
    assert all(re.search(r", loss \d\.\d{6}$", line) for line in progress)
    proc = run_without(tmp_path, "tqdm", *args, "--solver", "lbfgs", "--max-iter", "30", status=0)
    assert proc.stderr.splitlines()[0] == "training: 3/30 iterations (10%)"


def test_train_progress_and_quiet(tmp_path, flower_csv):
    args = ("train", "flower.csv", "--label", "colour", "--out", "m.npz", "--max-iter", "15")
    assert "training" in run(tmp_path, *args).stderr
    assert run(tmp_path, *args, "--quiet").stderr == ""


def test_interrupted_training_writes_no_model(tmp_path, flower_csv, monkeypatch, capsys):
    from shallownet_fast.cli import _commands

    def interrupt(self, est):
        if est.n_iter_ == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(_commands._EpochProgress, "__call__", interrupt)
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the estimator's warning about the interruption is no output
        assert main(["train", "flower.csv", "--label", "colour", "--out", "m.npz", "--quiet"]) == 130
    assert capsys.readouterr().err.strip() == "shallownet-fast: interrupted"
    assert sorted(os.listdir(tmp_path)) == ["flower.csv"]


def test_train_needs_scikit_learn(tmp_path, flower_csv):
    proc = run_without(tmp_path, "sklearn", "train", "flower.csv", "--label", "colour", "--out", "m.npz", status=1)
    assert "scikit-learn" in assert_one_line_error(proc)
    assert not (tmp_path / "m.npz").exists()


# ----------------------------------------------------------------- predict --proba


@pytest.mark.parametrize("n_classes", [2, 3])
def test_predict_proba_is_the_estimators(tmp_path, capsys, n_classes):
    from shallownet_fast import ShallowNetClassifier

    rng = np.random.default_rng(n_classes)
    X = rng.standard_normal((120, 3))
    names = np.array(["ant", "bee", "cat"][:n_classes])
    y = names[np.argmax(X[:, :n_classes] + 0.3 * rng.standard_normal((120, n_classes)), axis=1)]
    (tmp_path / "d.csv").write_text(
        "a,b,c,kind\n" + "".join(f"{p!r},{q!r},{r!r},{k}\n" for (p, q, r), k in zip(X.tolist(), y))
    )
    settings = ["--max-iter", "20", "--hidden", "5", "--quiet"]
    assert main(["train", str(tmp_path / "d.csv"), "--label", "kind", "--out", str(tmp_path / "m.npz"), *settings]) == 0
    assert (
        main(["predict", str(tmp_path / "m.npz"), str(tmp_path / "d.csv"), "--proba", "--out", str(tmp_path / "p.csv")])
        == 0
    )
    assert "wrote the probabilities to" in capsys.readouterr().out
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[0].split(",") == names.tolist() and len(lines) == 121
    proba = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    expected = ShallowNetClassifier.load(tmp_path / "m.npz").predict_proba(X)
    np.testing.assert_allclose(proba, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert main(["predict", str(tmp_path / "m.npz"), str(tmp_path / "d.csv"), "--out", str(tmp_path / "c.csv")]) == 0
    _, predicted = read_predictions(tmp_path / "c.csv")
    np.testing.assert_array_equal(predicted, names[proba.argmax(axis=1)])
    capsys.readouterr()  # to stdout:
    assert main(["predict", str(tmp_path / "m.npz"), str(tmp_path / "d.csv"), "--proba"]) == 0
    assert capsys.readouterr().out.splitlines() == lines


def test_predict_runs_over_blocks_of_rows(tmp_path, flower_csv, monkeypatch, capsys):
    from shallownet_fast.cli import _commands

    args = ["--label", "colour", "--out", "m.npz", "--hidden", "30", "--max-iter", "10", "--quiet"]
    assert cli(tmp_path, "train", "flower.csv", *args) == 0
    assert cli(tmp_path, "predict", "m.npz", "flower.csv", "--proba", "--out", "one.csv") == 0
    calls = []
    real = _commands.fast.forward_propagation

    def counted(X, *a, **k):
        calls.append(X.shape[1])
        return real(X, *a, **k)

    monkeypatch.setattr(_commands.fast, "forward_propagation", counted)
    monkeypatch.setattr(_commands, "PREDICT_BLOCK_ELEMENTS", 7 * (2 + 60 + 4))
    assert cli(tmp_path, "predict", "m.npz", "flower.csv", "--proba", "--out", "blocks.csv") == 0
    assert calls == [7] * 57 + [1]  # 400 rows, 7 at a time
    one, blocks = (np.loadtxt(tmp_path / n, delimiter=",", skiprows=1) for n in ("one.csv", "blocks.csv"))
    np.testing.assert_allclose(blocks, one, rtol=1e-12, atol=1e-15)
    capsys.readouterr()


def test_predict_refuses_regressors_and_multilabel_models(tmp_path, capsys):
    from shallownet_fast import ShallowNetClassifier, ShallowNetRegressor

    X = np.random.default_rng(0).standard_normal((50, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ShallowNetRegressor(hidden_layer_sizes=(3,), max_iter=5).fit(X, X[:, 0]).save(tmp_path / "reg.npz")
        multilabel = ShallowNetClassifier(hidden_layer_sizes=(3,), max_iter=5)
        multilabel.fit(X, (X[:, :2] > 0).astype(int)).save(tmp_path / "ml.npz")
    np.save(tmp_path / "X.npy", X)
    line = assert_one_line_error(run(tmp_path, "predict", "reg.npz", "X.npy", status=2))
    assert "reg.npz: holds a regressor" in line
    assert cli(tmp_path, "predict", "ml.npz", "X.npy", "--proba") == 2  # in this process
    err = capsys.readouterr().err
    assert err.startswith("shallownet-fast: error: ml.npz: holds a multilabel classifier; predict takes a classifier")
    assert err.count("\n") == 1


# ----------------------------------------------------------------- columns and delimiters


def cli(cwd, *args):
    """main() on `args` in the folder `cwd` (the exit status)."""
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return main([str(a) for a in args])
    finally:
        os.chdir(old)


def test_features_and_drop_choose_the_columns(tmp_path, capsys):
    from shallownet_fast import ShallowNetClassifier

    X, Y = datasets.load_planar_dataset()
    labels = np.array(["red", "blue"])[Y.ravel()]
    noise = np.random.default_rng(0).standard_normal(400)
    rows = [
        f"{i},{a!r},{n!r},{b!r},{c}\n" for i, ((a, b), n, c) in enumerate(zip(X.T.tolist(), noise.tolist(), labels))
    ]
    (tmp_path / "d.csv").write_text("id,x1,noise,x2,colour\n" + "".join(rows))
    options = ["--label", "colour", *LBFGS, "--max-iter", "20", "--quiet"]
    assert cli(tmp_path, "train", "d.csv", "--out", "a.npz", "--drop", "id,noise", *options) == 0
    assert cli(tmp_path, "train", "d.csv", "--out", "b.npz", "--features", "x2,x1", *options) == 0
    assert "2 features" in capsys.readouterr().out
    a, b = _modelfile.read(tmp_path / "a.npz"), _modelfile.read(tmp_path / "b.npz")
    assert a["columns"] == ["x1", "x2"] and b["columns"] == ["x2", "x1"]
    # predict reads the model's columns by name, in any order of the file.
    (tmp_path / "e.csv").write_text(
        "x2,colour,x1\n" + "".join(f"{b!r},{c},{a!r}\n" for (a, b), c in zip(X.T.tolist(), labels))
    )
    for name, order in (("a", [0, 1]), ("b", [1, 0])):
        assert cli(tmp_path, "predict", f"{name}.npz", "e.csv", "--out", f"{name}.csv") == 0
        expected = ShallowNetClassifier.load(tmp_path / f"{name}.npz").predict(X.T[:, order])
        np.testing.assert_array_equal(read_predictions(tmp_path / f"{name}.csv")[1], expected)
    # --features maps other names to the model's inputs, in order; --drop of a column it does not read is fine.
    (tmp_path / "f.csv").write_text("u,v,w\n" + "".join(f"{a!r},{b!r},0\n" for a, b in X.T.tolist()))
    assert cli(tmp_path, "predict", "a.npz", "f.csv", "--features", "u,v", "--out", "f1.csv") == 0
    np.testing.assert_array_equal(read_predictions(tmp_path / "f1.csv")[1], read_predictions(tmp_path / "a.csv")[1])
    assert cli(tmp_path, "predict", "a.npz", "d.csv", "--drop", "noise,colour", "--out", "f2.csv") == 0
    np.testing.assert_array_equal(read_predictions(tmp_path / "f2.csv")[1], read_predictions(tmp_path / "a.csv")[1])
    capsys.readouterr()
    assert cli(tmp_path, "predict", "a.npz", "e.csv", "--drop", "x1", "--out", "f3.csv") == 2
    assert capsys.readouterr().err == "shallownet-fast: error: --drop: the model takes the column 'x1'\n"
    assert cli(tmp_path, "predict", "a.npz", "f.csv", "--features", "u,v,w", "--out", "f3.csv") == 2
    assert "--features names 3 columns; the model takes 2 (x1, x2)" in capsys.readouterr().err
    assert not (tmp_path / "f3.csv").exists()


def test_features_and_drop_for_a_model_without_column_names(tmp_path, capsys):
    from shallownet_fast import ShallowNetClassifier

    rng = np.random.default_rng(2)
    X = rng.standard_normal((80, 2))
    y = (X[:, 0] > X[:, 1]).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = ShallowNetClassifier(hidden_layer_sizes=(3,), max_iter=20, random_state=0).fit(X, y)
    est.save(tmp_path / "est.npz")
    (tmp_path / "d.csv").write_text(
        "id,p,q,junk\n" + "".join(f"{i},{a!r},{b!r},7\n" for i, (a, b) in enumerate(X.tolist()))
    )
    expected = [str(v) for v in est.predict(X)]
    for option in (["--features", "p,q"], ["--drop", "id,junk"]):
        assert cli(tmp_path, "predict", "est.npz", "d.csv", *option, "--out", "p.csv") == 0
        assert read_predictions(tmp_path / "p.csv")[1].tolist() == expected
    capsys.readouterr()
    assert cli(tmp_path, "predict", "est.npz", "d.csv", "--drop", "id") == 2
    assert "choose them with --features or --drop" in capsys.readouterr().err
    (tmp_path / "e.csv").write_text("p,q,kind\n" + "".join(f"{a!r},{b!r},x\n" for a, b in X.tolist()))
    assert cli(tmp_path, "predict", "est.npz", "e.csv") == 2
    assert "(the model names no columns: give the label column with --label)" in capsys.readouterr().err
    assert cli(tmp_path, "predict", "est.npz", "e.csv", "--label", "kind", "--out", "p.csv") == 0
    assert read_predictions(tmp_path / "p.csv")[1].tolist() == expected


@pytest.mark.parametrize("spelling", ["\\t", "tab", "\t"])
def test_tab_delimited_files(tmp_path, spelling, capsys):
    X, Y = datasets.load_planar_dataset()
    labels = np.array(["red", "blue"])[Y.ravel()]
    (tmp_path / "d.tsv").write_text(
        "x 1\tx 2\tcolour\n" + "".join(f"{a!r}\t{b!r}\t{c}\n" for (a, b), c in zip(X.T.tolist(), labels))
    )
    data, model, pred = (str(tmp_path / n) for n in ("d.tsv", "m.npz", "p.tsv"))
    assert main(["train", data, "--label", "colour", "--out", model, "--delimiter", spelling, *LBFGS, "--quiet"]) == 0
    assert _modelfile.read(model)["columns"] == ["x 1", "x 2"]
    assert main(["predict", model, data, "--delimiter", spelling, "--proba", "--out", pred]) == 0
    lines = (tmp_path / "p.tsv").read_text().splitlines()
    assert lines[0] == "blue\tred" and len(lines) == 401 and all(len(line.split("\t")) == 2 for line in lines)
    capsys.readouterr()
    assert main(["train", data, "--label", "colour", "--out", model, "--quiet"]) == 2  # read with commas: one column
    assert "no column 'colour'" in capsys.readouterr().err


# ----------------------------------------------------------------- bench


def test_bench_delegates_to_the_bench_module(tmp_path):
    out = run(tmp_path, "bench", "--help").stdout
    assert out.startswith("usage: shallownet-fast bench")
    assert "--quick" in out and "--out" in out


def test_bench_bad_argument(tmp_path):
    line = assert_one_line_error(run(tmp_path, "bench", "--workloads", "NOPE", status=2))
    assert "NOPE" in line
    assert_one_line_error(run(tmp_path, "bench", "--no-such-option", status=2))


def test_bench_without_the_bench_module(tmp_path):
    proc = run_without(tmp_path, "shallownet_fast.bench", "bench", "--quick", status=1)
    assert "shallownet_fast.bench" in assert_one_line_error(proc)


# ----------------------------------------------------------------- errors


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Bad inputs next to a good data set and model."""
    d = tmp_path_factory.mktemp("bad_inputs")
    write_flower_csv(d / "flower.csv")
    (d / "letters.csv").write_text("a,b,y\n1,x,0\n2,3,1\n")
    (d / "ragged.csv").write_text("a,b,y\n1,2\n3,4,1\n")
    (d / "one_class.csv").write_text("a,b,y\n1,2,0\n3,4,0\n")
    (d / "nan.csv").write_text("a,b,y\n1,nan,0\n3,4,1\n")
    (d / "empty.csv").write_text("")
    (d / "header_only.csv").write_text("a,b,y\n")
    (d / "other_columns.csv").write_text("p,q\n1,2\n")
    (d / "not_a_model.npz").write_text("hello")
    np.save(d / "vector.npy", np.arange(5.0))
    np.save(d / "objects.npy", np.array([[1, "a"]], dtype=object))
    np.savez(d / "incomplete.npz", W1=np.zeros((2, 2)))
    np.save(d / "no_rows.npy", np.zeros((0, 3)))
    np.save(d / "huge.npy", np.zeros((2, 3)))
    (d / "huge.npy").write_bytes((d / "huge.npy").read_bytes().replace(b"(2, 3)", b"(900000000000, 3)"))
    (d / "empty_label.csv").write_text("a,b,y\n1,2,0\n3,4,\n5,6,1\n")
    (d / "ten.csv").write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(10)))
    os.mkdir(d / "a_directory")
    run(d, "train", "flower.csv", "--label", "colour", "--out", "model.npz", "--max-iter", "10", "--quiet")
    return d


ERRORS = {
    "no such data file": ["train", "missing.csv", "--label", "y", "--out", "m.npz"],
    "no such label column": ["train", "flower.csv", "--label", "nope", "--out", "m.npz"],
    "label index out of range": ["train", "flower.csv", "--label", "7", "--out", "m.npz"],
    "non-numeric feature": ["train", "letters.csv", "--label", "y", "--out", "m.npz"],
    "ragged rows": ["train", "ragged.csv", "--label", "y", "--out", "m.npz"],
    "one class": ["train", "one_class.csv", "--label", "y", "--out", "m.npz"],
    "missing value": ["train", "nan.csv", "--label", "y", "--out", "m.npz"],
    "empty file": ["train", "empty.csv", "--label", "y", "--out", "m.npz"],
    "header only": ["train", "header_only.csv", "--label", "y", "--out", "m.npz"],
    "1-D npy": ["train", "vector.npy", "--label", "0", "--out", "m.npz"],
    "object npy": ["train", "objects.npy", "--label", "0", "--out", "m.npz"],
    "output directory missing": ["train", "flower.csv", "--label", "colour", "--out", "no/m.npz"],
    "data file is a directory": ["train", ".", "--label", "y", "--out", "m.npz"],
    "no label option": ["train", "flower.csv", "--out", "m.npz"],
    "zero hidden units": ["train", "flower.csv", "--label", "colour", "--out", "m.npz", "--hidden", "0"],
    "zero epochs": ["train", "flower.csv", "--label", "colour", "--out", "m.npz", "--max-iter", "0"],
    "bad learning rate": ["train", "flower.csv", "--label", "colour", "--out", "m.npz", "--learning-rate", "x"],
    "unknown activation": ["train", "flower.csv", "--label", "colour", "--out", "m.npz", "--activation", "elu"],
    "no such model": ["predict", "missing.npz", "flower.csv"],
    "model is not a zip": ["predict", "not_a_model.npz", "flower.csv"],
    "model is a CSV": ["predict", "flower.csv", "flower.csv"],
    "model is a .npy": ["predict", "vector.npy", "flower.csv"],
    "model misses arrays": ["predict", "incomplete.npz", "flower.csv"],
    "data lacks the features": ["predict", "model.npz", "other_columns.csv"],
    "predictions directory missing": ["predict", "model.npz", "flower.csv", "--out", "no/p.csv"],
    "0-row npy": ["train", "no_rows.npy", "--label", "0", "--out", "m.npz"],
    "npy declaring a huge shape": ["train", "huge.npy", "--label", "0", "--out", "m.npz"],
    "npy declaring a huge shape, predict": ["predict", "model.npz", "huge.npy"],
    "empty label cell": ["train", "empty_label.csv", "--label", "y", "--out", "m.npz"],
    "hidden layer larger than memory": [
        "train",
        "flower.csv",
        "--label",
        "colour",
        "--out",
        "m.npz",
        "--hidden",
        "1000000000000",
    ],
    "demo larger than memory": ["demo", "--hidden", "1000000000000", "--iterations", "1"],
    "sweep larger than memory": ["sweep", "--hidden-sizes", "1,1000000000000", "--iterations", "1"],
    "output is a directory": ["train", "flower.csv", "--label", "colour", "--out", "a_directory"],
    "output is a device": ["predict", "model.npz", "flower.csv", "--out", "/dev/full"],
    "unknown subcommand": ["frobnicate"],
    "no subcommand": [],
    "unknown option": ["demo", "--bogus"],
    "unknown data set": ["demo", "--dataset", "iris"],
    "bad hidden sizes": ["sweep", "--hidden-sizes", "1,a"],
    "zero hidden size": ["sweep", "--hidden-sizes", "0,4"],
    "unknown implementation": ["sweep", "--implementation", "gpu"],
    "plot directory missing": ["demo", "--iterations", "5", "--plot", "no/x.png"],
    "unknown image format": ["sweep", "--iterations", "5", "--plot", "x.nope"],
}


@pytest.mark.parametrize("args", list(ERRORS.values()), ids=list(ERRORS))
def test_errors_are_one_line_with_status_2(files, args, capsys, monkeypatch):
    """In-process (fast): main() returns or exits with 2 and writes one line to stderr."""
    if any(a.endswith((".png", ".nope")) for a in args):
        pytest.importorskip("matplotlib")
    monkeypatch.chdir(files)
    try:
        status = main(args)
    except SystemExit as exc:  # argparse
        status = exc.code
    captured = capsys.readouterr()
    assert status == 2, captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("shallownet-fast") and "error" in lines[0], captured.err
    assert not (files / "m.npz").exists() and not (files / "p.csv").exists()


TRAIN = ["train", "flower.csv", "--label", "colour", "--out", "m.npz"]
PREDICT = ["predict", "model.npz", "flower.csv", "--out", "p.csv"]
# A bad value of each option of train and predict: the error names the option.
OPTION_ERRORS = {
    "unknown solver": ([*TRAIN, "--solver", "newton"], "--solver"),
    "zero batch size": ([*TRAIN, "--batch-size", "0"], "--batch-size"),
    "batch size for lbfgs": ([*TRAIN, "--solver", "lbfgs", "--batch-size", "10"], "--batch-size"),
    "batch size for gd": ([*TRAIN, "--solver", "gd", "--batch-size", "10"], "--batch-size"),
    "schedule for adam": ([*TRAIN, "--learning-rate", "adaptive"], "--learning-rate"),
    "number as the schedule": ([*TRAIN, "--learning-rate", "0.1"], "--learning-rate-init"),
    "zero step size": ([*TRAIN, "--learning-rate-init", "0"], "--learning-rate-init"),
    "infinite step size": ([*TRAIN, "--learning-rate-init", "inf"], "--learning-rate-init"),
    "step size for lbfgs": ([*TRAIN, "--solver", "lbfgs", "--learning-rate-init", "0.1"], "--learning-rate-init"),
    "negative alpha": ([*TRAIN, "--alpha", "-1"], "--alpha"),
    "alpha not a number": ([*TRAIN, "--alpha", "lots"], "--alpha"),
    "nan tol": ([*TRAIN, "--tol", "nan"], "--tol"),
    "zero patience": ([*TRAIN, "--n-iter-no-change", "0"], "--n-iter-no-change"),
    "early stopping for lbfgs": ([*TRAIN, "--solver", "lbfgs", "--early-stopping"], "--early-stopping"),
    "validation fraction 1": ([*TRAIN, "--early-stopping", "--validation-fraction", "1"], "--validation-fraction"),
    "validation fraction 0": ([*TRAIN, "--early-stopping", "--validation-fraction", "0"], "--validation-fraction"),
    "validation fraction alone": ([*TRAIN, "--validation-fraction", "0.2"], "--validation-fraction"),
    "test size 1": ([*TRAIN, "--test-size", "1"], "--test-size"),
    "negative test size": ([*TRAIN, "--test-size", "-0.1"], "--test-size"),
    "test size leaving one example": ([*TRAIN, "--test-size", "0.999"], "--test-size"),
    "negative seed": ([*TRAIN, "--seed", "-1"], "--seed"),
    "seed too large": ([*TRAIN, "--seed", str(2**32)], "--seed"),
    "unknown feature": ([*TRAIN, "--features", "x1,x9"], "--features"),
    "label as a feature": ([*TRAIN, "--features", "x1,colour"], "--features"),
    "feature twice": ([*TRAIN, "--features", "x1,x1"], "--features"),
    "empty feature name": ([*TRAIN, "--features", "x1,"], "--features"),
    "no features": ([*TRAIN, "--features", ""], "--features"),
    "unknown dropped column": ([*TRAIN, "--drop", "x9"], "--drop"),
    "label dropped": ([*TRAIN, "--drop", "colour"], "--drop"),
    "features and drop overlap": ([*TRAIN, "--features", "x1,x2", "--drop", "x2"], "--drop"),
    "everything dropped": ([*TRAIN, "--drop", "x1,x2"], "--drop"),
    "two-character delimiter": ([*TRAIN, "--delimiter", ";;"], "--delimiter"),
    "empty delimiter": ([*TRAIN, "--delimiter", ""], "--delimiter"),
    "quote as delimiter": ([*TRAIN, "--delimiter", '"'], "--delimiter"),
    "digit as delimiter": ([*TRAIN, "--delimiter", "1"], "--delimiter"),
    "dot as delimiter": ([*TRAIN, "--delimiter", "."], "--delimiter"),
    "validation part too small": (
        ["train", "ten.csv", "--label", "y", "--out", "m.npz", "--test-size", "0", "--early-stopping"],
        "--early-stopping",
    ),
    "predict: unknown feature": ([*PREDICT, "--features", "x1,x9"], "--features"),
    "predict: drop a model column": ([*PREDICT, "--drop", "x2"], "--drop"),
    "predict: bad delimiter": ([*PREDICT, "--delimiter", "ab"], "--delimiter"),
    "predict: proba with a value": ([*PREDICT, "--proba=yes"], "--proba"),
}


@pytest.mark.parametrize("args, option", list(OPTION_ERRORS.values()), ids=list(OPTION_ERRORS))
def test_bad_option_values_name_the_option(files, args, option, capsys, monkeypatch):
    monkeypatch.chdir(files)
    try:
        status = main(args)
    except SystemExit as exc:  # argparse
        status = exc.code
    lines = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(lines) == 1 and lines[0].startswith("shallownet-fast"), lines
    assert option in lines[0] and "unrecognized arguments" not in lines[0], lines[0]
    assert not (files / "m.npz").exists() and not (files / "p.csv").exists()


@pytest.mark.parametrize("name", ["no such data file", "non-numeric feature", "model is a CSV", "unknown option"])
def test_errors_in_a_process(files, name):
    """The same, as a user sees it: exit status 2, one line, no traceback."""
    assert_one_line_error(run(files, *ERRORS[name], status=2))


@pytest.mark.parametrize(
    "name", ["0-row npy", "npy declaring a huge shape", "hidden layer larger than memory", "empty label cell"]
)
def test_more_errors_in_a_process(files, name):
    line = assert_one_line_error(run(files, *ERRORS[name], status=2))
    if "memory" in name:
        assert re.search(r"needs about [\d.]+ [KMGTP]iB of memory", line), line
    if "label" in name:
        assert "line 3" in line, line


# ------------------------------------------------------------- output paths


def _spellings(d):
    """Every way of naming the data file flower.csv and the model model.npz, from inside `d`."""
    os.link(d / "flower.csv", d / "hard_flower.csv")
    os.symlink("flower.csv", d / "soft_flower.csv")
    os.link(d / "model.npz", d / "hard_model.npz")
    os.symlink(d / "model.npz", d / "soft_model.npz")
    os.mkdir(d / "sub")
    return {
        "data": [
            "flower.csv",
            "./flower.csv",
            "sub/../flower.csv",
            str(d / "flower.csv"),
            "hard_flower.csv",
            "soft_flower.csv",
        ],
        "model": ["model.npz", "./model.npz", str(d / "model.npz"), "hard_model.npz", "soft_model.npz"],
    }


def test_outputs_never_overwrite_inputs(tmp_path, flower_csv):
    run(tmp_path, "train", "flower.csv", "--label", "colour", "--out", "model.npz", "--max-iter", "10", "--quiet")
    names = _spellings(tmp_path)
    before = {p: p.read_bytes() for p in (tmp_path / "flower.csv", tmp_path / "model.npz")}
    commands = []
    for out in names["data"]:
        commands.append(["train", "flower.csv", "--label", "colour", "--out", out, "--max-iter", "10"])
        commands.append(["train", "soft_flower.csv", "--label", "colour", "--out", out, "--max-iter", "10"])
        commands.append(["predict", "model.npz", "flower.csv", "--out", out])
    for out in names["model"]:
        commands.append(["predict", "model.npz", "flower.csv", "--out", out])
        commands.append(["predict", "hard_model.npz", "flower.csv", "--out", out])
    for args in commands:
        line = assert_one_line_error(run(tmp_path, *args, status=2))
        assert "refusing to overwrite" in line, (args, line)
        for path, data in before.items():
            assert path.read_bytes() == data, (args, path)


def test_a_failed_model_write_keeps_the_old_model(tmp_path, flower_csv, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "flower.csv", "--label", "colour", "--out", "model.npz", "--max-iter", "10", "--quiet"]) == 0
    old = (tmp_path / "model.npz").read_bytes()
    real, calls = np.lib.format.write_array, []

    def disk_full_at_the_third_member(fp, array, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(fp, array, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", disk_full_at_the_third_member)
    capsys.readouterr()
    assert main(["train", "flower.csv", "--label", "colour", "--out", "model.npz", "--max-iter", "20", "--quiet"]) == 2
    captured = capsys.readouterr()
    assert "No space left on device" in captured.err and "wrote" not in captured.out
    assert (tmp_path / "model.npz").read_bytes() == old
    assert sorted(os.listdir(tmp_path)) == ["flower.csv", "model.npz"]


def test_a_failed_predictions_write_keeps_the_old_file(tmp_path, flower_csv, monkeypatch, capsys):
    from shallownet_fast.cli import _files

    monkeypatch.chdir(tmp_path)
    assert main(["train", "flower.csv", "--label", "colour", "--out", "model.npz", "--max-iter", "10", "--quiet"]) == 0
    (tmp_path / "p.csv").write_text("old predictions\n")

    def failing(f, headers, columns, delimiter):
        f.write(headers[0] + "\n")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_files, "_write_rows", failing)
    capsys.readouterr()
    assert main(["predict", "model.npz", "flower.csv", "--out", "p.csv"]) == 2
    assert "wrote" not in capsys.readouterr().out
    assert (tmp_path / "p.csv").read_text() == "old predictions\n"
    assert sorted(os.listdir(tmp_path)) == ["flower.csv", "model.npz", "p.csv"]


# ------------------------------------------------------------- labels


def test_numeric_labels_are_numbers(tmp_path):
    X, Y = datasets.load_planar_dataset()
    spellings = {0: ("1", "1.0", " 1.00"), 1: ("2", "2.0", "2e0")}
    rows = [f"{float(p)!r},{float(q)!r},{spellings[c][i % 3]}\n" for i, ((p, q), c) in enumerate(zip(X.T, Y.ravel()))]
    (tmp_path / "d.csv").write_text("a,b,y\n" + "".join(rows))
    out = run(tmp_path, "train", "d.csv", "--label", "y", "--out", "m.npz", "--max-iter", "1000", "--quiet").stdout
    assert "with 2 classes (1, 2)" in out
    assert _modelfile.read(tmp_path / "m.npz")["classes"].tolist() == [1, 2]
    out = run(tmp_path, "predict", "m.npz", "d.csv", "--out", "p.csv").stdout
    header, predicted = read_predictions(tmp_path / "p.csv")
    assert set(predicted) == {"1", "2"}
    accuracy = np.mean(predicted == np.where(Y.ravel() == 0, "1", "2"))
    assert f"accuracy {accuracy:.2%}" in out and accuracy > 0.6


# ------------------------------------------------------------- one model format


def test_cli_model_loads_in_the_estimator(tmp_path, flower_csv):
    pytest.importorskip("sklearn")
    from shallownet_fast import ShallowNetClassifier

    data, labels = flower_csv
    args = ("--hidden", "4", "--activation", "tanh", "--learning-rate-init", "0.01", "--max-iter", "50", "--quiet")
    run(tmp_path, "train", data.name, "--label", "colour", "--out", "m.npz", *args)
    run(tmp_path, "predict", "m.npz", data.name, "--out", "p.csv")
    est = ShallowNetClassifier.load(tmp_path / "m.npz")
    X, _ = datasets.load_planar_dataset()
    assert est.classes_.tolist() == ["blue", "red"] and est.activation == "tanh" and est.hidden_layer_sizes == (4,)
    np.testing.assert_array_equal(est.predict(X.T), read_predictions(tmp_path / "p.csv")[1])
    for backend in ("fast", "reference"):  # and training goes on from it
        est2 = ShallowNetClassifier.load(tmp_path / "m.npz").set_params(backend=backend, max_iter=5, warm_start=True)
        est2.partial_fit(X.T, labels)
        assert est2.n_iter_ == est.n_iter_ + 1


@pytest.mark.parametrize("backend", ["fast", "reference"])
@pytest.mark.parametrize("kind", ["str", "int", "float"])
def test_estimator_model_predicts_on_the_command_line(tmp_path, backend, kind):
    pytest.importorskip("sklearn")
    from shallownet_fast import ShallowNetClassifier

    rng = np.random.default_rng(1)
    X = rng.standard_normal((90, 3))
    codes = np.argmax(X @ rng.standard_normal((3, 3)), axis=1)
    y = {"str": np.array(["ant", "bee", "cat"]), "int": np.array([-1, 5, 7]), "float": np.array([1.0, 2.0, 3.0])}[kind][
        codes
    ]
    est = ShallowNetClassifier(
        hidden_layer_sizes=(6,), max_iter=30, backend=backend, random_state=0, learning_rate_init=0.01
    )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    est.save(tmp_path / "est.npz")
    np.save(tmp_path / "X.npy", X)
    out = run(tmp_path, "predict", "est.npz", "X.npy", "--out", "p.csv").stdout
    assert "predicted 90 examples" in out
    header, predicted = read_predictions(tmp_path / "p.csv")
    expected = [str(v) if kind != "float" else f"{float(v):g}" for v in est.predict(X)]
    assert header == "label" and predicted.tolist() == expected
    np.save(tmp_path / "Xy.npy", np.column_stack([X, codes]))  # with a label column: --label names it
    proc = run(tmp_path, "predict", "est.npz", "Xy.npy", "--label", "3")
    assert "against the column '3'" in proc.stderr and proc.stdout.splitlines()[1:] == expected


def test_tampered_models_are_one_line_errors(tmp_path, flower_csv):
    run(tmp_path, "train", "flower.csv", "--label", "colour", "--out", "m.npz", "--max-iter", "10", "--quiet")
    import zipfile

    with zipfile.ZipFile(tmp_path / "m.npz") as z:
        items = [(i.filename, z.read(i)) for i in z.infolist()]
    import io
    import json

    def npy(a):
        buf = io.BytesIO()
        np.lib.format.write_array(buf, a)
        return buf.getvalue()

    bad = {
        "W2-wide": [(n, npy(np.zeros((1, 9))) if n == "W2.npy" else d) for n, d in items],
        "classes-3": [(n, npy(np.array(["a", "b", "c"])) if n == "classes.npy" else d) for n, d in items],
        "version-1": [(n, npy(np.array(1)) if n == "format_version.npy" else d) for n, d in items],
        "twice": items + [items[-1]],
    }
    meta = json.loads(np.load(io.BytesIO(dict(items)["metadata.npy"])).tobytes())
    meta["params"]["learning_rate"] = -1.0  # validated as the estimator validates it
    text = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    bad["learning-rate"] = [(n, npy(text) if n == "metadata.npy" else d) for n, d in items]
    for name, members in bad.items():
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with zipfile.ZipFile(tmp_path / f"{name}.npz", "w") as z:
                for n, d in members:
                    z.writestr(n, d)
        line = assert_one_line_error(run(tmp_path, "predict", f"{name}.npz", "flower.csv", status=2))
        assert f"{name}.npz: " in line, line
        if name == "learning-rate":
            assert "learning_rate" in line, line


def test_memory_error_is_one_line_with_the_size(files, monkeypatch, capsys):
    """A MemoryError the size check did not foresee is still one line saying how much was asked for."""
    from shallownet_fast.cli import _commands

    monkeypatch.chdir(files)
    monkeypatch.setattr(_commands, "_check_memory", lambda *args: None)
    status = main(
        ["train", "flower.csv", "--label", "colour", "--out", "m.npz", "--hidden", "1000000000000", "--quiet"]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1, err
    assert "out of memory" in err[0] and re.search(r"\d+(\.\d+)? TiB", err[0]), err[0]
    assert not (files / "m.npz").exists()


def test_python_dash_m_runs_the_command_line(monkeypatch, capsys):
    """`python -m shallownet_fast` is the command line (run in this process, as runpy runs it)."""
    import runpy

    monkeypatch.setattr(sys, "argv", ["shallownet_fast", "--help"])
    with pytest.raises(SystemExit) as exc:
        runpy.run_module("shallownet_fast", run_name="__main__", alter_sys=True)
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("usage: shallownet-fast")


def test_train_predict_demo_and_sweep_in_process(tmp_path, monkeypatch, capsys):
    """The commands through main() in this process: a model trained from a CSV file predicts its own data."""
    monkeypatch.chdir(tmp_path)
    X, Y = datasets.load_planar_dataset()
    colour = np.array(["red", "blue"])[Y.ravel()]
    np.savetxt(
        "flower.csv", np.c_[X.T.astype(str), colour], fmt="%s", delimiter=",", header="x1,x2,colour", comments=""
    )
    assert main(["train", "flower.csv", "--label", "colour", "--out", "m.npz", "--max-iter", "300", "--quiet"]) == 0
    assert main(["predict", "m.npz", "flower.csv", "--out", "p.csv"]) == 0
    predicted = np.loadtxt("p.csv", dtype=str, delimiter=",", skiprows=1)
    assert np.mean(predicted == colour) > 0.6
    assert main(["demo", "--iterations", "50"]) == 0
    assert main(["sweep", "--hidden-sizes", "1,4", "--iterations", "50"]) == 0
    out = capsys.readouterr().out
    assert "wrote the predictions to p.csv" in out and "faster" in out

"""shallownet_fast.bench: the short fast-against-reference report of ``shallownet-fast bench``, with the
prediction peers installed here (a Numba loop, ONNX Runtime, MLPClassifier)."""

import argparse
import io
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import shallownet_fast
from shallownet_fast import bench, datasets, reference


def _args(*argv):
    return bench.add_arguments(argparse.ArgumentParser()).parse_args(list(argv))


def test_the_report_prints_one_row_per_workload_with_both_times():
    out = io.StringIO()
    text = bench.run(["W1", "p1"], repeats=1, quick=True, stream=out)
    assert out.getvalue() == text
    rows = [line for line in text.splitlines() if line.startswith("| W1 ") or line.startswith("| P1 ")]
    assert len(rows) == 2
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[2].endswith("s") and cells[3].endswith("s"), row  # reference and fast times
        assert cells[4].endswith("x") and float(cells[4][:-1]) > 0, row
        assert cells[5] == "yes", row  # fast agrees with the reference
    assert "float64" in rows[0] and "usable cores" in text and "NumPy" in text


def test_measure_times_both_implementations():
    row = bench.measure(bench.WORKLOADS["P1"], repeats=2, quick=True, target=0.001)
    assert row["reference"] > 0 and row["fast"] > 0 and row["ratio"] > 0
    assert row["agreement"] == 0.0


@pytest.mark.parametrize(("workloads", "repeats"), [(["NOPE"], 1), ([], 1), (["W1"], 0)])
def test_bad_choices_raise_value_error(workloads, repeats):
    with pytest.raises(ValueError, match="NOPE|unknown workloads|repeat"):
        bench.run(workloads, repeats=repeats, stream=io.StringIO())


def test_main_writes_the_table_to_a_new_file(tmp_path, capsys):
    path = tmp_path / "bench.md"
    assert bench.main(_args("--quick", "--workloads", "P1", "--repeat", "1", "--out", str(path))) == 0
    written = path.read_text()
    assert "| P1 |" in written and written in capsys.readouterr().out + "\n"


def test_main_never_overwrites_a_file(tmp_path):
    path = tmp_path / "kept.md"
    path.write_text("mine")
    with pytest.raises(ValueError, match="exists"):
        bench.main(_args("--quick", "--workloads", "P1", "--out", str(path)))
    assert path.read_text() == "mine"


def test_time_formatting():
    assert bench._fmt_time(2.5) == "2.5 s"
    assert bench._fmt_time(0.0031) == "3.1 ms"
    assert bench._fmt_time(4.2e-6) == "4.2 us"
    assert bench._fmt_time(5e-9) == "5 ns"


# ----------------------------------------------------------------- prediction against the peers


def _flower_network():
    X, Y = datasets.load_planar_dataset()
    return reference.nn_model(X, Y, 4, 300, learning_rate=1.2, seed=0)


def _networks():
    """The flower network, and a random wider one, each with inputs spread over both labels."""
    rng = np.random.default_rng(7)
    wide = reference.initialize_parameters(9, 13, 1, init="xavier", seed=3)
    return [
        (_flower_network(), rng.uniform(-4.0, 4.0, (2, 300))),
        (wide, rng.standard_normal((9, 200))),
    ]


def _peer_rows(text):
    """{(peer, workload): cells} of the table of peers."""
    table = text[text.index("## Prediction against the peers") :]
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 7 and cells[0] != "peer":
            rows[cells[0], cells[1]] = cells
    return rows


def test_the_numba_loop_predicts_the_references_labels():
    pytest.importorskip("numba")
    loop = bench.numba_predict()
    assert bench.numba_predict() is loop  # compiled once
    for params, X in _networks():
        expected = reference.predict(params, X)
        assert 0 < expected.sum() < expected.size  # both labels occur
        got = loop(X, params["W1"], params["b1"], params["W2"], params["b2"])
        assert got.shape == expected.shape and got.dtype == np.bool_
        np.testing.assert_array_equal(got, expected)


def test_onnx_runtime_predicts_the_references_labels():
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    for params, X in _networks():
        expected = reference.predict(params, X)
        got = bench.onnx_predict(params)(X)
        assert got.shape == expected.shape and got.dtype == np.bool_
        np.testing.assert_array_equal(got, expected)
    params32 = {k: a.astype(np.float32) for k, a in _flower_network().items()}
    X32 = np.random.default_rng(2).uniform(-4.0, 4.0, (2, 50)).astype(np.float32)
    np.testing.assert_array_equal(bench.onnx_predict(params32)(X32), reference.predict(params32, X32))


def test_onnx_runtime_takes_one_output_unit_only():
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    params = reference.initialize_parameters(3, 4, 2, seed=0)
    with pytest.raises(ValueError, match="one output unit"):
        bench.onnx_predict(params)


def test_the_estimator_pair_holds_one_network():
    pytest.importorskip("sklearn")
    net, mlp = bench.estimator_pair(n_features=6, n_hidden=5)
    assert net.coefs_[0].shape == (6, 5) and mlp.classes_.tolist() == net.classes_.tolist() == [0, 1, 2]
    for ours, theirs in zip(net.coefs_ + net.intercepts_, mlp.coefs_ + mlp.intercepts_):
        np.testing.assert_array_equal(ours, theirs)
        assert not np.shares_memory(ours, theirs)  # copies: nothing MLPClassifier does reaches ours
    X = bench.estimator_rows(40, 6)
    assert X.shape == (40, 6) and X.dtype == np.float64 and X.flags.c_contiguous
    # the probabilities from the formula itself (softmax of the tanh network's logits)
    Z = np.tanh(X @ net.coefs_[0] + net.intercepts_[0]) @ net.coefs_[1] + net.intercepts_[1]
    expected = np.exp(Z - Z.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(net.predict_proba(X), expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(mlp.predict_proba(X), expected, rtol=1e-12, atol=1e-15)


def test_the_report_times_the_installed_peers_with_fast():
    for module in ("numba", "onnx", "onnxruntime", "sklearn"):
        pytest.importorskip(module)
    text = bench.run(["P64", "E1"], repeats=1, quick=True, stream=io.StringIO())
    assert "| P64 | predict, per call: n_x 2, n_h 4, m 64, float64 |" in text
    assert not any(line.startswith("| E1 ") for line in text.splitlines())  # in the table of peers only
    rows = _peer_rows(text)
    assert set(rows) == {
        ("Numba loop", "P64"),
        ("ONNX Runtime, 1 thread", "P64"),
        ("MLPClassifier.predict_proba", "E1"),
    }
    for cells in rows.values():
        assert cells[3].endswith("s") and cells[4].endswith("s"), cells
        assert float(cells[5][:-1]) > 0 and cells[6] == "yes", cells
    assert rows["MLPClassifier.predict_proba", "E1"][2] == "1"
    assert "Not installed" not in text


def test_peers_not_installed_are_left_out_and_named(monkeypatch):
    monkeypatch.setattr(bench, "installed", lambda module: False)
    text = bench.run(["P1", "E1K"], repeats=1, quick=True, stream=io.StringIO())
    assert "Not installed, left out: numba, onnxruntime, scikit-learn." in text
    assert _peer_rows(text) == {}
    assert "| P1 |" in text  # fast and the reference still timed


def test_a_training_report_has_no_table_of_peers():
    text = bench.run(["W1"], repeats=1, quick=True, stream=io.StringIO())
    assert "peers" not in text


def test_measure_without_peers():
    row = bench.measure(bench.WORKLOADS["P10K"], repeats=1, quick=True, target=0.001, peers=False)
    assert row["m"] == 10_000 and row["peers"] == [] and row["agreement"] == 0.0


def test_installed_looks_modules_up():
    assert bench.installed("numpy") and not bench.installed("no_such_module_here")
    assert not bench.installed("no_such_package.sub")


def test_importing_the_report_imports_no_peer():
    root = str(Path(shallownet_fast.__file__).resolve().parents[1])  # where the imported package lives
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    code = (
        "import sys, shallownet_fast.bench, shallownet_fast.cli; "
        "print(sorted(m for m in ('numba', 'onnx', 'onnxruntime', 'sklearn', 'torch') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_new_workload_names_are_case_blind():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text = bench.run(["p10k"], repeats=1, quick=True, stream=io.StringIO())
    assert "| P10K | predict, per call: n_x 2, n_h 4, m 10000, float64 |" in text

"""Data and model files of the command line (shallownet_fast.io)."""

import io

import numpy as np
import pytest

from shallownet_fast import fast
from shallownet_fast import io as snio


def test_csv_with_bom_quotes_spaces_and_blank_lines(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text('\ufeffx1, x2 ,label\n1.5, 2,"a, b"\n\n-3e2,4.25 , c \n', encoding="utf-8")
    data = snio.read_dataset(path, label="label")
    np.testing.assert_array_equal(data.X, [[1.5, 2.0], [-300.0, 4.25]])
    assert data.features == ["x1", "x2"] and data.label == "label"
    assert list(data.labels) == ["a, b", "c"]


def test_label_by_index(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("y,a,b\n0,1,2\n1,3,4\n")
    for label in ("0", 0, "-3", "y"):
        data = snio.read_dataset(path, label=label)
        assert data.label == "y" and data.features == ["a", "b"] and list(data.labels) == ["0", "1"]


def test_npy_labels_as_text(tmp_path):
    np.save(tmp_path / "f.npy", np.array([[0.5, 1.0], [1.5, 2.0], [2.5, 1.0]]))
    data = snio.read_dataset(tmp_path / "f.npy", label=1)
    assert list(data.labels) == ["1", "2", "1"]  # integral floats: no ".0"
    np.testing.assert_array_equal(data.X, [[0.5], [1.5], [2.5]])
    assert data.features == ["0"] and data.label == "1"


def test_features_selected_by_name(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("b,extra,a\n1,x,2\n3,y,4\n")
    data = snio.read_dataset(path, label="missing", features=["a", "b"])
    np.testing.assert_array_equal(data.X, [[2, 1], [4, 3]])
    assert data.labels is None
    with pytest.raises(KeyError, match="no column 'c'"):
        snio.read_dataset(path, features=["a", "c"])


@pytest.mark.parametrize(
    "labels, classes",
    [(["10", "2", "2", "1"], ["1", "2", "10"]), (["b", "a", "c", "a"], ["a", "b", "c"]), (["-1", "1"], ["-1", "1"])],
)
def test_encode_labels(labels, classes):
    got, y = snio.encode_labels(np.array(labels))
    assert list(got) == classes
    assert list(got[y]) == labels


def test_standardise_keeps_constant_features_finite():
    X = np.array([[1.0, 5.0], [3.0, 5.0]])
    mean, std = snio.standardise(X)
    np.testing.assert_array_equal(mean, [2.0, 5.0])
    np.testing.assert_array_equal(std, [1.0, 1.0])


def test_model_round_trip(tmp_path):
    params = fast.initialize_parameters(3, 5, 4, seed=0)
    path = tmp_path / "model.bin"  # written as given: no ".npz" appended
    snio.save_model(path, params, activation="relu", classes=["x", "y", "z", "w"], features=["a", "b", "c"],
                    label="kind", mean=np.zeros(3), std=np.ones(3))  # fmt: skip
    assert path.exists()
    model = snio.load_model(path)
    for k in params:
        np.testing.assert_array_equal(model["parameters"][k], params[k])
    assert model["activation"] == "relu" and model["label"] == "kind" and model["features"] == ["a", "b", "c"]
    assert list(model["classes"]) == ["x", "y", "z", "w"] and model["format_version"] == snio.MODEL_FORMAT_VERSION


def test_load_model_rejects_other_versions_and_inconsistent_files(tmp_path):
    params = fast.initialize_parameters(2, 3, 1, seed=0)
    good = dict(params, activation=np.array("tanh"), classes=np.array(["a", "b"]), features=np.array(["p", "q"]),
                label=np.array("y"), mean=np.zeros(2), std=np.ones(2), format_version=np.array(99))  # fmt: skip
    np.savez(tmp_path / "v99.npz", **good)
    with pytest.raises(ValueError, match="format version 99"):
        snio.load_model(tmp_path / "v99.npz")
    np.savez(tmp_path / "bad.npz", **dict(good, format_version=np.array(1), classes=np.array(["a", "b", "c"])))
    with pytest.raises(ValueError, match="3 classes for 1 outputs"):
        snio.load_model(tmp_path / "bad.npz")
    with pytest.raises(FileNotFoundError):
        snio.load_model(tmp_path / "missing.npz")


def test_write_predictions_quotes_when_needed(tmp_path):
    buffer = io.StringIO()
    snio.write_predictions(buffer, "label", ["a", "b, c"])
    assert buffer.getvalue() == 'label\na\n"b, c"\n'
    snio.write_predictions(tmp_path / "p.csv", "label", ["a"])
    assert (tmp_path / "p.csv").read_text() == "label\na\n"

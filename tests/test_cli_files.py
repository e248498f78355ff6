"""The command line's data files (shallownet_fast.cli._files): tables in, predictions out."""

import io
import os

import numpy as np
import pytest

from shallownet_fast.cli import _files


def test_csv_with_bom_quotes_spaces_and_blank_lines(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text('\ufeffx1, x2 ,label\n1.5, 2,"a, b"\n\n,,\n-3e2,4.25 , c \n', encoding="utf-8")
    data = _files.read_dataset(path, label="label")
    np.testing.assert_array_equal(data.X, [[1.5, 2.0], [-300.0, 4.25]])
    assert data.X.dtype == np.float64
    assert data.features == ["x1", "x2"] and data.label == "label"
    assert data.classes.tolist() == ["a, b", "c"] and data.codes.tolist() == [0, 1]


def test_label_by_index(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("y,a,b\n0,1,2\n1,3,4\n")
    for label in ("0", 0, "-3", "y"):
        data = _files.read_dataset(path, label=label)
        assert data.label == "y" and data.features == ["a", "b"] and data.classes.tolist() == [0, 1]


def test_npy_labels_are_numbers(tmp_path):
    np.save(tmp_path / "f.npy", np.array([[0.5, 1.0], [1.5, 2.0], [2.5, 1.0]]))
    data = _files.read_dataset(tmp_path / "f.npy", label=1)
    assert data.classes.dtype == np.int64 and data.classes.tolist() == [1, 2]  # integral floats: ints
    assert data.codes.tolist() == [0, 1, 0]
    np.testing.assert_array_equal(data.X, [[0.5], [1.5], [2.5]])
    assert data.features == ["0"] and data.label == "1"


def test_features_selected_by_name(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("b,extra,a\n1,x,2\n3,y,4\n")
    data = _files.read_dataset(path, label="missing", features=["a", "b"])
    np.testing.assert_array_equal(data.X, [[2, 1], [4, 3]])
    assert data.classes is None and data.codes is None
    with pytest.raises(ValueError, match="no column 'c'"):
        _files.read_dataset(path, features=["a", "c"])


@pytest.mark.parametrize(
    "labels, classes, codes",
    [
        (["10", "2", "2", "1"], [1, 2, 10], [2, 1, 1, 0]),
        (["1", "1.0", "2", " 2.00 "], [1, 2], [0, 0, 1, 1]),  # the same numbers in other spellings: one class
        (["0.5", "1", "-1e-1"], [-0.1, 0.5, 1.0], [1, 2, 0]),
        (["b", "a", "c", "a"], ["a", "b", "c"], [1, 0, 2, 0]),
        (["-1", "1"], [-1, 1], [0, 1]),
        (["1", "x", "1.0"], ["1", "1.0", "x"], [0, 2, 1]),  # not all numbers: text
    ],
)
def test_label_classes(tmp_path, labels, classes, codes):
    path = tmp_path / "d.csv"
    path.write_text("f,y\n" + "".join(f"{i},{t}\n" for i, t in enumerate(labels)))
    data = _files.read_dataset(path, label="y")
    assert data.classes.tolist() == classes and data.codes.tolist() == codes


def test_class_text():
    assert [_files.class_text(v) for v in (2, 2.0, np.float32(2.5), np.int64(-3), True, "a b")] == [
        "2",
        "2",
        "2.5",
        "-3",
        "True",
        "a b",
    ]


def test_empty_label_cell_names_the_line(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,y\n1,x\n2,\n3,y\n")
    with pytest.raises(ValueError, match=r"line 3: empty label cell \(column 'y'\)"):
        _files.read_dataset(path, label="y")


@pytest.mark.parametrize(
    "body, message",
    [
        ("1,x\n,y\n", r"line 3: column 'a': an empty cell"),
        ("1,x\nq,y\n", r"line 3: column 'a': 'q' is not a number"),
        ("1,x\nnan,y\n", r"column 'a' has a missing or non-finite value in data row 2"),
        ("1,x\n2\n", r"line 3: 1 cells, the header has 2"),
        ("", r"no data rows"),
    ],
)
def test_bad_cells(tmp_path, body, message):
    path = tmp_path / "d.csv"
    path.write_text("a,y\n" + body)
    with pytest.raises(ValueError, match=message):
        _files.read_dataset(path, label="y")


def test_npy_without_rows_or_with_a_huge_declared_shape(tmp_path):
    np.save(tmp_path / "empty.npy", np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"no data \(shape \(0, 3\)\)"):
        _files.read_dataset(tmp_path / "empty.npy", label=0)
    np.save(tmp_path / "huge.npy", np.zeros((2, 3)))
    raw = (tmp_path / "huge.npy").read_bytes().replace(b"(2, 3)", b"(900000000000, 3)")
    (tmp_path / "huge.npy").write_bytes(raw)
    with pytest.raises(ValueError, match=r"declares shape \(900000000000, 3\)"):
        _files.read_dataset(tmp_path / "huge.npy", label=0)


def test_write_predictions_quotes_when_needed(tmp_path):
    buffer = io.StringIO()
    _files.write_predictions(buffer, "label", ["a", "b, c"])
    assert buffer.getvalue() == 'label\na\n"b, c"\n'
    _files.write_predictions(tmp_path / "p.csv", "label", ["a"])
    assert (tmp_path / "p.csv").read_text() == "label\na\n"


def test_failed_prediction_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "p.csv"
    target.write_text("old\n")

    class Boom:
        def __iter__(self):
            yield "a"
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        _files.write_predictions(target, "label", Boom())
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["p.csv"]


def test_reading_a_csv_takes_about_the_memory_of_its_arrays(tmp_path):
    """Peak traced memory while reading, in a fresh process: at most twice the arrays it returns."""
    import subprocess
    import sys
    from pathlib import Path

    import shallownet_fast

    rng = np.random.default_rng(0)
    m, k = 50_000, 8
    X = rng.standard_normal((m, k))
    labels = np.array(["alpha", "beta", "gamma"])[rng.integers(0, 3, m)]
    with open(tmp_path / "big.csv", "w") as f:
        f.write(",".join(f"x{j}" for j in range(k)) + ",label\n")
        f.writelines(",".join(map(repr, row.tolist())) + f",{lab}\n" for row, lab in zip(X, labels))
    assert (tmp_path / "big.csv").stat().st_size > 7 << 20
    code = (
        "import sys, tracemalloc\n"
        "from shallownet_fast.cli import _files\n"
        "tracemalloc.start()\n"
        "d = _files.read_dataset(sys.argv[1], label='label')\n"
        "peak = tracemalloc.get_traced_memory()[1]\n"
        "print(peak, d.X.nbytes + d.codes.nbytes + d.classes.nbytes)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(Path(shallownet_fast.__file__).resolve().parents[1]))
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "big.csv")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    ).stdout
    peak, final = map(int, out.split())
    assert final >= m * k * 8
    assert peak <= 2 * final, f"reading took {peak} bytes for {final} bytes of arrays"


def test_drop_and_user_features(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("id,a,b,y\n7,1,2,0\n8,3,4,1\n")
    data = _files.read_dataset(path, label="y", drop=["id"])
    np.testing.assert_array_equal(data.X, [[1, 2], [3, 4]])
    assert data.features == ["a", "b"] and data.label == "y"
    data = _files.read_dataset(path, label="y", features=["b", "id"], option="--features")
    np.testing.assert_array_equal(data.X, [[2, 7], [4, 8]])
    assert data.features == ["b", "id"] and data.codes.tolist() == [0, 1]
    data = _files.read_dataset(path, label="y", features=["b", "a", "id"], drop=[], option="--features")
    assert data.features == ["b", "a", "id"]
    np.save(tmp_path / "d.npy", np.array([[7.0, 1, 2, 0], [8, 3, 4, 1]]))
    data = _files.read_dataset(tmp_path / "d.npy", label="3", drop=["0"])  # .npy columns are named by index
    assert data.features == ["1", "2"] and data.classes.tolist() == [0, 1]


@pytest.mark.parametrize(
    "label, features, drop, message",
    [
        ("y", ["a", "zz"], None, "--features: .*no column 'zz'"),
        ("y", ["a", "a"], None, "--features: names the column 'a' twice"),
        ("y", ["a", "y"], None, "--features: 'y' is the label column, not a feature"),
        ("y", None, ["zz"], "--drop: .*no column 'zz'"),
        ("y", None, ["y"], "--drop: 'y' is the label column, not a feature"),
        ("y", None, ["a", "a"], "--drop: names the column 'a' twice"),
        ("y", ["a", "b"], ["b"], "--features and --drop both name 'b'"),
        ("y", None, ["id", "a", "b"], "--drop leaves no feature columns"),
    ],
)
def test_bad_features_and_drop(tmp_path, label, features, drop, message):
    path = tmp_path / "d.csv"
    path.write_text("id,a,b,y\n7,1,2,0\n8,3,4,1\n")
    with pytest.raises(ValueError, match=message):
        _files.read_dataset(path, label=label, features=features, drop=drop, option="--features")


def test_delimiters(tmp_path):
    path = tmp_path / "d.tsv"
    path.write_text('a\tb c\ty\n1.5\t2\t"x\ty"\n3\t4\tz\n')
    data = _files.read_dataset(path, label="y", delimiter="\t")
    np.testing.assert_array_equal(data.X, [[1.5, 2], [3, 4]])
    assert data.features == ["a", "b c"] and data.classes.tolist() == ["x\ty", "z"]
    (tmp_path / "d.ssv").write_text("a;b;y\n1,5;2;0\n")
    with pytest.raises(ValueError, match=r"column 'a': '1,5' is not a number"):
        _files.read_dataset(tmp_path / "d.ssv", label="y", delimiter=";")


def test_write_table(tmp_path):
    buf = io.StringIO()
    _files.write_table(buf, ["a", "b;c"], [np.array([0.1, 1 / 3]), ["x", "y;z"]], delimiter=";")
    assert buf.getvalue() == 'a;"b;c"\n0.1;x\n0.3333333333333333;"y;z"\n'
    _files.write_table(tmp_path / "t.csv", ["p"], [np.array([1.0, 2.5], np.float32)])
    assert (tmp_path / "t.csv").read_text() == "p\n1.0\n2.5\n"

"""Data and model files for the command line's ``train`` and ``predict``.

Data: a CSV file (a header row of column names, then one example per row,
numeric feature columns and a label column of numbers or strings) or a .npy
file (a 2-D numeric array, one example per row, the label column given by
its index).  Examples are rows in the files and columns in the network: the
functions here return X of shape (m, n_features) and the caller transposes.

Models: a .npz file (:func:`numpy.savez`) readable with
``allow_pickle=False``: the parameters W1, b1, W2, b2, the activation, the
class names, the feature names, the label name and the standardisation
(mean, std), with a format version.
"""

import csv
import os
import zipfile
from typing import Any, cast

import numpy as np

__all__ = [
    "MODEL_FORMAT_VERSION",
    "Dataset",
    "read_table",
    "read_dataset",
    "encode_labels",
    "standardise",
    "save_model",
    "load_model",
    "write_predictions",
]

MODEL_FORMAT_VERSION = 1
_MODEL_KEYS = ("W1", "b1", "W2", "b2", "activation", "classes", "features", "label", "mean", "std", "format_version")


class Dataset:
    """Features and labels read from a file.

    Attributes
    ----------
    X : ndarray of shape (m, n_features), float64
        One example per row, as in the file.
    labels : ndarray of shape (m,) of str, or None
        The label column as text (None when the file has none).
    features : list of str
        The names of the feature columns (for a .npy file, their indices).
    label : str or None
        The label column's name (for a .npy file, its index).
    """

    def __init__(self, X, labels, features, label):
        self.X, self.labels, self.features, self.label = X, labels, features, label

    def __repr__(self):
        return f"Dataset(X of shape {self.X.shape}, features {self.features}, label {self.label!r})"


def _is_npy(path):
    return os.fspath(path).lower().endswith(".npy")


def read_table(path):
    """The columns of a data file, by name.

    Parameters
    ----------
    path : str or path-like
        A CSV file with a header row (any extension but .npy), or a .npy file
        holding a 2-D numeric array (its columns are named "0", "1", ...).

    Returns
    -------
    names : list of str
        The column names, in file order.
    columns : list of ndarray of shape (m,)
        Each column: str for CSV (cells stripped of surrounding spaces),
        the array's dtype for .npy.

    Raises
    ------
    OSError
        When the file cannot be read.
    ValueError
        When it is not a table: an empty CSV, rows of different lengths,
        duplicate column names, or a .npy array that is not 2-D and numeric.
    """
    name = os.fspath(path)
    if _is_npy(name):
        try:
            a = np.load(name, allow_pickle=False)
        except ValueError as exc:
            raise ValueError(f"{name}: not a numeric .npy array ({exc})") from None
        if not isinstance(a, np.ndarray) or a.ndim != 2 or a.dtype.kind not in "biuf":
            raise ValueError(
                f"{name}: expected a 2-D numeric array (one example per row), got shape {np.shape(a)} and dtype {a.dtype}"
            )
        return [str(j) for j in range(a.shape[1])], [a[:, j] for j in range(a.shape[1])]
    with open(name, newline="", encoding="utf-8-sig") as f:
        try:
            rows = [[cell.strip() for cell in row] for row in csv.reader(f) if any(cell.strip() for cell in row)]
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ValueError(f"{name}: not a readable CSV file ({exc})") from None
    if not rows:
        raise ValueError(f"{name}: empty file (a CSV file needs a header row of column names)")
    header, body = rows[0], rows[1:]
    if len(set(header)) != len(header):
        raise ValueError(f"{name}: duplicate column names in the header {header}")
    for i, row in enumerate(body):
        if len(row) != len(header):
            raise ValueError(f"{name}: row {i + 2} has {len(row)} cells, the header has {len(header)}")
    if not body:
        raise ValueError(f"{name}: no data rows after the header")
    columns = np.array(body, dtype=str).T if body else np.empty((len(header), 0), str)
    return header, list(columns)


def _numeric(name, column, where):
    if column.dtype.kind in "biuf":
        values = column.astype(np.float64)
    else:
        try:
            values = column.astype(np.float64)
        except ValueError:
            bad = next(c for c in column if not _parses(c))
            raise ValueError(f"{where}: column {name!r} is not numeric (found {str(bad)!r})") from None
    if not np.isfinite(values).all():
        raise ValueError(f"{where}: column {name!r} has missing or non-finite values")
    return values


def _parses(cell):
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _label_text(column):
    """A label column as text: numbers that are integers without a decimal point ("1", not "1.0")."""
    if column.dtype.kind in "biu":
        return column.astype(str)
    if column.dtype.kind == "f":
        if np.all(np.isfinite(column)) and np.all(column == np.round(column)):
            return column.astype(np.int64).astype(str)
        return column.astype(str)
    return column.astype(str)


def _find_column(names, label, where):
    if label in names:
        return names.index(label)
    try:
        j = int(label)
    except ValueError:
        raise KeyError(f"{where}: no column {label!r} (columns: {', '.join(names)})") from None
    if not -len(names) <= j < len(names):
        raise KeyError(f"{where}: no column {j} (the file has {len(names)} columns)")
    return j % len(names)


def read_dataset(path, label=None, features=None):
    """Features and labels of a data file.

    Parameters
    ----------
    path : str or path-like
        A CSV or .npy file (see :func:`read_table`).
    label : str or int, optional
        The label column: a name, or an index (negative counts from the end;
        for .npy files an index is the only name).  None: no label column
        (every column not in `features` is ignored).
    features : list of str, optional
        The feature columns, by name (a trained model's; see
        :func:`load_model`).  Default: every column but the label.  For a
        .npy file without the label column, the array's columns are taken
        as the features in order when their number matches.

    Returns
    -------
    Dataset
        X of shape (m, n_features) in float64, and the labels as text
        (shape (m,)) when `label` names a column of the file.

    Raises
    ------
    OSError, ValueError
        As :func:`read_table`, and for a non-numeric or non-finite feature.
    KeyError
        When `label` or a feature is not a column of the file.
    """
    where = os.fspath(path)
    names, columns = read_table(path)
    j_label = None
    if label is not None:
        try:
            j_label = _find_column(names, str(label), where)
        except KeyError:
            if features is None:
                raise
    if features is None:
        cols = [j for j in range(len(names)) if j != j_label]
    elif _is_npy(where) and len(names) == len(features):
        cols, j_label = list(range(len(names))), None  # the array holds the features only
    else:
        cols = [_find_column(names, str(f), where) for f in features]
        if j_label in cols:
            j_label = None
    if not cols:
        raise ValueError(f"{where}: no feature columns (only the label column {names[j_label]!r})")
    X = np.column_stack([_numeric(names[j], columns[j], where) for j in cols])
    labels = None if j_label is None else _label_text(columns[j_label])
    return Dataset(X, labels, [names[j] for j in cols], None if j_label is None else names[j_label])


def encode_labels(labels):
    """Class names and class indices of a label column.

    Parameters
    ----------
    labels : ndarray of shape (m,) of str

    Returns
    -------
    classes : ndarray of shape (K,) of str
        The distinct labels, in numeric order when they are all integers,
        in text order otherwise.
    y : ndarray of shape (m,), int64
        The index in `classes` of each label, 0 .. K - 1.
    """
    labels = np.asarray(labels).astype(str)
    distinct = np.unique(labels)
    try:
        distinct = np.array(sorted(distinct, key=int), dtype=str)
    except ValueError:
        pass
    index = {c: k for k, c in enumerate(distinct)}
    return distinct, np.array([index[c] for c in labels], dtype=np.int64)


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


def save_model(path, parameters, *, activation, classes, features, label, mean, std):
    """Write a trained model to a .npz file (readable with ``allow_pickle=False``).

    Parameters
    ----------
    path : str or path-like
        The file, written as given (no ".npz" appended).
    parameters : dict with W1 (n_h, n_x), b1 (n_h, 1), W2 (n_y, n_h), b2 (n_y, 1)
    activation : str
        The hidden activation the network was trained with.
    classes : sequence of str of length K
        Class names: output k (n_y = K > 2) or output True (n_y = 1, K = 2) is
        ``classes[k]`` / ``classes[1]``.
    features : sequence of str of length n_x
        The feature columns, in the order the network takes them.
    label : str
        The label column's name.
    mean, std : ndarray of shape (n_x,)
        The standardisation: the network sees ``(x - mean) / std``.
    """
    arrays = {k: np.asarray(parameters[k], dtype=np.float64) for k in ("W1", "b1", "W2", "b2")}
    arrays.update(
        activation=np.array(activation, dtype=str),
        classes=np.array(list(classes), dtype=str),
        features=np.array(list(features), dtype=str),
        label=np.array(label, dtype=str),
        mean=np.asarray(mean, dtype=np.float64),
        std=np.asarray(std, dtype=np.float64),
        format_version=np.array(MODEL_FORMAT_VERSION),
    )
    with open(path, "wb") as f:
        np.savez(f, **cast("dict[str, Any]", arrays))  # cast: else mypy matches them to allow_pickle


def load_model(path):
    """Read a model written by :func:`save_model`.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    dict
        "parameters" (dict of W1, b1, W2, b2), "activation" (str), "classes"
        (ndarray of shape (K,) of str), "features" (list of str), "label"
        (str), "mean" and "std" (ndarray of shape (n_x,)), "format_version" (int).

    Raises
    ------
    OSError
        When the file cannot be read.
    ValueError
        When it is not a model of this format (missing or inconsistent arrays,
        another format version).
    """
    where = os.fspath(path)
    with open(where, "rb") as f:  # OSError for a missing or unreadable file
        try:
            z = np.load(f, allow_pickle=False)
        except (ValueError, EOFError, OSError, zipfile.BadZipFile) as exc:
            raise ValueError(f"{where}: not a model file ({exc})") from None
        if not isinstance(z, np.lib.npyio.NpzFile):
            raise ValueError(f"{where}: not a model file (a .npy array, not a .npz archive)")
        try:
            with z:
                data = {k: z[k] for k in z.files}
        except (ValueError, EOFError, OSError, KeyError, zipfile.BadZipFile) as exc:
            raise ValueError(f"{where}: not a model file ({exc})") from None
    missing = [k for k in _MODEL_KEYS if k not in data]
    if missing:
        raise ValueError(f"{where}: not a shallownet-fast model (missing {', '.join(missing)})")
    version = int(data["format_version"])
    if version != MODEL_FORMAT_VERSION:
        raise ValueError(f"{where}: model format version {version}; this version reads {MODEL_FORMAT_VERSION}")
    params = {k: data[k] for k in ("W1", "b1", "W2", "b2")}
    n_h, n_x = params["W1"].shape
    n_y = params["W2"].shape[0]
    classes = data["classes"].astype(str)
    features = [str(f) for f in data["features"]]
    if len(features) != n_x or data["mean"].shape != (n_x,) or data["std"].shape != (n_x,):
        raise ValueError(f"{where}: inconsistent model ({len(features)} features for W1 of shape {(n_h, n_x)})")
    if len(classes) != (2 if n_y == 1 else n_y):
        raise ValueError(f"{where}: inconsistent model ({len(classes)} classes for {n_y} outputs)")
    return {
        "parameters": params,
        "activation": str(data["activation"]),
        "classes": classes,
        "features": features,
        "label": str(data["label"]),
        "mean": data["mean"],
        "std": data["std"],
        "format_version": version,
    }


def write_predictions(file, header, predictions):
    """Write predictions as a one-column CSV: a header, then one class name per line.

    Parameters
    ----------
    file : str, path-like or text file
        A path (overwritten) or an open text file such as sys.stdout.
    header : str
        The column's name (the label column's name of the model).
    predictions : sequence of str of length m
    """
    if hasattr(file, "write"):
        _write_column(file, header, predictions)
        return
    with open(file, "w", newline="", encoding="utf-8") as f:
        _write_column(f, header, predictions)


def _write_column(f, header, predictions):
    writer = csv.writer(f, lineterminator="\n")
    writer.writerow([header])
    writer.writerows([p] for p in predictions)

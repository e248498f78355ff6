"""The command line's data files: CSV and .npy tables in, predictions out.

Data: a CSV file (a header row of column names, then one example per row,
numeric feature columns and a label column of numbers or strings) or a .npy
file (a 2-D numeric array, one example per row, its columns named by their
indices).  Examples are rows in the files and columns in the network: the
functions here return X of shape (m, n_features) and the caller transposes.

Columns: by default every column but the label is a feature; ``features``
(``--features``) chooses them by name, in order, and ``drop`` (``--drop``)
leaves some out.  A CSV file's delimiter is any one character (``delimiter``).

Labels: a label column whose every cell is a number holds numbers (``1`` and
``1.0`` are one class; classes are ints when every value is integral); any
other label column holds text.  An empty label cell is an error.

Reading a CSV file keeps the features as float64 in one growing buffer and
the labels as small integer codes, so that it takes about the memory of the
final arrays, not of the file's text.
"""

import array
import csv
import math
import operator
import os

import numpy as np

from .._atomic import atomic_write
from .._labels import encode_labels

__all__ = ["Dataset", "class_text", "read_dataset", "read_npy_header", "write_predictions", "write_table"]

_INT_EXACT = 2**53  # integral floats up to this are ints exactly


class Dataset:
    """Features and labels read from a file.

    Attributes
    ----------
    X : ndarray of shape (m, n_features), float64
        One example per row, as in the file.
    classes : ndarray of shape (K,) or None
        The distinct labels, sorted: int64 or float64 for a numeric label
        column, str otherwise (None when there is no label column).
    codes : ndarray of shape (m,), intp, or None
        The index in `classes` of each example's label.
    features : list of str
        The names of the feature columns (for a .npy file, their indices).
    label : str or None
        The label column's name (for a .npy file, its index).
    """

    def __init__(self, X, classes, codes, features, label):
        self.X, self.classes, self.codes, self.features, self.label = X, classes, codes, features, label

    def __repr__(self):
        return f"Dataset(X of shape {self.X.shape}, features {self.features}, label {self.label!r})"


def _is_npy(path):
    return os.fspath(path).lower().endswith(".npy")


def class_text(value):
    """A class label as text: numbers without a trailing ".0" when integral (2.0 -> "2")."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return str(int(value)) if value.is_integer() and abs(value) < _INT_EXACT else repr(value)
    return str(value)


def _find_column(names, label, where):
    if label in names:
        return names.index(label)
    try:
        j = int(label)
    except ValueError:
        raise ValueError(f"{where}: no column {label!r} (columns: {', '.join(names)})") from None
    if not -len(names) <= j < len(names):
        raise ValueError(f"{where}: no column {j} (the file has {len(names)} columns)")
    return j % len(names)


def _select(names, label, features, where, drop=None, option=None):
    """(feature column indices, label column index or None).

    `features` given by the user (`option` names its command-line option) must not hold the
    label column; given by a model (`option` None), a label column among them is a feature.
    `drop` (the --drop option) leaves columns out of the default or of `features`.
    """
    j_label = None
    if label is not None:
        try:
            j_label = _find_column(names, str(label), where)
        except ValueError:
            if features is None:
                raise
    if features is None:
        cols = [j for j in range(len(names)) if j != j_label]
    elif option is None and _is_npy(where) and len(names) == len(features):
        cols, j_label = list(range(len(names))), None  # the array holds the features only
    else:
        cols = _columns(names, features, where, option)
        if j_label in cols:
            if option is not None:
                raise ValueError(f"{option}: {names[j_label]!r} is the label column, not a feature")
            j_label = None
    if drop:
        dropped = _columns(names, drop, where, "--drop")
        if j_label in dropped:
            raise ValueError(f"--drop: {names[j_label]!r} is the label column, not a feature")
        if features is not None:
            both = [names[j] for j in dropped if j in cols]
            if both:
                raise ValueError(f"{option or '--features'} and --drop both name {both[0]!r}")
        cols = [j for j in cols if j not in dropped]
        if not cols:
            raise ValueError(f"--drop leaves no feature columns in {where} (columns: {', '.join(names)})")
    if not cols:
        raise ValueError(f"{where}: no feature columns (only the label column {names[j_label]!r})")
    return cols, j_label


def _columns(names, wanted, where, option):
    """The indices of the columns `wanted` (names or indices), each once."""
    cols = []
    for name in wanted:
        try:
            j = _find_column(names, str(name), where)
        except ValueError as exc:
            raise ValueError(f"{option}: {exc}" if option else str(exc)) from None
        if j in cols:
            raise ValueError(f"{option or where}: names the column {names[j]!r} twice")
        cols.append(j)
    return cols


def _numeric_classes(values, where, column):
    """(classes, codes) of numeric labels: int64 when all integral, float64 otherwise."""
    if not np.all(np.isfinite(values)):
        i = int(np.argmin(np.isfinite(values)))
        raise ValueError(f"{where}: the label column {column!r} has a non-finite value in data row {i + 1}")
    classes, codes = encode_labels(values)
    if np.all(classes == np.round(classes)) and np.all(np.abs(classes) < _INT_EXACT):
        classes = classes.astype(np.int64)
    return classes, codes


def read_dataset(path, label=None, features=None, *, drop=None, delimiter=",", option=None):
    """Features and labels of a data file.

    Parameters
    ----------
    path : str or path-like
        A CSV file with a header row (any extension but .npy) or a .npy file.
    label : str or int, optional
        The label column: a name, or an index (negative counts from the end;
        for .npy files an index is the only name).  None: no label column.
        When `features` is given, a label column absent from the file is no error.
    features : list of str, optional
        The feature columns, by name, in this order.  Default: every column but the label.
        Given by a model (`option` None), a .npy file with exactly as many columns holds
        them in order.
    drop : list of str, optional
        Columns left out of the features (by name).
    delimiter : str, default ","
        The CSV file's one-character delimiter (unused for .npy files).
    option : str, optional
        The command-line option `features` came from (named in errors); None when they
        are a model's columns.

    Returns
    -------
    Dataset

    Raises
    ------
    OSError
        When the file cannot be read.
    ValueError
        When it is not a table of numbers with the columns asked for, or `features`
        or `drop` name unknown columns, the label column, a column twice, each other's
        columns, or every column.
    """
    where = os.fspath(path)
    if os.path.isdir(where):
        raise ValueError(f"{where}: a directory, not a data file")
    select = {"drop": drop, "option": option}
    if _is_npy(where):
        return _read_npy(where, label, features, select)
    return _read_csv(where, label, features, select, delimiter)


# ---------------------------------------------------------------- .npy


def read_npy_header(f, where):
    """(shape, dtype, data offset) of an open .npy file, checked against the file's size."""
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError(f"format version {version}")
    except Exception as exc:  # NumPy's header parser (ast, tokenize) on untrusted bytes
        raise ValueError(f"{where}: not a .npy array ({' '.join(str(exc).split())})") from None
    offset = f.tell()
    if dtype.hasobject or dtype.fields is not None or dtype.kind not in "biuf" or len(shape) != 2:
        raise ValueError(
            f"{where}: expected a 2-D numeric array (one example per row), got shape {shape} and dtype {dtype}"
        )
    size = os.fstat(f.fileno()).st_size
    needed = offset + math.prod(shape) * dtype.itemsize
    if needed != size:
        raise ValueError(
            f"{where}: its header declares shape {shape} of {dtype} ({needed - offset} bytes of data), "
            f"the file holds {size - offset}"
        )
    if shape[0] == 0 or shape[1] == 0:
        raise ValueError(f"{where}: no data (shape {shape})")
    return shape, dtype, fortran


def _read_npy(where, label, features, select):
    with open(where, "rb") as f:
        shape, _, _ = read_npy_header(f, where)
    a = np.load(where, mmap_mode="r", allow_pickle=False)  # size checked: no copy of the whole file
    names = [str(j) for j in range(shape[1])]
    cols, j_label = _select(names, label, features, where, **select)
    X = np.empty((shape[0], len(cols)), np.float64)
    for k, j in enumerate(cols):
        X[:, k] = a[:, j]
    if not np.all(np.isfinite(X)):
        i, k = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(f"{where}: column {names[cols[k]]!r} has a non-finite value in row {i + 1}")
    classes = codes = None
    if j_label is not None:
        classes, codes = _numeric_classes(np.asarray(a[:, j_label], np.float64), where, names[j_label])
    del a
    return Dataset(X, classes, codes, [names[j] for j in cols], None if j_label is None else names[j_label])


# ---------------------------------------------------------------- CSV


def _read_csv(where, label, features, select, delimiter):
    with open(where, newline="", encoding="utf-8-sig") as f:
        try:
            return _parse_csv(f, where, label, features, select, delimiter)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ValueError(f"{where}: not a readable CSV file ({' '.join(str(exc).split())})") from None


def _parse_csv(f, where, label, features, select, delimiter):
    reader = csv.reader(f, delimiter=delimiter)
    names = None
    for row in reader:
        if any(cell.strip() for cell in row):
            names = [cell.strip() for cell in row]
            break
    if names is None:
        raise ValueError(f"{where}: empty file (a CSV file needs a header row of column names)")
    if len(set(names)) != len(names):
        raise ValueError(f"{where}: duplicate column names in the header {names}")
    cols, j_label = _select(names, label, features, where, **select)
    n = len(names)
    pick = operator.itemgetter(*cols) if len(cols) > 1 else (lambda row, j=cols[0]: (row[j],))
    values = array.array("d")
    codes = array.array("q")
    index = {}  # label text -> code, in order of appearance
    m = 0
    for row in reader:
        if len(row) != n:
            if not any(cell.strip() for cell in row):
                continue  # a blank line
            raise ValueError(f"{where}, line {reader.line_num}: {len(row)} cells, the header has {n}")
        try:
            values.extend(map(float, pick(row)))
        except ValueError:
            del values[m * len(cols) :]  # the cells of this row appended before the bad one
            if not any(cell.strip() for cell in row):
                continue  # a row of empty cells: a blank line
            _bad_cell(where, reader.line_num, names, cols, row)
        if j_label is not None:
            text = row[j_label].strip()
            if not text:
                raise ValueError(f"{where}, line {reader.line_num}: empty label cell (column {names[j_label]!r})")
            code = index.get(text)
            if code is None:
                code = index[text] = len(index)
            codes.append(code)
        m += 1
    if m == 0:
        raise ValueError(f"{where}: no data rows after the header")
    X = np.frombuffer(values, dtype=np.float64).reshape(m, len(cols))  # shares the buffer: no copy
    finite = np.isfinite(X)
    if not finite.all():
        i, k = np.argwhere(~finite)[0]
        raise ValueError(f"{where}: column {names[cols[k]]!r} has a missing or non-finite value in data row {i + 1}")
    del finite
    classes = codes_out = None
    if j_label is not None:
        texts = list(index)
        classes, by_text = _label_classes(texts, where, names[j_label])
        codes_out = by_text[np.frombuffer(codes, dtype=np.int64)]
    return Dataset(X, classes, codes_out, [names[j] for j in cols], None if j_label is None else names[j_label])


def _bad_cell(where, line, names, cols, row):
    for j in cols:
        cell = row[j].strip()
        try:
            float(cell)
        except ValueError:
            what = "an empty cell" if not cell else f"{cell!r} is not a number"
            raise ValueError(f"{where}, line {line}: column {names[j]!r}: {what}") from None
    raise AssertionError("unreachable: a cell failed to parse")  # pragma: no cover


def _label_classes(texts, where, column):
    """(classes, code of each distinct text) for the distinct label texts, in order of appearance."""
    numbers = []
    for t in texts:
        try:
            numbers.append(float(t))
        except ValueError:
            break
    if len(numbers) == len(texts):
        classes, by_text = _numeric_classes(np.array(numbers, np.float64), where, column)
        return classes, by_text
    return encode_labels(np.array(texts, dtype=str))


# ---------------------------------------------------------------- predictions


def write_predictions(file, header, predictions, delimiter=","):
    """Write predictions as a one-column CSV: a header, then one class per line.

    Parameters
    ----------
    file : str, path-like or text file
        A path (replaced atomically) or an open text file such as sys.stdout.
    header : str
        The column's name.
    predictions : sequence of str of length m
    delimiter : str, default ","
    """
    write_table(file, [header], [predictions], delimiter)


def write_table(file, headers, columns, delimiter=","):
    """Write columns as a CSV table: a header row, then one row per example.

    Parameters
    ----------
    file : str, path-like or text file
        A path (replaced atomically) or an open text file such as sys.stdout.
    headers : sequence of str
        The columns' names.
    columns : sequence of sequences, each of length m
        The cells, column by column (floats are written in full: ``repr``).
    delimiter : str, default ","
    """
    if hasattr(file, "write"):
        _write_rows(file, headers, columns, delimiter)
        return
    with atomic_write(file, "w", newline="", encoding="utf-8") as f:
        _write_rows(f, headers, columns, delimiter)


def _write_rows(f, headers, columns, delimiter):
    writer = csv.writer(f, delimiter=delimiter, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(zip(*(c.tolist() if isinstance(c, np.ndarray) else c for c in columns)))

"""Class labels as the network sees them: sorted classes, integer codes, 0/1 target rows.

One place for the label encoding of the whole package (the estimator, the
command line).  Labels may be of any kind NumPy can sort: numbers, strings,
booleans, objects of one comparable type.
"""

import numpy as np

__all__ = ["encode_labels", "one_hot"]


def _sorted_classes(labels):
    """The distinct labels, sorted, and the index of each label among them."""
    classes, codes = np.unique(labels, return_inverse=True)
    return classes, codes.reshape(-1).astype(np.intp, copy=False)


def _codes_in(labels, classes, name, classes_name):
    """The index in `classes` (any order) of each label; ValueError naming the labels not among them."""
    if len(classes) == 0:
        raise ValueError(f"{classes_name} is empty: there is no class to encode {name} with")
    sorter = np.argsort(classes, kind="stable")
    pos = np.minimum(np.searchsorted(classes, labels, sorter=sorter), len(classes) - 1)
    codes = sorter[pos]
    bad = classes[codes] != labels
    if np.any(bad):
        unknown = np.asarray(labels)[bad]
        try:
            unknown = np.unique(unknown)
        except TypeError:  # labels of mixed kinds: listed as they come
            pass
        raise ValueError(f"{name} contains labels not in {classes_name} {classes!r}: {unknown!r}")
    return codes.astype(np.intp, copy=False)


def encode_labels(labels, classes=None, *, name="labels", classes_name="classes"):
    """Sorted classes and the integer code of each label.

    Parameters
    ----------
    labels : array-like of shape (m,)
        The labels, of any sortable kind.
    classes : array-like of shape (K,) or None, default None
        The classes to encode with, in the order that gives the codes (need
        not be sorted); every label must be one of them.  None: the distinct
        labels, sorted.
    name, classes_name : str, default "labels" and "classes"
        How the error message names the labels and the classes.

    Returns
    -------
    classes : ndarray of shape (K,)
        The classes (a new array; `classes` converted with ``np.asarray``
        when given).
    codes : ndarray of shape (m,), intp
        The index in `classes` of each label, 0 .. K - 1.

    Raises
    ------
    ValueError
        When `classes` is given and a label is not among them (the message
        lists those labels), or `classes` is empty.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        labels = labels.reshape(-1)
    if classes is None:
        return _sorted_classes(labels)
    classes = np.asarray(classes)
    return classes, _codes_in(labels, classes, name, classes_name)


def one_hot(codes, n_classes, dtype=np.float64):
    """The 0/1 targets of the network's output layer, one example per column.

    Parameters
    ----------
    codes : array-like of int, shape (m,)
        Class indices, 0 .. n_classes - 1.
    n_classes : int
        Number of classes, at least 2.
    dtype : dtype, default float64

    Returns
    -------
    Y : ndarray of shape (1, m) for two classes (the row ``codes == 1``: one
        sigmoid output unit), (n_classes, m) otherwise (one-hot columns, for a
        softmax output); C-contiguous, of `dtype`.

    Raises
    ------
    ValueError
        When `n_classes` is below 2 or a code is outside 0 .. n_classes - 1.
    TypeError
        When the codes are not integers.
    """
    codes = np.asarray(codes).reshape(-1)
    if codes.size and codes.dtype.kind not in "iu":
        raise TypeError(f"class codes must be integers, got an array of dtype {codes.dtype}")
    n_classes = int(n_classes)
    if n_classes < 2:
        raise ValueError(f"one_hot needs at least 2 classes, got n_classes={n_classes}")
    if codes.size and (codes.min() < 0 or codes.max() >= n_classes):
        raise ValueError(f"class codes must be in 0 .. {n_classes - 1}, got {codes.min()} .. {codes.max()}")
    if n_classes == 2:
        return (codes == 1).astype(dtype).reshape(1, -1)
    Y = np.zeros((n_classes, len(codes)), dtype)
    Y[codes, np.arange(len(codes))] = 1
    return Y

"""shallownet_fast._labels: sorted classes, integer codes and 0/1 targets, for labels of any kind."""

import numpy as np
import pytest

from shallownet_fast._labels import encode_labels, one_hot


@pytest.mark.parametrize(
    "labels, classes, codes",
    [
        ([3, 1, 2, 1], [1, 2, 3], [2, 0, 1, 0]),
        (np.array([-1.5, 0.25, -1.5]), [-1.5, 0.25], [0, 1, 0]),
        (["b", "a", "c", "a"], ["a", "b", "c"], [1, 0, 2, 0]),
        ([True, False, True], [False, True], [1, 0, 1]),
        (np.array(["yes", "no"], dtype=object), ["no", "yes"], [1, 0]),
        (["10", "9", "2"], ["10", "2", "9"], [0, 2, 1]),  # text order
    ],
)
def test_sorted_classes_and_codes(labels, classes, codes):
    got_classes, got_codes = encode_labels(labels)
    assert got_classes.tolist() == classes
    assert got_codes.tolist() == codes
    assert got_codes.dtype == np.intp


def test_codes_in_given_classes_any_order():
    classes, codes = encode_labels(["b", "c", "a", "c"], classes=["c", "a", "b"])
    assert classes.tolist() == ["c", "a", "b"]
    assert codes.tolist() == [2, 0, 1, 0]
    # Given classes that the labels do not all use.
    _, codes = encode_labels([2, 2], classes=[0, 1, 2, 3])
    assert codes.tolist() == [2, 2]


def test_unknown_labels_are_named():
    with pytest.raises(ValueError, match=r"y contains labels not in classes_ .*'d'.*'e'"):
        encode_labels(["a", "e", "d", "e"], classes=["a", "b", "c"], name="y", classes_name="classes_")
    with pytest.raises(ValueError, match=r"labels contains labels not in classes .*\[7\]"):
        encode_labels([1, 7], classes=[1, 2])
    # A label beyond the largest class, one before the smallest.
    with pytest.raises(ValueError, match=r"\[0, 9\]"):
        encode_labels([9, 0, 5], classes=[5])
    with pytest.raises(ValueError, match="empty"):
        encode_labels([1], classes=[])


def test_inputs_are_not_modified():
    labels = np.array(["b", "a"])
    classes = np.array(["b", "a"])
    encode_labels(labels, classes=classes)
    assert labels.tolist() == ["b", "a"] and classes.tolist() == ["b", "a"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_hot_two_classes_is_one_row(dtype):
    Y = one_hot(np.array([1, 0, 1, 1]), 2, dtype)
    assert Y.shape == (1, 4) and Y.dtype == dtype and Y.flags.c_contiguous
    assert Y.tolist() == [[1.0, 0.0, 1.0, 1.0]]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_hot_columns_for_more_classes(dtype):
    Y = one_hot([2, 0, 1, 2], 3, dtype)
    assert Y.shape == (3, 4) and Y.dtype == dtype and Y.flags.c_contiguous
    assert Y.tolist() == [[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 1]]
    # A class no sample has: a zero row.
    assert one_hot([0, 0], 4).tolist() == [[1, 1], [0, 0], [0, 0], [0, 0]]


def test_one_hot_default_dtype_and_empty():
    assert one_hot([0, 1], 2).dtype == np.float64
    assert one_hot(np.array([], dtype=np.intp), 2).shape == (1, 0)
    assert one_hot(np.array([], dtype=np.intp), 3).shape == (3, 0)


def test_one_hot_bad_input():
    with pytest.raises(ValueError, match="at least 2 classes"):
        one_hot([0, 0], 1)
    with pytest.raises(ValueError, match=r"0 \.\. 2"):
        one_hot([0, 3], 3)
    with pytest.raises(ValueError, match=r"0 \.\. 1"):
        one_hot([-1, 1], 2)
    with pytest.raises(TypeError, match="integers"):
        one_hot(np.array([0.0, 1.0]), 2)

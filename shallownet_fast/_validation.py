"""Input checks shared by both implementations.

Everything a kernel relies on is established here, in Python, before any
kernel runs: dimensions, shapes, dtypes, finiteness and label values.  Each
error names the argument with its shape and dtype.  No input is modified:
conversions return new arrays (or views that are never written to).
"""

import math
import numbers

import numpy as np

from . import _threads

# "logistic" is scikit-learn's name of "sigmoid".
ACTIVATIONS = ("tanh", "relu", "leaky_relu", "sigmoid", "identity", "logistic")
SOLVERS = ("gd", "sgd", "adam")
# The estimators' solvers: the mini-batch ones and lbfgs (shallownet_fast._lbfgs).
ESTIMATOR_SOLVERS = ("sgd", "adam", "lbfgs")
LEARNING_RATE_SCHEDULES = ("constant", "invscaling", "adaptive")
INITS = ("normal", "zeros", "xavier", "he")
PARAM_KEYS = ("W1", "b1", "W2", "b2")
GRAD_KEYS = ("dW1", "db1", "dW2", "db2")

# The compiled kernels hand sizes, strides and leading dimensions to BLAS as C ints: no dimension of an
# array they take may exceed this (the reference, in NumPy, has no such limit).
_KERNEL_MAX_DIM = 2**31 - 1


def _learning_rate_in(dtype, lr):
    """lr in `dtype`; a value beyond the dtype's range is an error, not an infinite step."""
    if lr > float(np.finfo(dtype).max):
        raise ValueError(f"learning_rate={lr!r} is too large for {np.dtype(dtype)} (largest {np.finfo(dtype).max})")
    return np.dtype(dtype).type(lr)


def describe(a):
    """'shape (2, 3) and dtype float64' for error messages."""
    return f"shape {np.shape(a)} and dtype {getattr(a, 'dtype', type(a).__name__)}"


def _as_real_array(name, a):
    if a is None:
        raise TypeError(f"{name} must be an array, got None")
    if isinstance(a, (str, bytes, dict)):
        raise TypeError(f"{name} must be a numeric array, got {type(a).__name__}")
    try:
        arr = np.asarray(a)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise ValueError(f"{name} could not be converted to an array: {exc}") from None
    kind = arr.dtype.kind
    if kind == "c":
        raise TypeError(f"{name} must be real, got complex {describe(arr)}")
    if kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got {describe(arr)}")
    return arr


def working_dtype(*arrays):
    """float32 when every array is float32, float64 otherwise."""
    if all(a.dtype == np.float32 for a in arrays):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


_NATIVE_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _numpy_all_finite(arr):
    return bool(np.isfinite(arr).all())


_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)


class Checks:
    """The checks, with the finiteness test as a parameter.

    The reference uses NumPy's (`np.isfinite(a).all()`); the compiled
    implementation passes a compiled one that needs no temporary array, and,
    per dtype, one that tests X and the four parameters in a single call.
    Everything else is the same code, so both raise the same errors.
    """

    def __init__(self, all_finite=_numpy_all_finite, network_finite=None):
        self.all_finite = all_finite
        if network_finite is None:
            each = lambda *arrays: all(map(all_finite, arrays))  # noqa: E731
            network_finite = {_F32: each, _F64: each}
        self.network_finite = network_finite

    def check_array(self, name, a, ndim=2, dtype=None, allow_empty=True):
        """Return `a` as a finite real ndarray with `ndim` dimensions.

        float32 and float64 keep their dtype; every other real dtype becomes
        float64, or `dtype` when one is given.  The result may share memory with
        `a`; callers never write to it.
        """
        if (
            type(a) is np.ndarray
            and a.ndim == ndim
            and a.dtype in _NATIVE_FLOATS
            and (dtype is None or dtype == a.dtype)
        ):
            # The common case, checked with the least Python: a native float array.
            if not allow_empty and a.size == 0:
                raise ValueError(f"{name} must not be empty, got {describe(a)}")
            if not self.all_finite(a):
                raise ValueError(f"{name} must contain only finite values (no NaN or inf), got {describe(a)}")
            return a
        arr = _as_real_array(name, a)
        if arr.ndim != ndim:
            raise ValueError(f"{name} must have {ndim} dimensions, got {describe(arr)}")
        native = arr.dtype.newbyteorder("=")  # big-endian float32 is still float32
        if dtype is not None:
            target = np.dtype(dtype)
        elif native in (np.float32, np.float64):
            target = native
        else:
            target = np.dtype(np.float64)
        if arr.dtype != target:
            arr = arr.astype(target)
        if not allow_empty and arr.size == 0:
            raise ValueError(f"{name} must not be empty, got {describe(arr)}")
        if not self.all_finite(arr):
            raise ValueError(f"{name} must contain only finite values (no NaN or inf), got {describe(arr)}")
        return arr

    def check_X(self, X, dtype=None, allow_empty=True):
        return self.check_array("X", X, 2, dtype, allow_empty=allow_empty)

    def check_Y(self, Y, X, dtype, x_name="X"):
        """Labels: (n_y, m), 0/1 entries, one-hot columns when n_y > 1; as many columns as X."""
        Y = self.check_array("Y", Y, 2, dtype)
        if Y.shape[1] != X.shape[1]:
            raise ValueError(
                f"{x_name} and Y must have the same number of examples (columns): "
                f"{x_name} has {describe(X)}, Y has {describe(Y)}"
            )
        if Y.shape[0] < 1:
            raise ValueError(f"Y must have at least one row, got {describe(Y)}")
        if not np.all((Y == 0) | (Y == 1)):
            raise ValueError(f"Y must contain only the labels 0 and 1, got {describe(Y)}")
        if Y.shape[0] > 1 and not np.all(Y.sum(axis=0) == 1):
            raise ValueError(
                f"Y with more than one row must have one-hot columns (exactly one 1 per column), got {describe(Y)}"
            )
        return Y

    def check_activation(self, activation):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
        return activation

    def check_positive_int(self, name, value, minimum=1):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an integer, got {value!r} of type {type(value).__name__}")
        if value < minimum:
            raise ValueError(f"{name} must be at least {minimum}, got {value}")
        return int(value)

    def check_learning_rate(self, learning_rate):
        if isinstance(learning_rate, (bool, np.bool_)) or not isinstance(learning_rate, numbers.Real):
            raise TypeError(f"learning_rate must be a real number, got {learning_rate!r}")
        lr = float(learning_rate)
        if not math.isfinite(lr) or lr <= 0:
            raise ValueError(f"learning_rate must be finite and positive, got {learning_rate!r}")
        return lr

    def check_n_threads(self, n_threads):
        """None, or a thread count from 1 to what this machine can run (_threads.max_threads())."""
        if n_threads is None:
            return None
        n = self.check_positive_int("n_threads", n_threads)
        limit = _threads.max_threads()
        if n > limit:
            raise ValueError(
                f"n_threads must be at most {limit} ({_threads.usable_cores()} usable CPUs), got {n_threads}"
            )
        return n

    def check_init(self, init):
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        return init

    def _check_dict(self, name, d, keys):
        if not isinstance(d, dict):
            raise TypeError(f"{name} must be a dict with keys {keys}, got {type(d).__name__}")
        missing = [k for k in keys if k not in d]
        if missing:
            raise ValueError(f"{name} is missing the keys {missing}; it must have {keys}")

    def check_parameters(self, parameters, n_x=None, n_y=None):
        """Return (W1, b1, W2, b2) as checked arrays of one working dtype."""
        self._check_dict("parameters", parameters, PARAM_KEYS)
        raw = [self.check_array(k, parameters[k], 2) for k in PARAM_KEYS]
        W1, b1, W2, b2 = raw
        n_h = W1.shape[0]
        if n_h < 1 or W1.shape[1] < 1:
            raise ValueError(f"W1 must have at least one row and one column, got {describe(W1)}")
        if b1.shape != (n_h, 1):
            raise ValueError(f"b1 must have shape ({n_h}, 1) to match W1 of {describe(W1)}, got {describe(b1)}")
        if W2.ndim != 2 or W2.shape[1] != n_h or W2.shape[0] < 1:
            raise ValueError(f"W2 must have shape (n_y, {n_h}) to match W1 of {describe(W1)}, got {describe(W2)}")
        if b2.shape != (W2.shape[0], 1):
            raise ValueError(f"b2 must have shape ({W2.shape[0]}, 1) to match W2 of {describe(W2)}, got {describe(b2)}")
        if n_x is not None and W1.shape[1] != n_x:
            raise ValueError(f"W1 must have {n_x} columns to match X with {n_x} rows, got {describe(W1)}")
        if n_y is not None and W2.shape[0] != n_y:
            raise ValueError(f"W2 must have {n_y} rows to match Y with {n_y} rows, got {describe(W2)}")
        dtype = working_dtype(*raw)
        return tuple(a if a.dtype == dtype else a.astype(dtype) for a in raw)

    def check_grads(self, grads, W1, b1, W2, b2):
        self._check_dict("grads", grads, GRAD_KEYS)
        out = []
        for key, p in zip(GRAD_KEYS, (W1, b1, W2, b2)):
            g = self.check_array(key, grads[key], 2)
            if g.shape != p.shape:
                raise ValueError(f"{key} must have the shape of its parameter {p.shape}, got {describe(g)}")
            out.append(g)
        return out

    def check_probabilities(self, A2):
        A2 = self.check_array("A2", A2, 2)
        if A2.size and (A2.min() < 0 or A2.max() > 1):
            raise ValueError(
                f"A2 must hold probabilities in [0, 1], got {describe(A2)} with values in [{A2.min()}, {A2.max()}]"
            )
        return A2

    def _common_forward_inputs(self, X, parameters, activation, allow_empty):
        """check_forward_inputs's result when every argument is the common case, else None.

        The common case: a known activation, a plain dict of plain 2-D ndarrays
        of one native float dtype with matching shapes, all finite.  These are
        returned as they are, exactly as the full checks would return them;
        anything else (including every error) goes through the full checks.
        This keeps the latency of predicting a few examples low.
        """
        if type(parameters) is not dict or activation not in ACTIVATIONS:
            return None
        W1, b1, W2, b2 = parameters.get("W1"), parameters.get("b1"), parameters.get("W2"), parameters.get("b2")
        nd = np.ndarray
        if not (type(X) is nd and type(W1) is nd and type(b1) is nd and type(W2) is nd and type(b2) is nd):
            return None
        dt = X.dtype
        if (dt is not _F64 and dt is not _F32) or not (
            W1.dtype is dt and b1.dtype is dt and W2.dtype is dt and b2.dtype is dt
        ):
            return None
        if X.ndim != 2 or W1.ndim != 2 or W2.ndim != 2 or (not allow_empty and X.size == 0):
            return None
        (n_h, n_x), (n_y, n_in) = W1.shape, W2.shape
        if (
            n_h < 1
            or n_x < 1
            or n_y < 1
            or n_in != n_h
            or X.shape[0] != n_x
            or b1.shape != (n_h, 1)
            or b2.shape != (n_y, 1)
        ):
            return None
        if not self.network_finite[dt](X, W1, b1, W2, b2):
            return None
        return X, W1, b1, W2, b2

    def check_forward_inputs(self, X, parameters, activation, allow_empty=True):
        common = self._common_forward_inputs(X, parameters, activation, allow_empty)
        if common is not None:
            return common
        self.check_activation(activation)
        W1, b1, W2, b2 = self.check_parameters(parameters)
        X = self.check_X(X, allow_empty=allow_empty)
        if X.shape[0] != W1.shape[1]:
            raise ValueError(
                f"X must have {W1.shape[1]} rows (features) to match W1 of {describe(W1)}, got {describe(X)}"
            )
        if X.dtype != W1.dtype:
            dtype = working_dtype(X, W1)
            W1, b1, W2, b2, X = (a.astype(dtype, copy=False) for a in (W1, b1, W2, b2, X))
        return X, W1, b1, W2, b2

    def check_cache(self, cache, X, W1, W2):
        keys = ("Z1", "A1", "Z2", "A2")
        self._check_dict("cache", cache, keys)
        n_h, m, n_y = W1.shape[0], X.shape[1], W2.shape[0]
        want = {"Z1": (n_h, m), "A1": (n_h, m), "Z2": (n_y, m), "A2": (n_y, m)}
        out = {}
        for k in keys:
            a = self.check_array(k, cache[k], 2, X.dtype)
            if a.shape != want[k]:
                raise ValueError(
                    f"cache[{k!r}] must have shape {want[k]} to match X and the parameters, got {describe(a)}"
                )
            out[k] = a
        return out

    def check_cost_inputs(self, A2, Y):
        A2 = self.check_probabilities(A2)
        Y = self.check_Y(Y, A2, A2.dtype, x_name="A2")
        if Y.shape != A2.shape:
            raise ValueError(f"A2 and Y must have the same shape: A2 has {describe(A2)}, Y has {describe(Y)}")
        if A2.shape[1] == 0:
            raise ValueError(f"the cost needs at least one example, got A2 with {describe(A2)}")
        return A2, Y

    def check_backward_inputs(self, parameters, cache, X, Y, activation):
        """Return X, Y, W2, A1, A2 in one working dtype."""
        X, W1, b1, W2, b2 = self.check_forward_inputs(X, parameters, activation, allow_empty=False)
        Y = self.check_Y(Y, X, X.dtype)
        if Y.shape[0] != W2.shape[0]:
            raise ValueError(f"Y must have {W2.shape[0]} rows to match W2 of {describe(W2)}, got {describe(Y)}")
        c = self.check_cache(cache, X, W1, W2)
        return X, Y, W2, c["A1"], c["A2"]

    def check_update_inputs(self, parameters, grads, learning_rate):
        """Return (parameters, grads, learning rate) in one working dtype."""
        lr = self.check_learning_rate(learning_rate)
        W1, b1, W2, b2 = self.check_parameters(parameters)
        gs = self.check_grads(grads, W1, b1, W2, b2)
        dtype = working_dtype(W1, *gs)
        params = {k: a.astype(dtype, copy=False) for k, a in zip(PARAM_KEYS, (W1, b1, W2, b2))}
        grads = {k: g.astype(dtype, copy=False) for k, g in zip(GRAD_KEYS, gs)}
        return params, grads, _learning_rate_in(dtype, lr)

    def check_training_inputs(self, X, Y, n_h, num_iterations, learning_rate, activation, parameters, init, n_threads):
        """Checks of nn_model's arguments.

        Returns ``(X, Y, params, n_h, num_iterations, learning_rate, n_threads)``
        in one working dtype, with params the checked (W1, b1, W2, b2), or None
        when `parameters` is None (the caller draws them, in X's dtype, with
        `init`).
        """
        self.check_activation(activation)
        n_h = self.check_positive_int("n_h", n_h)
        num_iterations = self.check_positive_int("num_iterations", num_iterations, minimum=0)
        lr = self.check_learning_rate(learning_rate)
        n_threads = self.check_n_threads(n_threads)
        X = self.check_X(X, allow_empty=False)
        Y = self.check_Y(Y, X, X.dtype)
        if parameters is None:
            self.check_init(init)
            return X, Y, None, n_h, num_iterations, _learning_rate_in(X.dtype, lr), n_threads
        W1, b1, W2, b2 = self.check_parameters(parameters, n_x=X.shape[0], n_y=Y.shape[0])
        if W1.shape[0] != n_h:
            raise ValueError(f"n_h={n_h} does not agree with the given parameters: W1 has {describe(W1)}")
        dtype = working_dtype(X, W1)
        X, Y, W1, b1, W2, b2 = (a.astype(dtype, copy=False) for a in (X, Y, W1, b1, W2, b2))
        return X, Y, (W1, b1, W2, b2), n_h, num_iterations, _learning_rate_in(dtype, lr), n_threads

    def check_diverged(self, arrays, learning_rate, iteration):
        """FloatingPointError when training has made any parameter NaN or infinite."""
        if not all(self.all_finite(np.atleast_2d(a)) for a in arrays):
            raise FloatingPointError(
                f"nn_model diverged: the parameters are no longer finite after {iteration} iterations; "
                f"learning_rate={learning_rate!r} is too large for this problem (or the hidden units exploded)"
            )


numpy_checks = Checks()  # with NumPy's finiteness test: the reference's checks
check_array = numpy_checks.check_array
check_X = numpy_checks.check_X
check_Y = numpy_checks.check_Y
check_activation = numpy_checks.check_activation
check_positive_int = numpy_checks.check_positive_int
check_learning_rate = numpy_checks.check_learning_rate
check_n_threads = numpy_checks.check_n_threads
check_init = numpy_checks.check_init
_check_dict = numpy_checks._check_dict
check_parameters = numpy_checks.check_parameters
check_grads = numpy_checks.check_grads
check_probabilities = numpy_checks.check_probabilities
_common_forward_inputs = numpy_checks._common_forward_inputs
check_forward_inputs = numpy_checks.check_forward_inputs
check_cache = numpy_checks.check_cache
check_cost_inputs = numpy_checks.check_cost_inputs
check_backward_inputs = numpy_checks.check_backward_inputs
check_update_inputs = numpy_checks.check_update_inputs
check_training_inputs = numpy_checks.check_training_inputs
check_diverged = numpy_checks.check_diverged


def check_kernel_sizes(*arrays):
    """ValueError unless every dimension of the 2-D `arrays` fits the compiled kernels (_KERNEL_MAX_DIM).

    `arrays` alternate names and arrays: ``check_kernel_sizes("X", X, "W1", W1)``.  Arrays reach the
    kernels C-contiguous, so their leading dimensions are their column counts: checking the dimensions
    checks the strides too.
    """
    limit = _KERNEL_MAX_DIM
    for i in range(1, len(arrays), 2):
        rows, cols = arrays[i].shape
        if rows > limit or cols > limit:
            name = arrays[i - 1]
            count, what = (rows, "rows") if rows > limit else (cols, "columns")
            raise ValueError(f"{name} has {count} {what}; the compiled kernels take at most {limit}")

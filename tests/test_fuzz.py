"""Hostile input: every public function of both implementations, fuzzed in child processes.

Hypothesis draws the cases -- a fixed number per function, derandomized, so
every run tries the same cases (SHALLOWNET_FUZZ_SEED=<int> draws other ones,
SHALLOWNET_FUZZ_SCALE=<float> multiplies the counts) -- and tests/isolate.py
runs them in batches in child processes, reference and fast on the same
arguments.  Every case must end in one of:

- both return, and the fast result equals the reference's within the
  tolerance table of conftest (NaN and inf exactly where the reference has
  them: never a non-finite result the reference does not also return);
- both raise the same documented exception: ValueError, TypeError or
  FloatingPointError.

A crash or a hang fails the case that caused it (isolate.py names it), and no
call may modify its arguments.

The cases mix, per argument: sizes 0 and 1 in every position, mismatched
shapes, NaN and inf, huge values (1e300; 1e38 in float32), subnormals,
negative strides, non-contiguous, read-only, unaligned, broadcast and
big-endian arrays, masked arrays, ints, bools, uint8, float16, longdouble,
complex, object, string and datetime arrays, nested lists and tuples,
ragged lists, scalars, None, dicts with missing or extra keys, parameters
whose dtypes disagree, and hostile scalars (learning rates of 0, NaN, 1e300,
True or "1.2"; sizes of -1, 2.0 or 2**64; unknown activations).

Fast and reference may legitimately differ by more than the table's
tolerance where sums cancel or overflow, or where training amplifies the last
bits; judge() allows for exactly that (rounding bounds from the magnitudes of
the terms; the reference's own spread over permuted and perturbed problems)
and tests below check that it still sees a wrong digit or a NaN.

After the fuzz: the bugs it found, kept as regression tests, the numerical faults checked directly in
this process (a learning rate of 1e6, saturated activations, exploding ReLU units, probabilities of exactly 0
and 1 give finite results or a FloatingPointError naming the learning rate),
and tests of the judge and of the harness itself.
"""

import concurrent.futures
import os
import warnings
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from shallownet_fast import _validation, fast, reference
from shallownet_fast._params import training_start

import isolate
from conftest import (
    ACTIVATIONS,
    BACKEND_IDS,
    BACKENDS,
    GRAD_KEYS,
    PARAM_KEYS,
    assert_close,
    assert_dicts_close,
    make_data,
    make_parameters,
    tolerance,
)

FUNCTIONS = tuple(reference.__all__)  # every public function (test_api checks both modules agree)
# Examples per function (x SHALLOWNET_FUZZ_SCALE).  initialize_parameters and
# update_parameters are one function shared by both implementations: fewer.
EXAMPLES = {
    "layer_sizes": 300,
    "initialize_parameters": 300,
    "forward_propagation": 1000,
    "compute_cost": 800,
    "backward_propagation": 1000,
    "update_parameters": 500,
    "nn_model": 1000,
    "predict": 800,
}
SCALE = float(os.environ.get("SHALLOWNET_FUZZ_SCALE", "1"))
SEED = os.environ.get("SHALLOWNET_FUZZ_SEED")
DOCUMENTED = ("ValueError", "TypeError", "FloatingPointError")

# ---------------------------------------------------------------- values

FINITE_SPECIALS = (
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    2.0,
    20.0,
    -20.0,
    1e4,
    -1e4,
    710.0,
    -746.0,
    89.0,
    -104.0,
    1e38,
    -1e38,
    3.4e38,
    1e300,
    -1e300,
    1.7e308,
    5e-324,
    -5e-324,
    1e-310,
    1e-40,
    1e-45,
    1e-8,
)
NON_FINITE = (np.nan, np.inf, -np.inf)
SCALES = (0.0, 5e-324, 1e-310, 1e-40, 1e-8, 0.01, 1.0, 3.0, 30.0, 1e4, 1e38, 1e150, 1e300)
PATTERNS = ("normal", "normal", "uniform", "integers", "constant", "zeros")

N_X = (1, 2, 3, 4, 5, 9)  # from 4 features on, W1 @ X goes to BLAS
N_H = (1, 2, 3, 4, 16, 64)  # 16 x 2 goes to BLAS too; 64 rows make float64 blocks of 1024 columns
N_Y = (1, 2, 3)
# With 64 hidden units, 1100 columns make two blocks of 1024 in float64, 2100 two blocks of 2048 in float32.
M = (1, 2, 3, 7, 8, 9, 17, 70, 1100, 2100, 0)

OK_DTYPES = (
    "float16",
    "longdouble",
    "int8",
    "int32",
    "int64",
    "uint8",
    "bool",
    ">f4",
    ">f8",
    ">i8",
    "float32",
    "float64",
)
BAD_DTYPES = ("complex64", "complex128", "object", "U8", "S4", "datetime64[s]", "timedelta64[s]", "V8")
CONTAINERS = (
    "list",
    "tuple",
    "rows",
    "scalar",
    "np_scalar",
    "none",
    "ravel",
    "3d",
    "ragged",
    "str",
    "bytes",
    "dict",
    "list_with_none",
    "mixed_list",
    "empty_list",
    "empty_row",
)
SHAPE_CHANGES = ("drop_row", "add_row", "drop_col", "add_col", "transpose", "no_rows", "no_cols", "empty")

CLEAN_FORMS = ("plain",) * 6 + ("layout",) * 3 + ("dtype_ok",)
HOSTILE_FORMS = CLEAN_FORMS + ("dtype_bad", "container", "shape", "poison")

ACTIVATION_HOSTILE = (None, "TANH", "", "softmax", " tanh", 3, b"tanh", ("tanh",), ["relu"], 1.5)
INT_HOSTILE = (0, -1, True, False, 2.0, 1.5, None, "3", 2**63, 2**64, -(2**63), 1 + 0j, Decimal(2), np.float64(2.0))
LR_VALID = (1.2, 0.01, 0.5, 2.0, 1e3, 1e6, 1e-320, np.float32(0.1), np.float64(1.2), 3, np.int64(2), Fraction(3, 2))
LR_HOSTILE = (0, 0.0, -1.0, np.nan, np.inf, -np.inf, 1e300, True, "1.2", None, 1 + 0j, Decimal("1.2"), [1.2])
SEEDS_HOSTILE = (-1, 2**130, "seed", 1.5, [1, -2], object)
THREADS_HOSTILE = (0, -1, True, 1.5, "2", 2**64)


def _quiet():
    """numpy's floating-point warnings off while building values (a cast of 1e300 to float32 overflows)."""
    return np.errstate(all="ignore")


# Strategies are built once: a new strategy object per draw costs hypothesis a validation each time.
_RANGES = {}
_BOOL = st.booleans()
_SEED = st.integers(0, 2**32 - 1)


def below(draw, n):
    """An integer in [0, n)."""
    if n not in _RANGES:
        _RANGES[n] = st.integers(0, n - 1)
    return draw(_RANGES[n])


def pick(draw, choices):
    return choices[below(draw, len(choices))]


def chance(draw, n):
    """True one time in n."""
    return below(draw, n) == 0


def values(draw, shape):
    """A float64 array: a seeded pattern times a scale, with up to three special values set by hypothesis."""
    pattern, scale = pick(draw, PATTERNS), pick(draw, SCALES)
    rng = np.random.default_rng(draw(_SEED))
    with _quiet():
        if pattern == "normal":
            a = rng.standard_normal(shape) * scale
        elif pattern == "uniform":
            a = rng.uniform(-1, 1, shape) * scale
        elif pattern == "integers":
            a = rng.integers(-3, 4, shape).astype(np.float64)
        elif pattern == "constant":
            a = np.full(shape, pick(draw, FINITE_SPECIALS))
        else:
            a = np.zeros(shape)
    if a.size:
        for _ in range(below(draw, 4)):
            a.flat[below(draw, a.size)] = pick(draw, FINITE_SPECIALS)
    return a


LABEL_DEFECTS = (2.0, -1.0, 0.5, 1 + 2**-52, 1e-300, "zero_column", "two_ones")


def labels(draw, n_y, m, hostile):
    """0/1 labels, one-hot columns when n_y > 1; in hostile cases sometimes not."""
    rng = np.random.default_rng(draw(_SEED))
    Y = np.zeros((n_y, m))
    if n_y == 1:
        Y[:] = pick(draw, ("random", "random", "zeros", "ones")) == "ones"
        if Y.size and rng.random() < 0.7:
            Y[:] = rng.integers(0, 2, (1, m))
    elif n_y > 1 and m:
        Y[rng.integers(0, n_y, m), np.arange(m)] = 1
    if hostile and Y.size and chance(draw, 4):
        j = below(draw, m)
        defect = pick(draw, LABEL_DEFECTS)
        if defect == "zero_column":
            Y[:, j] = 0
        elif defect == "two_ones":
            Y[:, j] = 1
        else:
            Y[below(draw, n_y), j] = defect
    return Y


PROBABILITY_EDGES = (0.0, 1.0, 5e-324, 1e-45, 1e-300, 2.2e-16, 1.2e-7, 1 - 2**-53, 1 - 2**-24, 1 - 1e-17, 0.5)
PROBABILITY_DEFECTS = (-1e-300, -0.0, 1 + 2**-52, 2.0, -5e-324)


def probabilities(draw, n_y, m, hostile):
    """A2 in [0, 1]: uniform, exactly 0 and 1, the clipping edges, subnormal, softmax columns."""
    rng = np.random.default_rng(draw(_SEED))
    pattern = pick(draw, ("uniform", "exact01", "edges", "half", "softmax"))
    shape = (n_y, m)
    if pattern == "uniform":
        A2 = rng.uniform(0, 1, shape)
    elif pattern == "exact01":
        A2 = rng.integers(0, 2, shape).astype(np.float64)
    elif pattern == "edges":
        A2 = rng.choice(PROBABILITY_EDGES, size=shape)
    elif pattern == "half":
        A2 = np.full(shape, 0.5)
    else:
        A2 = rng.standard_normal(shape) * pick(draw, (1.0, 30.0, 1e3))
        if A2.size:
            with _quiet():
                A2 = np.exp(A2 - A2.max(axis=0, keepdims=True))
                A2 /= A2.sum(axis=0, keepdims=True)
    if hostile and A2.size and chance(draw, 3):
        A2.flat[below(draw, A2.size)] = pick(draw, PROBABILITY_DEFECTS)
    return A2


def _cast(a, dtype):
    dtype = np.dtype(dtype)
    with _quiet(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dtype.kind == "b":
            return a != 0
        if dtype.kind == "V":
            return np.zeros(a.shape, dtype)
        if dtype.kind in "mM":
            return np.nan_to_num(a).clip(-1e9, 1e9).astype(np.int64).astype(dtype)
        return a.astype(dtype)


def _container(a, how):
    if how == "list":
        return a.tolist()
    if how == "tuple":
        return tuple(map(tuple, a.tolist())) if a.ndim == 2 else a.tolist()
    if how == "rows":
        return [row for row in a]  # a list of 1-d arrays
    if how == "scalar":
        return float(a.flat[0]) if a.size else 1.0
    if how == "np_scalar":
        return a.dtype.type(a.flat[0]) if a.size else np.float64(1)
    if how == "none":
        return None
    if how == "ravel":
        return a.ravel()
    if how == "3d":
        return a[None]
    if how == "ragged":
        rows = a.tolist()
        return rows[:-1] + [rows[-1][:-1]] if rows and rows[-1] else [[1.0, 2.0], [3.0]]
    if how == "str":
        return "1.0"
    if how == "bytes":
        return b"\x00" * 8
    if how == "dict":
        return {"data": a}
    if how == "list_with_none":
        rows = a.tolist() or [[1.0]]
        rows[0] = [None] + rows[0][1:]
        return rows
    if how == "mixed_list":
        rows = a.tolist() or [[1.0]]
        rows[0] = ["1.0"] + rows[0][1:]
        return rows
    if how == "empty_list":
        return []
    return [[]]


def _reshape(a, how):
    if a.ndim != 2:
        return a
    if how == "drop_row":
        return a[:-1]
    if how == "add_row":
        return np.vstack([a, np.ones((1, a.shape[1]), a.dtype)])
    if how == "drop_col":
        return a[:, :-1]
    if how == "add_col":
        return np.hstack([a, np.ones((a.shape[0], 1), a.dtype)])
    if how == "transpose":
        return a.T.copy()
    if how == "no_rows":
        return a[:0]
    if how == "no_cols":
        return a[:, :0]
    return np.zeros((0, 0), a.dtype)


POISONS = NON_FINITE + (1e300, -1e300)


def present(draw, a, dtype, hostile):
    """How an argument with values `a` (float64) reaches the function, in working dtype `dtype`."""
    form = pick(draw, HOSTILE_FORMS if hostile else CLEAN_FORMS)
    if form == "layout":
        ops = tuple(dict.fromkeys(pick(draw, isolate.LAYOUT_OPS) for _ in range(1 + below(draw, 3))))
        if "broadcast" in ops and a.ndim == 2 and a.shape[1]:
            a = np.repeat(a[:, :1], a.shape[1], axis=1)
        return isolate.View(_cast(a, dtype), *ops)
    if form == "dtype_ok":
        return _cast(a, pick(draw, OK_DTYPES))
    if form == "dtype_bad":
        return _cast(a, pick(draw, BAD_DTYPES))
    a = _cast(a, dtype)
    if form == "container":
        return _container(a, pick(draw, CONTAINERS))
    if form == "shape":
        return _reshape(a, pick(draw, SHAPE_CHANGES))
    if form == "poison" and a.size:
        a = a.copy()
        a.flat[below(draw, a.size)] = _cast(np.array([pick(draw, POISONS)]), a.dtype)[0]
    return a


DICT_DEFECTS = ("same",) * 6 + ("missing", "extra", "list", "tuple", "none", "array")
FLOATS = (np.float32, np.float64)


def present_dict(draw, arrays, dtype, hostile, extra_key):
    """A dict of `arrays`, each presented on its own (their dtypes may disagree); in hostile cases a key
    may be missing or extra, or the dict something else."""
    mixed = draw(_BOOL)
    out = {key: present(draw, a, pick(draw, FLOATS) if mixed else dtype, hostile) for key, a in arrays.items()}
    if hostile:
        how = pick(draw, DICT_DEFECTS)
        if how == "missing":
            out.pop(pick(draw, tuple(out)))
        elif how == "extra":
            out[(extra_key, "W3", 0, "")[below(draw, 4)]] = np.ones((1, 1))
        elif how == "list":
            return list(out.values())
        elif how == "tuple":
            return tuple(out.items())
        elif how == "none":
            return None
        elif how == "array":
            return np.zeros((2, 2))
    return out


def scalar(draw, valid, hostile_values, hostile):
    """One of `valid`, or in hostile cases one time in four one of `hostile_values`."""
    if hostile and chance(draw, 4):
        return pick(draw, hostile_values)
    return pick(draw, valid)


N_X_HOSTILE, N_H_HOSTILE, N_Y_HOSTILE = (N_X + (0,), N_H + (0,), N_Y + (0,))


def setting(draw):
    """(n_x, n_h, n_y, m, dtype, hostile): sizes of 0 only in hostile cases (except m, valid there)."""
    hostile = draw(_BOOL)
    n_x, n_h, n_y = (pick(draw, c) for c in ((N_X_HOSTILE, N_H_HOSTILE, N_Y_HOSTILE) if hostile else (N_X, N_H, N_Y)))
    m = pick(draw, M)
    if m > 1000 and n_h * max(n_x, 1) > 256:
        m = 70  # keep the cases small
    return n_x, n_h, n_y, m, np.dtype(pick(draw, FLOATS)), hostile


def _params(draw, n_x, n_h, n_y):
    shapes = {"W1": (n_h, n_x), "b1": (n_h, 1), "W2": (n_y, n_h), "b2": (n_y, 1)}
    return {k: values(draw, shape) for k, shape in shapes.items()}


def _activation(draw, hostile):
    return scalar(draw, tuple(ACTIVATIONS), ACTIVATION_HOSTILE, hostile)


# ---------------------------------------------------------------- the cases, per function

SIZES_N_H = (1, 4, 64, np.int32(5), 2**63)
SIZES = (1, 2, 3, 5, 64, np.int64(3), np.uint8(2))
INITS = ("normal", "zeros", "xavier", "he")
INITS_HOSTILE = ("Normal", "", None, 1, "uniform")
INIT_SCALES = (0.0, 0.01, 1.0, 1e300, 5e-324, 1e38, 3)
INIT_SCALES_HOSTILE = (-1.0, np.nan, np.inf, "0.1", None, 1j)
SEEDS = (0, 1, 2**40, np.int64(7))  # never None: both implementations must draw the same numbers
INIT_DTYPES = (np.float32, np.float64, "float32", np.dtype(">f8"))
INIT_DTYPES_HOSTILE = (np.float16, np.int64, np.complex64, object, None, "f16", "float128")
ITERATIONS = (0, 1, 2, 3, np.int64(2))
ITERATIONS_HOSTILE = (-1, 1.0, True, None, "2")
THREADS = (None, 1, 2)


@st.composite
def layer_sizes_case(draw):
    n_x, n_h, n_y, m, dtype, hostile = setting(draw)
    X = present(draw, values(draw, (n_x, m)), dtype, hostile)
    Y = present(draw, labels(draw, n_y, m, hostile), dtype, hostile)
    kwargs = {"n_h": scalar(draw, SIZES_N_H, INT_HOSTILE, hostile)} if draw(_BOOL) else {}
    return isolate.Case("layer_sizes", (X, Y), kwargs)


@st.composite
def initialize_parameters_case(draw):
    hostile = draw(_BOOL)
    sizes = tuple(scalar(draw, SIZES, INT_HOSTILE, hostile) for _ in range(3))
    kwargs = {}
    for key, valid, bad in (
        ("init", INITS, INITS_HOSTILE),
        ("scale", INIT_SCALES, INIT_SCALES_HOSTILE),
        ("seed", SEEDS, SEEDS_HOSTILE),
        ("dtype", INIT_DTYPES, INIT_DTYPES_HOSTILE),
    ):
        if key == "seed" or draw(_BOOL):
            kwargs[key] = scalar(draw, valid, bad, hostile)
    return isolate.Case("initialize_parameters", sizes, kwargs)


@st.composite
def forward_propagation_case(draw, func="forward_propagation"):
    n_x, n_h, n_y, m, dtype, hostile = setting(draw)
    X = present(draw, values(draw, (n_x, m)), dtype, hostile)
    params = present_dict(draw, _params(draw, n_x, n_h, n_y), dtype, hostile, "dW1")
    kwargs = {"activation": _activation(draw, hostile)} if not chance(draw, 5) else {}
    args = (X, params) if func == "forward_propagation" else (params, X)
    return isolate.Case(func, args, kwargs)


def predict_case():
    return forward_propagation_case("predict")


@st.composite
def compute_cost_case(draw):
    n_x, n_h, n_y, m, dtype, hostile = setting(draw)
    A2 = present(draw, probabilities(draw, n_y, m, hostile), dtype, hostile)
    Y = present(draw, labels(draw, n_y, m, hostile), dtype, hostile)
    return isolate.Case("compute_cost", (A2, Y))


def _cache_values(draw, X, params, activation, n_h, n_y, m):
    """The reference forward pass's cache when it can be computed (else arbitrary arrays of the right shapes)."""
    if not chance(draw, 4):
        try:
            with _quiet(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return dict(reference.forward_propagation(X, params, activation=activation)[1])
        except (ValueError, TypeError):
            pass
    shapes = {"Z1": (n_h, m), "A1": (n_h, m), "Z2": (n_y, m), "A2": (n_y, m)}
    return {k: values(draw, shape) for k, shape in shapes.items()}


@st.composite
def backward_propagation_case(draw):
    n_x, n_h, n_y, m, dtype, hostile = setting(draw)
    X = _cast(values(draw, (n_x, m)), dtype)
    params = {k: _cast(a, dtype) for k, a in _params(draw, n_x, n_h, n_y).items()}
    activation = _activation(draw, hostile)
    cache = _cache_values(draw, X, params, activation if activation in ACTIVATIONS else "tanh", n_h, n_y, m)
    params = present_dict(draw, params, dtype, hostile, "dW1")
    cache = present_dict(draw, cache, dtype, hostile, "A0")
    X = present(draw, X, dtype, hostile)
    Y = present(draw, labels(draw, n_y, m, hostile), dtype, hostile)
    kwargs = {"activation": activation} if not chance(draw, 5) else {}
    return isolate.Case("backward_propagation", (params, cache, X, Y), kwargs)


@st.composite
def update_parameters_case(draw):
    n_x, n_h, n_y, m, dtype, hostile = setting(draw)
    params = present_dict(draw, _params(draw, n_x, n_h, n_y), dtype, hostile, "dW1")
    grads = {"d" + k: a for k, a in _params(draw, n_x, n_h, n_y).items()}
    args = (params, present_dict(draw, grads, dtype, hostile, "W1"))
    if not chance(draw, 4):
        args += (scalar(draw, LR_VALID, LR_HOSTILE, hostile),)
    return isolate.Case("update_parameters", args)


@st.composite
def nn_model_case(draw):
    n_x, n_h, n_y, m, dtype, hostile = setting(draw)
    X = present(draw, values(draw, (n_x, m)), dtype, hostile)
    Y = present(draw, labels(draw, n_y, m, hostile), dtype, hostile)
    n_h_arg = scalar(draw, (n_h,), INT_HOSTILE, hostile)
    iterations = scalar(draw, ITERATIONS, ITERATIONS_HOSTILE, hostile)
    kwargs = {
        "learning_rate": scalar(draw, LR_VALID, LR_HOSTILE, hostile),
        "activation": _activation(draw, hostile),
        "seed": draw(_SEED),  # never None: both implementations must start from the same point
    }
    if draw(_BOOL):
        kwargs["parameters"] = present_dict(draw, _params(draw, n_x, n_h, n_y), dtype, hostile, "dW1")
    else:
        kwargs["init"] = scalar(draw, INITS, INITS_HOSTILE, hostile)
        if hostile and chance(draw, 5):
            kwargs["seed"] = pick(draw, SEEDS_HOSTILE)
    if draw(_BOOL):
        kwargs["print_cost"] = draw(_BOOL)
    if draw(_BOOL):
        kwargs["return_costs"] = draw(_BOOL)
    if draw(_BOOL):
        kwargs["n_threads"] = scalar(draw, THREADS, THREADS_HOSTILE, hostile)
    return isolate.Case("nn_model", (X, Y, n_h_arg, iterations), kwargs)


STRATEGIES = {name: globals()[f"{name}_case"]() for name in FUNCTIONS}


def draw_cases(strategy, count):
    """`count` examples of `strategy`, drawn by hypothesis (generation only: the checks run in children)."""
    cases = []

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        derandomize=SEED is None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(case):
        cases.append(case)

    if SEED is not None:
        collect = hypothesis_seed(int(SEED))(collect)
    collect()
    return cases


# ---------------------------------------------------------------- judging a record


def _working_dtype(value, inputs):
    """The dtype the call computed in: that of the reference's float arrays, else float32 when an input
    array is float32 (a cost is a Python float however it was computed)."""
    found = set()

    def walk(v):
        if isinstance(v, np.ndarray):
            found.add(v.dtype.newbyteorder("="))
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x)

    walk(value)
    floats = found & {np.dtype(np.float32), np.dtype(np.float64)}
    if not floats:
        walk(inputs)
        floats = found & {np.dtype(np.float32)}
    return np.dtype(np.float32) if np.dtype(np.float32) in floats else np.dtype(np.float64)


# Rounding bounds.  Reordering a sum of K terms changes it by at most about
# K * eps * sum(|terms|) (twice that between two orders), whatever the sum
# itself is: when large terms cancel (1e38 - 1e38 + 0.3 in float32) the two
# implementations may legitimately disagree by far more than the table's
# tolerance, which is relative to the result.  So each output of the forward
# and backward passes gets an absolute bound from the magnitudes of its terms,
# computed in float64 from the reference's inputs; where those magnitudes
# exceed the dtype's range, one summation order may overflow and another not,
# and the entry is not compared at all (bound inf).  The slack factor covers
# the libm functions' few ulps.
_SLACK = 8


def _bound(dtype, terms, magnitude, unnormalized=None):
    """_SLACK * terms * eps * magnitude, inf where `unnormalized` (default: magnitude) overflows dtype."""
    info = np.finfo(dtype)
    big = magnitude if unnormalized is None else unnormalized
    out = _SLACK * terms * float(info.eps) * magnitude
    return np.where(np.isfinite(big) & (big <= float(info.max)) & np.isfinite(out), out, np.inf)


def _derivative_magnitude(A1, activation):
    if activation == "tanh":
        return np.abs(1 - A1 * A1)
    if activation == "sigmoid":
        return np.abs(A1 * (1 - A1))
    return np.where(A1 > 0, 1.0, 0.01 if activation == "leaky_relu" else 0.0)


def _forward_bounds(X, W1, b1, W2, b2, activation):
    """Bounds for Z1, A1, Z2, A2 (see above); the inputs are the checked arrays, in their working dtype."""
    dt = X.dtype
    X, W1, b1, W2, b2 = (np.abs(a.astype(np.float64)) for a in (X, W1, b1, W2, b2))
    n_x, n_h = W1.shape[1], W1.shape[0]
    eps = float(np.finfo(dt).eps)
    lipschitz = 0.25 if activation == "sigmoid" else 1.0
    mZ1 = W1 @ X + b1
    eZ1 = _bound(dt, n_x + 1, mZ1)
    A1 = np.minimum(mZ1, 1.0) if activation in ("tanh", "sigmoid") else mZ1
    eA1 = lipschitz * eZ1 + _SLACK * eps * A1
    mZ2 = W2 @ (A1 + eA1) + b2
    eZ2 = _bound(dt, n_h + 1, mZ2) + W2 @ eA1
    eZ2 = np.where(np.isinf(eZ1).any(axis=0), np.inf, eZ2)  # a hidden entry that may overflow spoils its column
    if W2.shape[0] == 1:
        eA2 = 0.25 * eZ2 + _SLACK * eps
    else:
        eA2 = np.broadcast_to(2 * eZ2.max(axis=0, initial=0) + _SLACK * eps, eZ2.shape)
    return {"Z1": eZ1, "A1": eA1, "Z2": eZ2, "A2": eA2}


def _backward_bounds(X, Y, W2, A1, A2, activation):
    """Bounds for dW1, db1, dW2, db2 (see above); the inputs are the checked arrays."""
    dt = X.dtype
    m, n_y = X.shape[1], W2.shape[0]
    X, Y, W2, A1, A2 = (a.astype(np.float64) for a in (X, Y, W2, A1, A2))
    dZ2 = np.abs(A2 - Y)
    mdW2, mdb2 = dZ2 @ np.abs(A1).T, dZ2.sum(axis=1, keepdims=True)
    mdZ1 = (np.abs(W2).T @ dZ2) * _derivative_magnitude(A1, activation)
    unnormalized_dZ1 = np.abs(W2).T @ dZ2  # before the derivative: it may overflow on its own
    mdW1, mdb1 = mdZ1 @ np.abs(X).T, mdZ1.sum(axis=1, keepdims=True)
    spoiled = ~(np.isfinite(unnormalized_dZ1) & (unnormalized_dZ1 <= float(np.finfo(dt).max)))
    bounds = {
        "dW2": _bound(dt, m + 1, mdW2 / m, mdW2),
        "db2": _bound(dt, m + 1, mdb2 / m, mdb2),
        "dW1": _bound(dt, m + n_y + 2, mdW1 / m, mdW1),
        "db1": _bound(dt, m + n_y + 2, mdb1 / m, mdb1),
    }
    for key in ("dW1", "db1"):
        bounds[key] = np.where(spoiled.any(axis=1, keepdims=True), np.inf, bounds[key])
    return bounds


def _checked(case):
    """(the case's arguments as the checks return them, activation); only for cases both implementations took."""
    args, kwargs = isolate.realize(case.args), isolate.realize(case.kwargs)
    activation = kwargs.get("activation", "tanh")
    with _quiet(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if case.func == "forward_propagation":
            return _validation.check_forward_inputs(args[0], args[1], activation), activation
        if case.func == "predict":
            return _validation.check_forward_inputs(args[1], args[0], activation), activation
        if case.func == "backward_propagation":
            return _validation.check_backward_inputs(*args, activation), activation
    return None, activation


def rounding_bounds(case):
    """{path: absolute bound} for the outputs of forward and backward propagation, {} otherwise."""
    inputs, activation = _checked(case)
    with _quiet():
        if case.func == "forward_propagation":
            b = _forward_bounds(*inputs, activation)
            return {"result[0]": b["A2"], **{f"result[1][{k!r}]": v for k, v in b.items()}}
        if case.func == "backward_propagation":
            return {f"result[{k!r}]": v for k, v in _backward_bounds(*inputs, activation).items()}
    return {}


def _compare_arrays(ref, got, dtype, bound, path, problems):
    tol = tolerance(dtype)
    with _quiet():
        ref64, got64 = ref.astype(np.float64), got.astype(np.float64)
        allowed = tol["atol"] + tol["rtol"] * np.abs(ref64) + (0 if bound is None else bound)
        same = (ref64 == got64) | (np.isnan(ref64) & np.isnan(got64))
        ok = same | (np.abs(got64 - ref64) <= allowed)
        if bound is not None:
            ok |= np.isinf(bound)  # the sum may overflow in one order and not in another
    if not ok.all():
        where = np.argwhere(~ok)[:5].tolist()
        problems.append(
            f"{path}: fast differs from the reference at {int((~ok).sum())} of {ok.size} entries, e.g. "
            + ", ".join(
                f"{tuple(i)}: fast {got[tuple(i)]!r}, reference {ref[tuple(i)]!r}"
                + ("" if bound is None else f" (rounding bound {bound[tuple(i)]:.3g})")
                for i in where
            )
        )


def _compare(ref, got, dtype, path, problems, bounds):
    if type(ref) is not type(got):
        problems.append(f"{path}: the reference returns {type(ref).__name__}, fast {type(got).__name__}")
    elif isinstance(ref, dict):
        if list(ref) != list(got):
            problems.append(f"{path}: keys {list(ref)} != {list(got)}")
        else:
            for k in ref:
                _compare(ref[k], got[k], dtype, f"{path}[{k!r}]", problems, bounds)
    elif isinstance(ref, (list, tuple)):
        if len(ref) != len(got):
            problems.append(f"{path}: length {len(ref)} != {len(got)}")
        else:
            for i, (r, g) in enumerate(zip(ref, got)):
                _compare(r, g, dtype, f"{path}[{i}]", problems, bounds)
    elif isinstance(ref, np.ndarray):
        if ref.shape != got.shape or ref.dtype != got.dtype:
            problems.append(f"{path}: reference {ref.shape} {ref.dtype}, fast {got.shape} {got.dtype}")
        elif ref.dtype.kind == "f":
            _compare_arrays(ref, got, dtype, bounds.get(path), path, problems)
        elif not np.array_equal(ref, got):
            problems.append(f"{path}: fast {got!r} != reference {ref!r}")
    elif isinstance(ref, float):
        _compare_arrays(np.array(ref), np.array(got), dtype, None, path, problems)
    elif ref != got:
        problems.append(f"{path}: fast {got!r} != reference {ref!r}")


def _predict_ties(case):
    """Columns whose predicted class rounding may decide: the reference's Z2 is within its rounding bound
    of the decision boundary (0 for one output, a tie of the two largest otherwise)."""
    (X, W1, b1, W2, b2), activation = _checked(case)
    with _quiet(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Z2 = reference.forward_propagation(X, {"W1": W1, "b1": b1, "W2": W2, "b2": b2}, activation=activation)[1]["Z2"]
        bound = _forward_bounds(X, W1, b1, W2, b2, activation)["Z2"]
        undecided = np.isinf(bound).any(axis=0)  # Z2 may overflow, or be NaN, depending on the order of the sums
        if Z2.shape[0] == 1:
            return undecided | (np.abs(Z2) <= bound)[0]
        order = np.argsort(-Z2, axis=0)[:2]
        top = np.take_along_axis(Z2, order, axis=0)
        slack = np.take_along_axis(bound, order, axis=0).sum(axis=0)
        return undecided | (top[0] - top[1] <= slack)


# Training amplifies rounding differences: a learning rate of 1e6, a ReLU
# kink, a softmax whose probabilities sum to 1 - 1e-17 instead of 1 (an output
# delta that is pure rounding), each make the last bits of one step the
# leading bits of the next.  No static bound follows that, so a mismatch of
# nn_model is measured against the reference's own sensitivity: the reference
# trains nearly equivalent problems -- examples, features, hidden units and
# classes permuted (the results permuted back), which changes every sum's
# order; every input multiplied by 1 + 2 eps r and the activations A1, A2 of
# every step by 1 + 4 eps r (|r| <= 1), which stands for the few ulps by which
# two libm's exp or tanh differ -- and fast must lie within a few times the
# spread of those results.  A run that overflows (numpy's overflow or
# invalid-operation flag during the reference's own steps) has no
# order-independent answer at all: there, fast may raise FloatingPointError
# where the reference returns (or the other way round), and what it returns
# must only be finite.


def _training_problem(case):
    args, kwargs = isolate.realize(case.args), isolate.realize(case.kwargs)
    X, Y, n_h, iterations = args
    names = ("learning_rate", "activation", "parameters", "init", "seed", "n_threads")
    defaults = (1.2, "tanh", None, "normal", None, None)
    lr, activation, parameters, init, seed, n_threads = (kwargs.get(k, d) for k, d in zip(names, defaults))
    with _quiet(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X, Y, (W1, b1, W2, b2), iterations, lr, _ = training_start(
            _validation.numpy_checks, X, Y, n_h, iterations, lr, activation, parameters, init, seed, n_threads
        )
    return X, Y, {"W1": W1, "b1": b1, "W2": W2, "b2": b2}, iterations, lr, activation


def _training_overflows(case):
    """True when the reference's training steps overflow or make NaN (numpy's floating-point flags)."""
    X, Y, params, iterations, lr, activation = _training_problem(case)
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            for _ in range(iterations):
                A2, cache = reference.forward_propagation(X, params, activation=activation)
                reference.compute_cost(A2, Y)
                grads = reference.backward_propagation(params, cache, X, Y, activation=activation)
                params = reference.update_parameters(params, grads, lr)
        except (FloatingPointError, ValueError):  # ValueError: the checks of the next step saw inf or NaN
            return True
    return False


def _training_variants(case, count=4):
    """The reference's results on `count` permuted and perturbed problems (see above): (params, costs),
    or None when the run diverges."""
    X, Y, params, iterations, lr, activation = _training_problem(case)
    (n_x, m), n_y, n_h = X.shape, Y.shape[0], params["W1"].shape[0]
    eps = np.finfo(X.dtype).eps
    out = []
    for k in range(count):
        rng = np.random.default_rng(k)
        e, f, h, c = rng.permutation(m), rng.permutation(n_x), rng.permutation(n_h), rng.permutation(n_y)

        def nudge(a, ulps=2):
            with _quiet():
                return (a * (1 + ulps * eps * rng.uniform(-1, 1, a.shape))).astype(a.dtype)  # noqa: B023 (called in this iteration)

        p = {"W1": params["W1"][h][:, f], "b1": params["b1"][h], "W2": params["W2"][c][:, h], "b2": params["b2"][c]}
        p = {key: nudge(a) for key, a in p.items()}
        Xk, Yk, costs = nudge(X[f][:, e]), Y[c][:, e], []
        try:
            with _quiet(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for _ in range(iterations):
                    A2, cache = reference.forward_propagation(Xk, p, activation=activation)
                    costs.append(reference.compute_cost(A2, Yk))
                    # the activations as another libm might round them (a few ulps)
                    cache = dict(cache, A1=nudge(cache["A1"], 4), A2=np.clip(nudge(cache["A2"], 4), 0, 1))
                    grads = reference.backward_propagation(p, cache, Xk, Yk, activation=activation)
                    p = reference.update_parameters(p, grads, lr)
        except ValueError:  # a non-finite step, rejected by the checks: this variant diverged
            out.append(None)
            continue
        if not all(np.isfinite(a).all() for a in p.values()):
            out.append(None)
            continue
        hi, ci, fi = np.argsort(h), np.argsort(c), np.argsort(f)
        back = {"W1": p["W1"][hi][:, fi], "b1": p["b1"][hi], "W2": p["W2"][ci][:, hi], "b2": p["b2"][ci]}
        out.append((back, np.array(costs, dtype=np.float64)))
    return out


def _judge_training(case, ref, got):
    """Problems of an nn_model record that differs from the reference (see above)."""
    if got["status"] == "ok":
        params = got["value"][0] if isinstance(got["value"], tuple) else got["value"]
        if not all(np.isfinite(params[k]).all() for k in PARAM_KEYS):
            return ["fast returned non-finite parameters (nn_model must raise FloatingPointError instead)"]
    overflows = _training_overflows(case)
    if ref["status"] != got["status"]:
        raised = ref if ref["status"] == "raise" else got
        if raised["exc"] == "FloatingPointError" and "learning_rate" in raised["message"]:
            variants = _training_variants(case)
            if overflows or any((v is None) != (ref["status"] == "raise") for v in variants):
                return []  # whether the run diverges depends on the order of the sums
        return None  # the generic verdict stands
    if overflows:
        return []
    variants = [v for v in _training_variants(case) if v is not None]
    if not variants:
        return None
    ref_params, ref_costs = ref["value"] if isinstance(ref["value"], tuple) else (ref["value"], None)
    got_params, got_costs = got["value"] if isinstance(got["value"], tuple) else (got["value"], None)
    pairs = [(f"result[{k!r}]", ref_params[k], got_params[k], [v[0][k] for v in variants]) for k in PARAM_KEYS]
    if ref_costs is not None:
        pairs.append(("costs", ref_costs, got_costs, [v[1] for v in variants]))
    problems = []
    dtype = np.dtype(ref_params["W1"].dtype)
    for path, r, g, vs in pairs:
        with _quiet():
            r64, g64 = r.astype(np.float64), g.astype(np.float64)
            spread = max(float(np.max(np.abs(v.astype(np.float64) - r64), initial=0)) for v in vs)
            allowed = tolerance(dtype)["atol"] + tolerance(dtype)["rtol"] * np.abs(r64) + 4 * spread
            if not np.all((np.abs(g64 - r64) <= allowed) | (r64 == g64)):
                worst = float(np.max(np.abs(g64 - r64)))
                problems.append(
                    f"{path}: fast differs from the reference by up to {worst:.3g}, more than 4 x the "
                    f"reference's own spread over permuted and perturbed problems, {spread:.3g}"
                )
    return problems


def judge(case, record):
    """Why `record` is unacceptable (an empty list when it is fine)."""
    if "crash" in record:
        where = "alone" if record["alone"] else "after the earlier cases:\n    " + "\n    ".join(record["after"])
        return [f"the child process died ({where}): {record['crash']}"]
    problems = []
    ref, got = record["reference"], record["fast"]
    for name, r in (("reference", ref), ("fast", got)):
        if r["mutated"]:
            problems.append(f"{name} modified its arguments")
        if r["status"] == "raise" and r["exc"] not in DOCUMENTED:
            problems.append(f"{name} raised the undocumented {r['exc']}: {r['message']}")
    training = None
    if case.func == "nn_model" and (ref["status"] != got["status"] or ref["status"] == "ok"):
        found = []
        if ref["status"] == got["status"]:
            _compare(ref["value"], got["value"], _working_dtype(ref["value"], ()), "result", found, {})
        if found or ref["status"] != got["status"]:
            training = _judge_training(case, ref, got)
    if training is not None:
        problems += training
    elif ref["status"] != got["status"]:
        for name, r in (("reference", ref), ("fast", got)):
            what = f"raised {r['exc']}: {r['message']}" if r["status"] == "raise" else "returned"
            problems.append(f"{name} {what}")
    elif ref["status"] == "raise":
        if ref["exc"] != got["exc"]:
            problems.append(
                f"reference raised {ref['exc']}: {ref['message']}; fast raised {got['exc']}: {got['message']}"
            )
    else:
        dtype = _working_dtype(ref["value"], isolate.realize((case.args, case.kwargs)))
        found = []
        _compare(ref["value"], got["value"], dtype, "result", found, {})
        if found and case.func in ("forward_propagation", "backward_propagation"):
            found = []  # compare again, allowing for cancellation and overflow in the sums
            _compare(ref["value"], got["value"], dtype, "result", found, rounding_bounds(case))
        if found and case.func == "predict":
            differ = (ref["value"] != got["value"]).reshape(-1, ref["value"].shape[-1]).any(axis=0)
            if not (differ & ~_predict_ties(case)).any():
                found = []  # only columns on the decision boundary differ
        problems += found
    return problems


# ---------------------------------------------------------------- the fuzz run


def fuzz_cases(func):
    """The cases of `func`, each noted with its name and index: `PYTHONPATH=. python tests/test_fuzz.py <func> <i>`
    replays one (derandomized, the same index is the same case on every run with the same settings)."""
    cases = draw_cases(STRATEGIES[func], max(1, round(EXAMPLES[func] * SCALE)))
    for i, case in enumerate(cases):
        case.note = f"fuzz case {func} {i}"
    return cases


@pytest.fixture(scope="module")
def fuzz():
    """Every function's cases, run in child processes: {func: [(case, record), ...]}.

    Hypothesis draws one function's cases here while the children run the previous function's.
    """
    harness = isolate.Harness(workers=2, batch_size=150)
    with concurrent.futures.ThreadPoolExecutor(1) as runner:
        pending = {}
        for func in FUNCTIONS:
            cases = fuzz_cases(func)
            pending[func] = (cases, runner.submit(harness.run, cases))
        return {func: list(zip(cases, future.result())) for func, (cases, future) in pending.items()}


def _report(func, failures, total):
    lines = [f"{len(failures)} of {total} fuzz cases of {func} failed:"]
    for case, _record, problems in failures[:12]:
        lines.append("\n" + case.describe())
        lines += [f"  - {p}" for p in problems]
    if len(failures) > 12:
        lines.append(f"\n... and {len(failures) - 12} more")
    return "\n".join(lines)


@pytest.mark.parametrize("func", FUNCTIONS)
def test_fuzz(fuzz, func):
    results = fuzz[func]
    assert len(results) >= 0.9 * max(1, round(EXAMPLES[func] * SCALE)), "hypothesis drew too few cases"
    failures = [(case, record, p) for case, record in results if (p := judge(case, record)) and not known_bug(record)]
    assert not failures, _report(func, failures, len(results))


# Bugs this fuzz found that are open, each with a strict-xfail reproducer: a
# record showing one of them (and nothing else) is not counted again above.
# None is open; the reproducers of the fixed ones remain as regression tests.
KNOWN_BUGS: dict = {}


def known_bug(record):
    if "crash" in record or record["reference"]["mutated"] or record["fast"]["mutated"]:
        return False
    return any(match(record["reference"], record["fast"]) for match in KNOWN_BUGS.values())


def test_huge_n_threads_is_handled_like_the_reference():
    """n_threads=2**64 passes the checks (a positive integer); the reference ignores it, fast must not crash on it."""
    X, Y = make_data(15, 4, 10, 1)  # 4 features: the products go to BLAS, whose threads nn_model limits
    outcomes = {}
    for backend, name in zip(BACKENDS, BACKEND_IDS):
        try:
            backend.nn_model(X, Y, 2, 1, seed=0, n_threads=2**64)
            outcomes[name] = "returned"
        except ValueError:
            outcomes[name] = "ValueError"
    assert len(set(outcomes.values())) == 1, outcomes


def _mixed_dtype_call(what, backend):
    X, Y = np.ones((2, 4)), np.array([[0.0, 1.0, 1.0, 0.0]])
    params = make_parameters(0, 2, 3, 1)
    cache = reference.forward_propagation(X, params)[1]
    if what == "compute_cost-Y":
        return backend.compute_cost(cache["A2"], Y.astype(np.float32))
    if what == "backward_propagation-cache":
        return backend.backward_propagation(params, {k: v.astype(np.float32) for k, v in cache.items()}, X, Y)
    return backend.backward_propagation(params, cache, X, Y.astype(np.float32))


@pytest.mark.parametrize("what", ["compute_cost-Y", "backward_propagation-cache", "backward_propagation-Y"])
def test_float32_labels_with_float64_data_are_converted(what):
    """Labels or a cache in float32 next to float64 data: the reference computes in float64, so must fast.

    Found by this fuzz: the checks' fast path once let a float32 array through where float64 was asked for
    (``np.dtype("float64") == None`` is True), and the float64 kernel raised "Buffer dtype mismatch".
    """
    got, expected = _mixed_dtype_call(what, fast), _mixed_dtype_call(what, reference)
    if isinstance(expected, dict):
        assert_dicts_close(got, expected, np.float64, GRAD_KEYS, "grads")
    else:
        assert_close(got, expected, np.float64)


@pytest.mark.parametrize("func", FUNCTIONS)
def test_fuzz_covers_both_outcomes(fuzz, func):
    """The cases are neither all rejected nor all accepted: the fuzz reaches the kernels and the checks."""
    statuses = [record["fast"]["status"] for _, record in fuzz[func] if "crash" not in record]
    accepted, rejected = statuses.count("ok"), statuses.count("raise")
    assert accepted >= 0.15 * len(statuses), f"only {accepted} of {len(statuses)} cases got through"
    assert rejected >= 0.1 * len(statuses), f"only {rejected} of {len(statuses)} were rejected"


# ---------------------------------------------------------------- numerical faults, in this process
#
# nn_model raises FloatingPointError naming the learning rate when the
# parameters stop being finite; otherwise everything it returns is finite.
# pytest turns warnings into errors here: none of this may warn either.


def _finite_or_diverged(train):
    """'finite' when train() returns finite parameters and costs, 'diverged' when it raises
    FloatingPointError naming the learning rate; anything else fails."""
    try:
        params, costs = train()
    except FloatingPointError as exc:
        assert "learning_rate" in str(exc), f"the FloatingPointError does not name the learning rate: {exc}"
        return "diverged"
    for k in PARAM_KEYS:
        assert np.isfinite(params[k]).all(), f"{k} is not finite and no FloatingPointError was raised"
    assert np.isfinite(costs).all(), "a cost is not finite"
    return "finite"


@pytest.mark.parametrize("n_y", [1, 3])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_learning_rate_1e6_is_finite_or_a_floating_point_error(dtype, activation, n_y):
    X, Y = make_data(10, 2, 200, n_y, dtype)
    outcomes = {
        backend.__name__: _finite_or_diverged(
            lambda: backend.nn_model(X, Y, 4, 30, learning_rate=1e6, activation=activation, seed=0, return_costs=True)  # noqa: B023
        )
        for backend in BACKENDS
    }
    assert len(set(outcomes.values())) == 1, f"the implementations disagree: {outcomes}"


def _saturating(dtype, n_y, size=1e4):
    """Data and parameters with |Z1| and |Z2| of about `size`: every activation at its flat ends."""
    X, Y = make_data(11, 3, 50, n_y, dtype)
    params = make_parameters(11, 3, 5, n_y, dtype, scale=1.0)
    return X, Y, {k: (v * dtype(size)).astype(dtype) for k, v in params.items()}


@pytest.mark.parametrize("backend", BACKENDS, ids=BACKEND_IDS)
@pytest.mark.parametrize("n_y", [1, 3])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_saturated_activations_stay_finite(backend, dtype, activation, n_y):
    X, Y, params = _saturating(dtype, n_y)
    A2, cache = backend.forward_propagation(X, params, activation=activation)
    for k, a in cache.items():
        assert np.isfinite(a).all(), f"{k} is not finite"
    assert A2.min() >= 0 and A2.max() <= 1
    assert ((A2 == 0) | (A2 == 1)).mean() > 0.5, "the outputs were meant to saturate"
    cost = backend.compute_cost(A2, Y)
    assert np.isfinite(cost) and cost > 0
    grads = backend.backward_propagation(params, cache, X, Y, activation=activation)
    for k, g in grads.items():
        assert np.isfinite(g).all(), f"{k} is not finite"
    n_h = params["W1"].shape[0]
    _finite_or_diverged(
        lambda: backend.nn_model(X, Y, n_h, 20, activation=activation, parameters=params, return_costs=True)
    )


@pytest.mark.parametrize("backend", BACKENDS, ids=BACKEND_IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_exploding_relu_units_raise_floating_point_error(backend, dtype, activation):
    """Unbounded hidden units fed large inputs grow without limit until they overflow: never NaN in silence."""
    X, Y = make_data(12, 4, 100, 1, dtype)
    X = (X * dtype(1e3)).astype(dtype)
    with pytest.raises(FloatingPointError, match="learning_rate"):
        backend.nn_model(X, Y, 8, 200, learning_rate=1.0, activation=activation, init="he", seed=1)


@pytest.mark.parametrize("backend", BACKENDS, ids=BACKEND_IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("n_y", [1, 3])
def test_cost_is_finite_at_probabilities_of_exactly_0_and_1(backend, dtype, n_y):
    """Right and wrong answers given with certainty: each wrong one costs -log(eps), finite."""
    Y = np.eye(n_y, dtype=dtype)[:, [0, 1, 1, 0]] if n_y > 1 else np.array([[0, 1, 1, 0]], dtype)
    for A2 in (Y.copy(), 1 - Y if n_y == 1 else np.roll(Y, 1, axis=0)):
        cost = backend.compute_cost(A2, Y)
        wrong = np.mean(np.any(A2 != Y, axis=0))
        expected = -np.log(np.finfo(dtype).eps) * wrong
        assert np.isfinite(cost)
        np.testing.assert_allclose(cost, expected, rtol=1e-3, atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS, ids=BACKEND_IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("n_y", [1, 3])
def test_training_costs_stay_finite_when_the_output_saturates(backend, dtype, n_y):
    X, Y, params = _saturating(dtype, n_y, size=1e3)
    params["W2"] = (params["W2"] * dtype(100)).astype(dtype)  # |Z2| ~ 1e5: A2 is exactly 0 or 1
    A2, _ = backend.forward_propagation(X, params)
    assert ((A2 == 0) | (A2 == 1)).all()
    _, costs = backend.nn_model(X, Y, 5, 10, learning_rate=1e-6, parameters=params, return_costs=True)
    assert np.isfinite(costs).all()


@pytest.mark.parametrize("backend", BACKENDS, ids=BACKEND_IDS)
def test_update_with_a_learning_rate_beyond_float32_never_makes_nan(backend):
    params = make_parameters(13, 2, 3, 1, np.float32)
    grads = {"d" + k: np.zeros_like(v) for k, v in params.items()}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # what this test is about is the value returned
            new = backend.update_parameters(params, grads, learning_rate=1e39)
    except (ValueError, FloatingPointError):
        return  # rejecting the learning rate is fine
    for k in PARAM_KEYS:
        np.testing.assert_array_equal(new[k], params[k], err_msg=f"{k}: W - lr * 0 must be W")


@pytest.mark.parametrize("backend", BACKENDS, ids=BACKEND_IDS)
def test_learning_rate_beyond_float32_is_a_floating_point_error_not_a_warning(backend):
    X, Y = make_data(16, 2, 20, 1, np.float32)
    with pytest.raises((FloatingPointError, ValueError), match="learning_rate"):
        backend.nn_model(X, Y, 3, 2, learning_rate=1e300, seed=0)


# ---------------------------------------------------------------- the judge itself


def _judge_sees(case, tamper):
    record = isolate.execute(case)
    record["fast"]["value"] = tamper(record["fast"]["value"])
    return judge(case, record)


@pytest.mark.parametrize("func", ["forward_propagation", "backward_propagation", "nn_model", "predict"])
def test_judge_catches_wrong_results(func):
    """The rounding allowances of judge() still see a wrong digit, a NaN, a flipped class."""
    X, Y = make_data(14, 3, 40, 1)
    params = make_parameters(14, 3, 4, 1)
    cache = reference.forward_propagation(X, params)[1]
    args = {
        "forward_propagation": (X, params),
        "backward_propagation": (params, cache, X, Y),
        "nn_model": (X, Y, 4, 20),
        "predict": (params, X),
    }[func]
    case = isolate.Case(func, args, {"seed": 0} if func == "nn_model" else {})
    assert judge(case, isolate.execute(case)) == []

    def first_array(value):
        if isinstance(value, np.ndarray):
            return value
        return first_array(value[0] if isinstance(value, tuple) else value[sorted(value)[0]])

    def scaled(value):
        a = first_array(value)
        a[...] = ~a if a.dtype == bool else a * (1 + 1e-6)
        return value

    def poisoned(value):
        a = first_array(value)
        if a.dtype == bool:
            a[0, 0] = ~a[0, 0]
        else:
            a.flat[0] = np.nan
        return value

    assert _judge_sees(case, scaled), "a relative error of 1e-6 in float64 went unnoticed"
    assert _judge_sees(case, poisoned), "a NaN (or one flipped class) went unnoticed"


# ---------------------------------------------------------------- the harness itself


def _forward_case(note):
    X = np.arange(6.0).reshape(2, 3)
    return isolate.Case("forward_propagation", (isolate.View(X, "reversed"), make_parameters(0, 2, 3, 1)), note=note)


def test_harness_names_the_crashing_case():
    """A segfault, and an abort that only follows another case, become those cases' records."""
    cases = [
        _forward_case("ok 0"),
        isolate.Case("predict", (make_parameters(0, 2, 3, 1), isolate.Saboteur("segfault"))),
        _forward_case("ok 1"),
        isolate.Case("predict", (make_parameters(0, 2, 3, 1), isolate.Saboteur("arm"))),
        _forward_case("ok 2"),
        isolate.Case("predict", (make_parameters(0, 2, 3, 1), isolate.Saboteur("abort", armed_only=True))),
        _forward_case("ok 3"),
    ]
    records, _ = isolate.run_cases(cases, workers=1, batch_size=len(cases))
    assert [("crash" in r) for r in records] == [False, True, False, False, False, True, False]
    assert "SIGSEGV" in records[1]["crash"] and records[1]["alone"]
    assert "SIGABRT" in records[5]["crash"] and not records[5]["alone"]
    assert records[5]["after"] == [cases[3].describe()]
    for i in (0, 2, 4, 6):
        assert records[i]["fast"]["status"] == "ok" and not judge(cases[i], records[i])
    assert judge(cases[1], records[1])[0].startswith("the child process died (alone): killed by SIGSEGV")


def test_harness_names_a_crash_at_exit_and_a_hang():
    sabotaged = isolate.Case("predict", (make_parameters(0, 2, 3, 1), isolate.Saboteur("exit")))
    cases = [_forward_case("ok 0"), sabotaged, _forward_case("ok 1")]
    records, _ = isolate.run_cases(cases, workers=1, batch_size=len(cases))
    assert [("crash" in r) for r in records] == [False, True, False]
    assert "died at exit" in records[1]["crash"]
    sabotaged = isolate.Case("predict", (make_parameters(0, 2, 3, 1), isolate.Saboteur("hang")))
    cases = [_forward_case("ok 0"), sabotaged, _forward_case("ok 1")]
    records, _ = isolate.run_cases(cases, workers=1, batch_size=len(cases), timeout=2, per_case_timeout=0)
    assert [("crash" in r) for r in records] == [False, True, False]
    assert records[1]["crash"].startswith("hung")


def test_views_keep_the_values():
    a = np.arange(12.0).reshape(3, 4)
    for op in isolate.LAYOUT_OPS:
        base = np.repeat(a[:, :1], 4, axis=1) if op == "broadcast" else a
        view = isolate.View(base, op).realize()
        np.testing.assert_array_equal(np.asarray(view), base, err_msg=op)
    assert isolate.View(a, "reversed").realize().strides[0] < 0
    assert not isolate.View(a, "strided").realize().flags.c_contiguous
    assert not isolate.View(a, "readonly").realize().flags.writeable
    assert not isolate.View(a, "unaligned").realize().flags.aligned
    assert isolate.View(a, "bigendian").realize().dtype == np.dtype(">f8")
    assert isolate.View(a, "broadcast").realize().strides[1] == 0


if __name__ == "__main__":  # replay one case in this process: PYTHONPATH=. python tests/test_fuzz.py <func> <index>
    import sys

    case = fuzz_cases(sys.argv[1])[int(sys.argv[2])]
    print(case.describe())
    record = isolate.execute(case)
    for name in isolate.IMPLEMENTATIONS:
        print(f"{name}: {record[name]}")
    print("problems:", judge(case, record) or "none")

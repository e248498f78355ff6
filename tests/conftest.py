"""Shared fixtures: the two backends, the dtypes, one tolerance table, data makers.

Every behavioural test takes the ``backend`` fixture and therefore runs once
with the NumPy specification (:mod:`shallownet_fast.reference`) and once with
the compiled implementation (:mod:`shallownet_fast.fast`).  The compiled module
is imported unconditionally: if it cannot be imported the suite errors, it is
never skipped.
"""

import numpy as np
import pytest

import shallownet_fast.fast as fast
import shallownet_fast.reference as reference

BACKENDS = [reference, fast]
BACKEND_IDS = ["reference", "fast"]

DTYPES = [np.float32, np.float64]
DTYPE_IDS = ["float32", "float64"]

ACTIVATIONS = ["tanh", "relu", "leaky_relu", "sigmoid"]
PARAM_KEYS = ("W1", "b1", "W2", "b2")
GRAD_KEYS = ("dW1", "db1", "dW2", "db2")
CACHE_KEYS = ("Z1", "A1", "Z2", "A2")

# Tolerances for comparing fast with reference (and one layout with another),
# keyed by dtype.  Both implementations evaluate the same formulas; they differ
# only in (1) summation order -- BLAS blocking / SIMD partial sums versus plain
# loop nests, in products and row sums whose reduction length is m (up to a few
# hundred or thousand examples) or n_x / n_h (up to 64) -- and (2) vectorised
# libm (tanh, exp, log, log1p of glibc's libmvec are a few ulp away from the
# scalar functions).  Reordering a sum of N terms changes it by at most about
# N * eps * sum(|terms|) in the worst case and ~sqrt(N) * eps typically.
TOLERANCES = {
    # eps64 = 2.2e-16.  Reductions of length ~1e3 give worst-case relative
    # differences ~2e-13; a few-ulp libm difference is ~1e-15; 200 training
    # steps amplify both mildly.  rtol=1e-10 leaves a margin of >100 over that
    # while still catching any real formula difference (those show up at 1e-3
    # or worse).  atol=1e-12 covers entries that are sums cancelling to ~0
    # (gradients, Z near 0), where a relative bound means nothing.
    np.dtype(np.float64): {"rtol": 1e-10, "atol": 1e-12},
    # eps32 = 1.2e-7.  The same reductions of length ~1e3 differ by up to
    # ~1e3 * 1.2e-7 = 1.2e-4 relative in the worst case (typically far less),
    # so rtol=2e-4.  atol=1e-5 covers cancelling sums: entries of size O(1)
    # summed over ~1e2-1e3 terms carry absolute errors ~1e-5 when the result
    # itself is near 0 (gradients are divided by m, which keeps them there).
    np.dtype(np.float32): {"rtol": 2e-4, "atol": 1e-5},
}


def tolerance(dtype):
    """The {"rtol", "atol"} entry of TOLERANCES for `dtype`."""
    return TOLERANCES[np.dtype(dtype)]


def assert_close(actual, desired, dtype, err_msg=""):
    """assert_allclose with the table's tolerance for `dtype`; shapes must match."""
    actual = np.asarray(actual)
    desired = np.asarray(desired)
    assert actual.shape == desired.shape, f"{err_msg}: shape {actual.shape} != {desired.shape}"
    np.testing.assert_allclose(actual, desired, err_msg=err_msg, **tolerance(dtype))


def assert_dicts_close(actual, desired, dtype, keys, what=""):
    """Compare two dicts of arrays key by key (same keys, shapes, dtypes, values)."""
    assert set(actual) >= set(keys), f"{what}: keys {sorted(actual)} lack some of {keys}"
    for k in keys:
        a, d = np.asarray(actual[k]), np.asarray(desired[k])
        assert a.dtype == d.dtype, f"{what}[{k}]: dtype {a.dtype} != {d.dtype}"
        assert_close(a, d, dtype, err_msg=f"{what}[{k}]")


# ---------------------------------------------------------------- fixtures


@pytest.fixture(params=BACKENDS, ids=BACKEND_IDS)
def backend(request):
    """The module under test: reference, then fast."""
    return request.param


@pytest.fixture(params=DTYPES, ids=DTYPE_IDS)
def dtype(request):
    return np.dtype(request.param)


@pytest.fixture(params=ACTIVATIONS)
def activation(request):
    return request.param


# ---------------------------------------------------------------- data


def make_labels(rng, n_y, m, dtype=np.float64):
    """0/1 labels of shape (1, m) when n_y == 1, one-hot columns (n_y, m) otherwise."""
    if n_y == 1:
        return rng.integers(0, 2, size=(1, m)).astype(dtype)
    Y = np.zeros((n_y, m), dtype)
    Y[rng.integers(0, n_y, size=m), np.arange(m)] = 1
    return Y


def make_data(seed, n_x, m, n_y, dtype=np.float64):
    """Standard-normal X (n_x, m) and matching labels Y, from default_rng(seed)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m)).astype(dtype)
    Y = make_labels(rng, n_y, m, dtype)
    return X, Y


def make_parameters(seed, n_x, n_h, n_y, dtype=np.float64, scale=0.5):
    """Random parameters (weights and non-zero biases) large enough to be non-trivial."""
    rng = np.random.default_rng(seed)
    return {
        "W1": (rng.standard_normal((n_h, n_x)) * scale / np.sqrt(n_x)).astype(dtype),
        "b1": (rng.standard_normal((n_h, 1)) * 0.1).astype(dtype),
        "W2": (rng.standard_normal((n_y, n_h)) * 2 * scale / np.sqrt(n_h)).astype(dtype),
        "b2": (rng.standard_normal((n_y, 1)) * 0.1).astype(dtype),
    }


def copy_tree(obj):
    """Deep copy of a dict of arrays (or an array)."""
    if isinstance(obj, dict):
        return {k: np.array(a, copy=True) for k, a in obj.items()}
    return np.array(obj, copy=True)


def assert_unchanged(before, after, what):
    """`after` (an input after a call) equals the copy `before` bit for bit."""
    if isinstance(before, dict):
        assert set(before) == set(after), f"{what}: keys changed"
        for k in before:
            np.testing.assert_array_equal(after[k], before[k], err_msg=f"{what}[{k}] was modified")
            assert after[k].dtype == before[k].dtype, f"{what}[{k}] changed dtype"
    else:
        np.testing.assert_array_equal(after, before, err_msg=f"{what} was modified")
        assert after.dtype == before.dtype, f"{what} changed dtype"


def pytest_report_header(config):
    """Which build the suite is testing: where it lives, its kernels, whether bounds checks are on."""
    import shallownet_fast
    from shallownet_fast import _dispatch

    return (
        f"shallownet_fast {shallownet_fast.__version__} from {shallownet_fast.__file__}; "
        f"kernels {shallownet_fast.kernel_variant} (available: {', '.join(_dispatch.available())}); "
        f"debug build: {_dispatch.kernels.debug_build()}; thread team: {_dispatch.kernels.team_enabled()}"
    )

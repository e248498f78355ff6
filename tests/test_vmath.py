"""The kernels' exp, expm1, log and log1p (src/_vmath.h) against NumPy's, in every compiled variant.

src/_vmath.h states the maximum error of each function; here it is measured on
~10^6 arguments per function and dtype: log-uniform magnitudes of both signs
over the whole range of the dtype (subnormals included), a uniform sample of
the interesting interval, and [-1, 1]; then the edge cases, which must give
exactly NumPy's value (0 and -0 keep their sign; inf, nan and the overflow
and underflow thresholds).

The exact value is NumPy's float64 result (glibc's, within 1 ulp): for float32
arguments it is exact far below a float32 ulp, so float32 errors are measured
against it; for float64, NumPy's float64 result itself.  One ulp is the
spacing of the dtype at the exact value (on the subnormal range, at the
smallest normal number).
"""

import importlib

import numpy as np
import pytest

import shallownet_fast
from shallownet_fast import _dispatch

# Maximum errors in ulp, as stated in src/_vmath.h (the same for every variant).
BOUNDS = {
    np.dtype(np.float64): {"exp": 1, "expm1": 2, "log": 1, "log1p": 1},
    np.dtype(np.float32): {"exp": 1, "expm1": 1.5, "log": 1, "log1p": 1},
}
# Where each function's arguments of interest lie (beyond: inf, 0, -1, nan).
INTERVALS = {"exp": (-760, 720), "expm1": (-60, 720), "log": (0, 1e4), "log1p": (-1, 1e4)}
NUMPY = {"exp": np.exp, "expm1": np.expm1, "log": np.log, "log1p": np.log1p}


def _module(variant):
    suffix = "" if variant == "baseline" else f"_{variant}"
    try:
        return importlib.import_module(f"shallownet_fast._vmath{suffix}")
    except ImportError as exc:  # built with the kernels of every variant
        raise AssertionError(f"shallownet_fast._vmath{suffix} is missing beside the {variant} kernels") from exc


def _apply(module, name, x):
    out = np.empty_like(x)
    module.apply(name, np.ascontiguousarray(x), out)
    return out


def _arguments(dtype, name, n=330_000, seed=0):
    rng = np.random.default_rng(seed)
    info = np.finfo(dtype)
    logs = rng.uniform(np.log(float(info.smallest_subnormal)), np.log(float(info.max)), n)
    magnitudes = np.exp(logs).astype(dtype)
    signs = rng.choice(np.array([-1, 1], dtype=dtype), n)
    lo, hi = INTERVALS[name]
    lo = max(lo, float(np.finfo(dtype).min))
    hi = min(hi, float(np.finfo(dtype).max))
    uniform = rng.uniform(lo, hi, n).astype(dtype)
    unit = rng.uniform(-1, 1, n).astype(dtype)
    return np.concatenate([magnitudes * signs, uniform, unit])


def _edges(dtype):
    info = np.finfo(dtype)
    tiny, sub = info.tiny, info.smallest_subnormal
    big = np.log(info.max)  # exp and expm1 overflow just above it
    small = np.log(tiny)  # exp's results turn subnormal below it
    zero_below = np.log(sub) - 1
    values = [
        0.0,
        -0.0,
        tiny,
        -tiny,
        sub,
        -sub,
        4 * sub,
        -4 * sub,
        1.0,
        -1.0,
        0.5,
        2.0,
        np.inf,
        -np.inf,
        np.nan,
        info.max,
        -info.max,
        info.eps,
        -info.eps,
        1e-30,
        -1e-30,
        big,
        small,
        zero_below,
        -zero_below,
    ]
    x = np.array(values, dtype=dtype)
    # the neighbours of the thresholds
    with np.errstate(over="ignore"):
        around = np.concatenate([np.nextafter(x, np.array(np.inf, dtype)), np.nextafter(x, np.array(-np.inf, dtype))])
    minus_one = np.array([-1.0, -1.0], dtype=dtype)
    minus_one = np.nextafter(minus_one, np.array([0.0, -2.0], dtype=dtype))
    return np.concatenate([x, around, minus_one])


def _ulp_errors(got, x, name, dtype):
    """(errors in ulp where both are finite, mask of arguments whose results differ in kind)."""
    with np.errstate(all="ignore"):
        exact = NUMPY[name](x.astype(np.float64))
        want = exact.astype(dtype)
        same = (got == want) & (np.signbit(got) == np.signbit(want)) | (np.isnan(got) & np.isnan(want))
        finite = np.isfinite(want) & np.isfinite(got) & ~same
        spacing = np.spacing(np.maximum(np.abs(want[finite]), np.finfo(dtype).tiny)).astype(np.float64)
        # for float64, exact is want: NumPy's float64 result is the reference
        errors = np.abs(got[finite].astype(np.float64) - exact[finite]) / spacing
    return errors, ~same & ~finite


@pytest.fixture(params=["baseline", "avx2", "avx512"])
def variant(request):
    if request.param not in _dispatch.available():
        pytest.skip(f"this CPU cannot run the {request.param} kernels")
    return request.param


@pytest.mark.parametrize("name", sorted(NUMPY))
@pytest.mark.parametrize("dtype", [np.dtype(np.float32), np.dtype(np.float64)], ids=["float32", "float64"])
def test_error_is_within_the_stated_bound(variant, name, dtype):
    x = _arguments(dtype, name)
    got = _apply(_module(variant), name, x)
    assert got.dtype == dtype
    errors, kind = _ulp_errors(got, x, name, dtype)
    assert not kind.any(), f"{name}: {x[kind][:5]} give {got[kind][:5]}, not finite like NumPy's (or the reverse)"
    worst = errors.max() if errors.size else 0.0
    assert worst <= BOUNDS[dtype][name], f"{name} ({variant}, {dtype}) is {worst} ulp from NumPy, above the bound"


@pytest.mark.parametrize("name", sorted(NUMPY))
@pytest.mark.parametrize("dtype", [np.dtype(np.float32), np.dtype(np.float64)], ids=["float32", "float64"])
def test_edge_cases(variant, name, dtype):
    x = _edges(dtype)
    got = _apply(_module(variant), name, x)
    with np.errstate(all="ignore"):
        want = NUMPY[name](x.astype(np.float64)).astype(dtype)
    special = ~np.isfinite(want) | (want == 0) | ~np.isfinite(x) | (x == 0)
    # inf, nan, +-0 and exact zeros: NumPy's value, sign included
    np.testing.assert_array_equal(got[special], want[special], err_msg=f"{name} at {x[special]}")
    assert (np.signbit(got[special]) == np.signbit(want[special]))[~np.isnan(want[special])].all(), name
    errors, kind = _ulp_errors(got, x, name, dtype)
    assert not kind.any(), f"{name}: {x[kind]} give {got[kind]}"
    assert errors.max(initial=0) <= BOUNDS[dtype][name], f"{name} at the edges: {errors.max()} ulp"


def test_subnormal_results_of_exp():
    # exp on the gradual-underflow range: one rounding, so within an ulp of the smallest normal
    for dtype in (np.float32, np.float64):
        info = np.finfo(dtype)
        x = np.linspace(np.log(float(info.smallest_subnormal)) - 1, np.log(float(info.tiny)), 5001).astype(dtype)
        errors, kind = _ulp_errors(_apply(_module("baseline"), "exp", x), x, "exp", np.dtype(dtype))
        assert not kind.any() and errors.max(initial=0) <= 1


def test_every_variant_has_its_maths_module():
    for variant in _dispatch.available():
        _module(variant)  # raises AssertionError when missing
    assert shallownet_fast.kernel_variant in _dispatch.available()


def test_apply_rejects_unknown_names_and_lengths():
    module = _module("baseline")
    x = np.ones(3)
    with pytest.raises(ValueError, match="unknown function"):
        module.apply("tanh", x, np.empty(3))
    with pytest.raises(ValueError, match="length"):
        module.apply("exp", x, np.empty(4))

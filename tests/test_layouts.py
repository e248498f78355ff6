"""Memory layout does not change results.

Every array argument (X, Y, each parameter, the cache, the gradients) is given
in one non-C-contiguous or otherwise unusual layout, holding the same values
as a C-contiguous baseline; both backends must return the same results as for
the baseline (to the table's tolerance: a layout may legitimately send a
product down a different BLAS path) and the results keep the input's dtype.
"""

import numpy as np
import pytest

from conftest import (
    CACHE_KEYS,
    GRAD_KEYS,
    PARAM_KEYS,
    assert_close,
    assert_dicts_close,
    make_data,
    make_parameters,
)


def _c(a):
    return np.ascontiguousarray(a)


def _fortran(a):
    out = np.asfortranarray(a)
    assert out.flags.f_contiguous
    return out


def _transposed_copy(a):
    """The transpose of a C-contiguous copy of a.T: same values, transposed memory."""
    return np.ascontiguousarray(a.T).T


def _strided_columns(a):
    """Every other column of a twice-as-wide array (X_big[:, ::2])."""
    big = np.full((a.shape[0], 2 * a.shape[1]), -7, a.dtype)
    big[:, ::2] = a
    return big[:, ::2]


def _strided_both(a):
    """Rows 3 apart and columns 2 apart inside a larger F-ordered array."""
    big = np.full((3 * a.shape[0], 2 * a.shape[1]), 5, a.dtype, order="F")
    big[::3, ::2] = a
    return big[::3, ::2]


def _reversed_columns(a):
    """Negative column stride: a reversed copy viewed backwards (X[:, ::-1])."""
    return _c(a[:, ::-1])[:, ::-1]


def _reversed_both(a):
    return _c(a[::-1, ::-1])[::-1, ::-1]


def _read_only(a):
    out = a.copy()
    out.setflags(write=False)
    return out


def _read_only_fortran(a):
    out = np.asfortranarray(a).copy(order="F")
    out.setflags(write=False)
    return out


def _big_endian(a):
    return a.astype(a.dtype.newbyteorder(">"))


LAYOUTS = {
    "fortran": _fortran,
    "transposed": _transposed_copy,
    "strided-columns": _strided_columns,
    "strided-both": _strided_both,
    "negative-columns": _reversed_columns,
    "negative-both": _reversed_both,
    "read-only": _read_only,
    "read-only-fortran": _read_only_fortran,
    "big-endian": _big_endian,
}

# (n_x, n_h, m): small, and big enough for BLAS paths.
SIZES = {"small": (5, 7, 53), "big": (40, 64, 300)}


@pytest.fixture(params=list(LAYOUTS))
def layout(request):
    return LAYOUTS[request.param]


def _relayout(obj, layout):
    if isinstance(obj, dict):
        return {k: layout(a) for k, a in obj.items()}
    return layout(obj)


def _check_values_kept(original, variant):
    """The variant holds the same values (guards the layout helpers themselves)."""
    for k in original if isinstance(original, dict) else [None]:
        o = original[k] if k is not None else original
        v = variant[k] if k is not None else variant
        np.testing.assert_array_equal(np.asarray(v), o)


@pytest.fixture(params=[1, 3], ids=["ny1", "ny3"])
def problem(request, dtype):
    n_y = request.param
    n_x, n_h, m = SIZES["small"]
    X, Y = make_data(21, n_x, m, n_y, dtype)
    params = make_parameters(22, n_x, n_h, n_y, dtype)
    return X, Y, params


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("n_y", [1, 3])
def test_forward_backward_update(backend, dtype, layout, size, n_y):
    n_x, n_h, m = SIZES[size]
    X, Y = make_data(21, n_x, m, n_y, dtype)
    params = make_parameters(22, n_x, n_h, n_y, dtype)

    A2, cache = backend.forward_propagation(X, params)
    grads = backend.backward_propagation(params, cache, X, Y)
    new = backend.update_parameters(params, grads, learning_rate=0.7)
    cost = backend.compute_cost(A2, Y)

    Xv, Yv, Pv = layout(X), layout(Y), _relayout(params, layout)
    Cv, Gv, A2v_in = _relayout(cache, layout), _relayout(grads, layout), layout(A2)
    for orig, var in ((X, Xv), (Y, Yv), (params, Pv), (cache, Cv), (grads, Gv)):
        _check_values_kept(orig, var)

    A2v, cachev = backend.forward_propagation(Xv, Pv)
    assert A2v.dtype == dtype
    assert_close(A2v, A2, dtype, "A2")
    assert_dicts_close(cachev, cache, dtype, CACHE_KEYS, "cache")

    gradsv = backend.backward_propagation(Pv, Cv, Xv, Yv)
    assert_dicts_close(gradsv, grads, dtype, GRAD_KEYS, "grads")

    newv = backend.update_parameters(Pv, Gv, learning_rate=0.7)
    assert_dicts_close(newv, new, dtype, PARAM_KEYS, "updated parameters")

    assert_close(backend.compute_cost(A2v_in, Yv), cost, dtype, "cost")


@pytest.mark.parametrize("n_y", [1, 3])
def test_nn_model(backend, dtype, layout, n_y):
    n_x, n_h, m = SIZES["small"]
    X, Y = make_data(23, n_x, m, n_y, dtype)
    p0 = make_parameters(24, n_x, n_h, n_y, dtype)
    kwargs = dict(learning_rate=0.5, return_costs=True)

    p, costs = backend.nn_model(X, Y, n_h, 10, parameters=p0, **kwargs)
    pv, costsv = backend.nn_model(layout(X), layout(Y), n_h, 10, parameters=_relayout(p0, layout), **kwargs)
    assert_dicts_close(pv, p, dtype, PARAM_KEYS, "parameters from given start")
    assert_close(costsv, costs, dtype, "costs")

    q = backend.nn_model(X, Y, n_h, 10, seed=4, learning_rate=0.5)
    qv = backend.nn_model(layout(X), layout(Y), n_h, 10, seed=4, learning_rate=0.5)
    assert_dicts_close(qv, q, dtype, PARAM_KEYS, "parameters from seed")


@pytest.mark.parametrize("n_y", [1, 3])
def test_predict(backend, dtype, layout, n_y):
    n_x, n_h, m = SIZES["small"]
    X, _ = make_data(25, n_x, m, n_y, dtype)
    params = make_parameters(26, n_x, n_h, n_y, dtype, scale=3.0)
    A2, _ = backend.forward_propagation(X, params)
    if n_y == 1:
        keep = np.abs(A2[0] - 0.5) > 1e-3
    else:
        top2 = np.sort(A2, axis=0)[-2:]
        keep = top2[1] - top2[0] > 1e-3
    assert keep.sum() > 0.8 * m
    pred = backend.predict(params, X)
    predv = backend.predict(_relayout(params, layout), layout(X))
    assert predv.dtype == pred.dtype and predv.shape == pred.shape
    np.testing.assert_array_equal(predv[..., keep], pred[..., keep])


def test_layer_sizes(backend, layout, problem):
    X, Y, _ = problem
    assert backend.layer_sizes(layout(X), layout(Y), 3) == backend.layer_sizes(X, Y, 3)


def test_explicit_negative_strides_with_matching_labels(backend, dtype):
    """X[:, ::-1] with Y[:, ::-1] equals the reversed data made contiguous."""
    n_x, n_h, m = SIZES["big"]
    X, Y = make_data(27, n_x, m, 1, dtype)
    params = make_parameters(28, n_x, n_h, 1, dtype)
    Xr, Yr = X[:, ::-1], Y[:, ::-1]
    assert Xr.strides[1] < 0
    Xc, Yc = _c(Xr), _c(Yr)
    A2r, cacher = backend.forward_propagation(Xr, params)
    A2c, cachec = backend.forward_propagation(Xc, params)
    assert_close(A2r, A2c, dtype, "A2")
    assert_dicts_close(
        backend.backward_propagation(params, cacher, Xr, Yr),
        backend.backward_propagation(params, cachec, Xc, Yc),
        dtype,
        GRAD_KEYS,
        "grads",
    )
    # reversing the examples only reverses the columns of the outputs
    A2, _ = backend.forward_propagation(X, params)
    assert_close(A2r, A2[:, ::-1], dtype, "A2 of reversed examples")
    pr = backend.nn_model(Xr, Yr, n_h, 5, parameters=params, learning_rate=0.5)
    pc = backend.nn_model(Xc, Yc, n_h, 5, parameters=params, learning_rate=0.5)
    assert_dicts_close(pr, pc, dtype, PARAM_KEYS, "trained")


def test_strided_view_of_a_bigger_array(backend, dtype):
    """X_big[:, ::2]: only the selected columns are read."""
    n_x, n_h, m = SIZES["big"]
    X_big, Y_big = make_data(29, n_x, 2 * m, 3, dtype)
    params = make_parameters(30, n_x, n_h, 3, dtype)
    Xs, Ys = X_big[:, ::2], Y_big[:, ::2]
    A2s, caches = backend.forward_propagation(Xs, params)
    A2c, cachec = backend.forward_propagation(_c(Xs), params)
    assert A2s.shape == (3, m)
    assert_close(A2s, A2c, dtype, "A2")
    assert_dicts_close(
        backend.backward_propagation(params, caches, Xs, Ys),
        backend.backward_propagation(params, cachec, _c(Xs), _c(Ys)),
        dtype,
        GRAD_KEYS,
        "grads",
    )
    assert_close(backend.compute_cost(A2s, Ys), backend.compute_cost(A2c, _c(Ys)), dtype, "cost")


def test_read_only_inputs_stay_read_only(backend, dtype):
    n_x, n_h, m = SIZES["small"]
    X, Y = make_data(31, n_x, m, 1, dtype)
    params = make_parameters(32, n_x, n_h, 1, dtype)
    for a in (X, Y, *params.values()):
        a.setflags(write=False)
    A2, cache = backend.forward_propagation(X, params)
    grads = backend.backward_propagation(params, cache, X, Y)
    backend.update_parameters(params, grads, 0.5)
    trained = backend.nn_model(X, Y, n_h, 3, parameters=params)
    backend.predict(trained, X)
    assert not X.flags.writeable and not Y.flags.writeable
    assert all(not a.flags.writeable for a in params.values())
    # outputs are fresh, writable arrays
    assert all(trained[k].flags.writeable for k in PARAM_KEYS)


# ---------------------------------------------------------------- byte order


@pytest.mark.parametrize("n_y", [1, 3])
def test_big_endian_values(backend, dtype, n_y):
    """Non-native byte order gives the same values as native arrays."""
    n_x, n_h, m = SIZES["small"]
    X, Y = make_data(33, n_x, m, n_y, dtype)
    params = make_parameters(34, n_x, n_h, n_y, dtype)
    A2, cache = backend.forward_propagation(X, params)
    grads = backend.backward_propagation(params, cache, X, Y)
    trained = backend.nn_model(X, Y, n_h, 10, parameters=params, learning_rate=0.5)

    Xb, Yb, Pb, Cb = _big_endian(X), _big_endian(Y), _relayout(params, _big_endian), _relayout(cache, _big_endian)
    assert not Xb.dtype.isnative
    _check_values_kept(X, Xb)
    A2b, cacheb = backend.forward_propagation(Xb, Pb)
    assert A2b.dtype.isnative
    for k in CACHE_KEYS:
        assert_close(cacheb[k], cache[k], dtype, f"cache[{k}]")
    gradsb = backend.backward_propagation(Pb, Cb, Xb, Yb)
    for k in GRAD_KEYS:
        assert_close(gradsb[k], grads[k], dtype, k)
    trainedb = backend.nn_model(Xb, Yb, n_h, 10, parameters=Pb, learning_rate=0.5)
    for k in PARAM_KEYS:
        assert_close(trainedb[k], trained[k], dtype, f"trained {k}")
    assert_close(backend.compute_cost(_big_endian(A2), Yb), backend.compute_cost(A2, Y), dtype, "cost")


def test_big_endian_keeps_dtype(backend, dtype):
    """A '>f4' input is a float32 input: results are native float32 (module docstring).

    (An early _validation.check_array compared '>f4' with float32, found them
    different and computed such inputs in float64.)
    """
    X, Y = make_data(35, 3, 9, 1, dtype)
    params = make_parameters(36, 3, 4, 1, dtype)
    A2, _ = backend.forward_propagation(_big_endian(X), _relayout(params, _big_endian))
    assert A2.dtype == dtype
    trained = backend.nn_model(_big_endian(X), _big_endian(Y), 4, 2, seed=0)
    assert all(trained[k].dtype == dtype for k in PARAM_KEYS)

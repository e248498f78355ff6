"""The model file: one format, written and read here only.

A model file is a zip archive of ``.npy`` members (what :func:`numpy.savez`
writes), readable with ``np.load(path, allow_pickle=False)``:

==================  ====================================  ==========================================
member              dtype, shape                          content
==================  ====================================  ==========================================
format_version      integer, ()                           2
metadata            uint8, (n,) with n <= 16 MiB          UTF-8 JSON text (see below)
W1, b1              float32 or float64, (n_h, n_x),       the hidden layer
                    (n_h, 1)
W2, b2              the same dtype, (n_y, n_h), (n_y, 1)  the output layer: n_y = 1 for two classes
                                                          (sigmoid), n_y = K for K > 2 (softmax)
classes             unicode, (K,)                         the class labels as text, sorted, unique
feature_names_in    unicode, (n_x,), optional             the estimator's feature_names_in_
columns             unicode, (n_x,), optional             the data columns the command line reads
state_mW1 ...       like W1 ... (all eight or none)       the optimizer's state (m* velocities or
state_vb2                                                 first moments, v* second moments)
best_W1 ... best_b2 like W1 ... (all four or none)        early stopping's best parameters
==================  ====================================  ==========================================

The metadata hold the hyperparameters (``params``, as ``get_params()``
returns them), how to restore the classes (``classes_kind``,
``classes_dtype``), the training history and, for the command line, the
label column's name (``label``).

:func:`read` trusts nothing: only these members, each once; the exact format
version; the dtypes and every shape consistent with the others.  It reads each
member's ``.npy`` header first and refuses a member whose declared size is not
the expected one before decompressing any data, so that a file cannot make it
allocate more than the model it describes plus the metadata's 16 MiB.  Every
refusal is a ValueError naming the file and the member.
"""

import json
import math
import numbers
import os
import zipfile

import numpy as np

from ._atomic import atomic_write

__all__ = ["FORMAT_VERSION", "estimator_model", "load_estimator", "read", "save_estimator", "write"]

FORMAT_VERSION = 2
METADATA_MAX_BYTES = 16 << 20
NAME_MAX_CHARS = 4096  # longest class label or feature name
PARAM_KEYS = ("W1", "b1", "W2", "b2")
STATE_KEYS = tuple(p + k for p in ("m", "v") for k in PARAM_KEYS)
STATE_FAMILIES = ("adam", "momentum")
STOP_REASONS = ("converged", "max_iter", "max_time", "callback", "interrupted", "partial_fit", "lbfgs")
CLASS_KINDS = ("bool", "int", "float", "str")
ACTIVATIONS = ("relu", "tanh", "leaky_relu", "sigmoid", "identity", "logistic")
_HEADER_MAX = 10000  # bytes of a .npy header (NumPy's own limit)

_MEMBERS = (
    ("format_version", "metadata", *PARAM_KEYS, "classes", "feature_names_in", "columns")
    + tuple("state_" + k for k in STATE_KEYS)
    + tuple("best_" + k for k in PARAM_KEYS)
)
_REQUIRED = ("format_version", "metadata", *PARAM_KEYS, "classes")

# Reading a damaged archive may raise almost anything from zipfile, zlib and NumPy's header parser
# (ast, tokenize): every such error, in these parsing steps only, becomes a refusal.
_READ_ERRORS = (Exception,)


class _Refusal(ValueError):
    pass


def _refuse(where, member, message):
    prefix = f"{where}: " if member is None else f"{where}: member {member!r}: "
    return _Refusal(prefix + message)


# ---------------------------------------------------------------- writing


def write(path, model):
    """Write `model` (a dict as :func:`read` returns it) to `path`, atomically.

    Parameters
    ----------
    path : str or path-like
        Written as given, through a temporary file in the same folder.
    model : dict
        "W1", "b1", "W2", "b2" (float32 or float64 arrays of one dtype),
        "classes" (ndarray of labels, sorted and unique), "metadata" (dict,
        JSON-able; "params" is required and "classes_kind"/"classes_dtype" are
        filled in here), and optionally "feature_names_in", "columns" (sequences
        of n_x str), "state" (dict of the eight state arrays) and "best" (dict of
        W1, b1, W2, b2).

    Raises
    ------
    ValueError
        When the model is not one :func:`read` would accept (nothing is written).
    OSError
        When the file cannot be written (an existing file is left as it was).
    """
    W = {k: np.ascontiguousarray(model[k]) for k in PARAM_KEYS}
    kind, strings = _classes_to_strings(np.asarray(model["classes"]))
    meta = dict(model["metadata"], classes_kind=kind, classes_dtype=str(np.asarray(model["classes"]).dtype))
    text = json.dumps(meta).encode("utf-8")
    if len(text) > METADATA_MAX_BYTES:
        raise ValueError(
            f"the model's metadata take {len(text)} bytes as JSON,"
            f" more than the {METADATA_MAX_BYTES} a model file holds"
        )
    arrays = {
        "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "metadata": np.frombuffer(text, dtype=np.uint8),
        **W,
        "classes": strings,
    }
    for key in ("feature_names_in", "columns"):
        if model.get(key) is not None:
            arrays[key] = np.array([str(s) for s in model[key]], dtype=str).reshape(-1)
    if model.get("state") is not None:
        arrays.update({"state_" + k: np.ascontiguousarray(model["state"][k]) for k in STATE_KEYS})
    if model.get("best") is not None:
        arrays.update({"best_" + k: np.ascontiguousarray(model["best"][k]) for k in PARAM_KEYS})
    _check_arrays("the model to write", arrays)  # write only what read accepts
    with atomic_write(path, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, a in arrays.items():
            with zf.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, a, allow_pickle=False)


def _classes_to_strings(classes):
    """(kind, unicode array): the class labels as text; the kind restores them."""
    values = classes.tolist()
    if classes.dtype.kind == "b" or (values and all(isinstance(c, bool) for c in values)):
        kind = "bool"
    elif classes.dtype.kind in "iu" or (values and all(isinstance(c, numbers.Integral) for c in values)):
        kind = "int"
    elif classes.dtype.kind == "f" or (values and all(isinstance(c, numbers.Real) for c in values)):
        kind = "float"
    else:
        kind = "str"
    strings = [repr(float(c)) if kind == "float" else str(c) for c in values]
    return kind, np.array(strings, dtype=str).reshape(-1)


# ---------------------------------------------------------------- reading


def read(path):
    """The model in `path`, checked member by member (see the module's docstring).

    Returns
    -------
    dict
        "W1", "b1", "W2", "b2" (C-contiguous, one float dtype), "classes"
        (ndarray of the labels, restored to their dtype), "metadata" (dict),
        "feature_names_in" and "columns" (list of str, or None), "state" (dict
        of the eight arrays and "t", or None), "best" (dict, or None).

    Raises
    ------
    OSError
        When the file cannot be opened.
    ValueError
        When it is not a model file of this format version, naming the member.
    """
    where = os.fspath(path)
    with open(where, "rb") as f:  # OSError for a missing or unreadable file
        if not os.path.isfile(where):
            raise ValueError(f"{where}: not a model file (not a regular file)")
        try:
            zf = zipfile.ZipFile(f)
        except _READ_ERRORS as exc:
            raise ValueError(f"{where}: not a model file (not a zip archive of .npy arrays: {_text(exc)})") from None
        with zf:
            return _read_archive(where, zf)


def _text(exc):
    return " ".join((str(exc) or type(exc).__name__).split())


def _read_archive(where, zf):
    infos = {}
    for info in zf.infolist():
        name = info.filename
        member = name[:-4] if name.endswith(".npy") else name
        if member in infos:
            raise _refuse(where, member, "appears twice in the archive")
        if info.flag_bits & 0x1:
            raise _refuse(where, member, "encrypted")
        infos[member] = info
    # The format version first: a file of another version is refused as such.
    if "format_version" in infos:
        header = _read_header(where, zf, "format_version", infos["format_version"])
        version = _read_data(where, zf, infos, {"format_version": header}, "format_version", (), "iu")
        if version != FORMAT_VERSION:
            raise _refuse(
                where,
                "format_version",
                f"model format version {version.item()}; this version of shallownet_fast reads version "
                f"{FORMAT_VERSION} only",
            )
    for member, info in infos.items():
        if member not in _MEMBERS or not info.filename.endswith(".npy"):
            raise _refuse(where, info.filename, "unknown member (not a part of a shallownet_fast model)")
    missing = [k for k in _REQUIRED if k not in infos]
    if missing:
        raise ValueError(
            f"{where}: not a ShallowNetClassifier model file (the model format of shallownet_fast; "
            f"missing {', '.join(repr(k) for k in missing)})"
        )
    headers = {k: _read_header(where, zf, k, info) for k, info in infos.items()}

    # Every shape from W1's and W2's, checked before any data is read.
    n_h, n_x = _shape2(where, "W1", headers)
    n_y, n_h2 = _shape2(where, "W2", headers)
    if n_h2 != n_h:
        raise _refuse(
            where, "W2", f"shape {(n_y, n_h2)} does not match the {n_h} hidden units of 'W1' (shape {(n_h, n_x)})"
        )
    n_classes = 2 if n_y == 1 else n_y
    # A classifier's classes: n_classes of them (n_y of them for multilabel y); a regressor's: none.
    # Which one the metadata says is checked once they are read.
    classes_shape = headers["classes"][1]
    if classes_shape not in ((n_classes,), (n_y,), (0,)):
        classes_shape = (n_classes,)
    dtype = headers["W1"][2]
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise _refuse(where, "W1", f"dtype {dtype} (float32 or float64 expected)")
    expected = {"W1": (n_h, n_x), "b1": (n_h, 1), "W2": (n_y, n_h), "b2": (n_y, 1)}
    for prefix, keys in (("state_", STATE_KEYS), ("best_", PARAM_KEYS)):
        present = [prefix + k for k in keys if prefix + k in infos]
        if present and len(present) != len(keys):
            absent = [prefix + k for k in keys if prefix + k not in infos]
            raise _refuse(where, absent[0], f"missing ({prefix}* members come all together or not at all)")
        expected.update({prefix + k: expected[k[-2:]] for k in keys if present})
    for k, shape in expected.items():
        _check_header(where, k, headers[k], shape, dtype=dtype)
    _check_header(where, "classes", headers["classes"], classes_shape, kind="U")
    for k in ("feature_names_in", "columns"):
        if k in headers:
            _check_header(where, k, headers[k], (n_x,), kind="U")
    mshape, mdtype = headers["metadata"][1], headers["metadata"][2]
    if mdtype != np.dtype(np.uint8) or len(mshape) != 1 or mshape[0] > METADATA_MAX_BYTES:
        raise _refuse(
            where,
            "metadata",
            f"expected UTF-8 JSON as uint8 of at most {METADATA_MAX_BYTES} bytes, "
            f"got dtype {mdtype} and shape {mshape}",
        )
    for k, info in infos.items():
        offset, shape, dt = headers[k]
        size = offset + math.prod(shape) * dt.itemsize
        if info.file_size != size:
            raise _refuse(where, k, f"the archive declares {info.file_size} bytes, its .npy header {size}")

    # Now the data, each member exactly its declared size.
    raw = _read_data(where, zf, infos, headers, "metadata", mshape, "u")
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise _refuse(where, "metadata", f"not UTF-8 JSON ({_text(exc)})") from None
    arrays = {k: _read_data(where, zf, infos, headers, k, headers[k][1], None) for k in expected}
    for k, a in arrays.items():
        if not np.all(np.isfinite(a)):
            raise _refuse(where, k, "holds non-finite values")
        if k.startswith("state_v") and np.any(a < 0):
            raise _refuse(where, k, "holds negative values (second moments are squares)")
    strings = {
        k: _read_data(where, zf, infos, headers, k, headers[k][1], None) for k in headers if headers[k][2].kind == "U"
    }
    model = {k: np.ascontiguousarray(arrays[k]) for k in PARAM_KEYS}
    model["metadata"] = meta = _check_metadata(where, meta, n_h, n_x)
    if meta["estimator"] == "regressor":
        if classes_shape != (0,):
            raise _refuse(where, "classes", "a regressor has no classes: the member must be empty")
    elif meta["multilabel"]:
        if classes_shape != (n_y,):
            raise _refuse(where, "classes", f"{classes_shape[0]} labels for the {n_y} output units of 'W2'")
    elif n_y == 2 or classes_shape != (n_classes,):
        raise _refuse(
            where,
            "W2",
            f"{n_y} output unit(s) for {classes_shape[0]} classes (two classes take 1 unit, K > 2 classes K units)",
        )
    _check_hyperparameters(where, meta["params"], _estimator_class(meta["estimator"]))
    model["classes"] = _classes_from_strings(where, meta["classes_kind"], meta["classes_dtype"], strings["classes"])
    for k in ("feature_names_in", "columns"):
        model[k] = [str(s) for s in strings[k]] if k in strings else None
        if model[k] is not None and len(set(model[k])) != n_x:
            raise _refuse(where, k, "repeats a name")
    if "state_mW1" in arrays:
        model["state"] = {k: np.ascontiguousarray(arrays["state_" + k]) for k in STATE_KEYS}
        model["state"]["t"] = meta["state_t"]
    else:
        model["state"] = None
    model["best"] = {k: np.ascontiguousarray(arrays["best_" + k]) for k in PARAM_KEYS} if "best_W1" in arrays else None
    return model


def _read_header(where, zf, member, info):
    """(offset of the data, shape, dtype) from a member's .npy header; reads no data."""
    try:
        with zf.open(info) as fp:
            version = np.lib.format.read_magic(fp)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp, max_header_size=_HEADER_MAX)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp, max_header_size=_HEADER_MAX)
            else:
                raise ValueError(f".npy format version {version}")
            offset = fp.tell()
    except MemoryError:
        raise
    except _READ_ERRORS as exc:
        raise _refuse(where, member, f"not a readable .npy array ({_text(exc)})") from None
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in "biufU":
        raise _refuse(where, member, f"dtype {dtype} is not allowed")
    if fortran and len(shape) > 1:
        raise _refuse(where, member, "Fortran order (C order expected)")
    return offset, tuple(shape), dtype


def _shape2(where, member, headers):
    shape = headers[member][1]
    if len(shape) != 2 or 0 in shape:
        raise _refuse(where, member, f"shape {shape} (a non-empty 2-D array expected)")
    return shape


def _check_header(where, member, header, shape, dtype=None, kind=None):
    _, got, dt = header
    if got != shape:
        raise _refuse(where, member, f"shape {got}, expected {shape}")
    if dtype is not None and dt != dtype:
        raise _refuse(where, member, f"dtype {dt}, expected {dtype} (the dtype of W1)")
    if kind == "U" and (dt.kind != "U" or dt.itemsize > 4 * NAME_MAX_CHARS):
        raise _refuse(where, member, f"dtype {dt} (unicode strings of at most {NAME_MAX_CHARS} characters expected)")


def _read_data(where, zf, infos, headers, member, shape_or_dtype, kinds):
    offset, shape, dtype = headers[member]
    if kinds is not None:
        if dtype.kind not in kinds or dtype.kind == "b" or shape != shape_or_dtype:
            raise _refuse(where, member, f"dtype {dtype} and shape {shape}")
    nbytes = math.prod(shape) * dtype.itemsize
    try:
        with zf.open(infos[member]) as fp:
            fp.read(offset)
            data = fp.read(nbytes)
            rest = fp.read(1)  # at the end: the archive's checksum is verified
    except MemoryError:
        raise
    except _READ_ERRORS as exc:
        raise _refuse(where, member, f"damaged ({_text(exc)})") from None
    if len(data) != nbytes or rest:
        raise _refuse(
            where,
            member,
            f"holds {len(data) + len(rest)}{'+' if rest else ''} bytes of data, its header declares {nbytes}",
        )
    a = np.frombuffer(data, dtype=dtype).reshape(shape)
    return a.astype(dtype.newbyteorder("="), copy=True) if not dtype.isnative else a.copy()


# ---------------------------------------------------------------- checks of the metadata

_META_TYPES = {
    "params": dict,
    "classes_kind": str,
    "classes_dtype": str,
    "n_iter": int,
    "t": int,
    "no_improvement_count": int,
    "state_family": str,
    "state_t": int,
    "loss_curve": list,
}
_META_OPTIONAL = (
    "dropped_params",
    "loss",
    "best_loss",
    "validation_scores",
    "validation_loss_curve",
    "best_validation_score",
    "stop_reason",
    "label",
    "n_features_in",
    "estimator",
    "multilabel",
)
ESTIMATOR_KINDS = ("classifier", "regressor")


def _check_metadata(where, meta, n_h, n_x):
    def bad(message):
        return _refuse(where, "metadata", message)

    if not isinstance(meta, dict):
        raise bad(f"a JSON object expected, got {type(meta).__name__}")
    unknown = sorted(set(meta) - set(_META_TYPES) - set(_META_OPTIONAL))
    if unknown:
        raise bad(f"unknown keys {unknown}")
    for key, kind in _META_TYPES.items():
        if key not in meta:
            raise bad(f"no {key!r}")
        value = meta[key]
        if not isinstance(value, kind) or isinstance(value, bool) or (kind is int and not 0 <= value < 2**62):
            what = "an integer in [0, 2**62)" if kind is int else f"a {kind.__name__}"
            raise bad(f"{key!r} must be {what}, got {value!r}")
    meta.setdefault("dropped_params", [])
    for key in _META_OPTIONAL:
        meta.setdefault(key, None)
    if meta["n_features_in"] is not None and meta["n_features_in"] != n_x:
        raise bad(f"n_features_in {meta['n_features_in']!r} differs from W1's {n_x} columns")
    if meta["classes_kind"] not in CLASS_KINDS:
        raise bad(f"classes_kind must be one of {CLASS_KINDS}, got {meta['classes_kind']!r}")
    if meta["state_family"] not in STATE_FAMILIES:
        raise bad(f"state_family must be one of {STATE_FAMILIES}, got {meta['state_family']!r}")
    if meta["stop_reason"] not in (None, "", *STOP_REASONS):
        raise bad(f"stop_reason must be one of {STOP_REASONS} or null, got {meta['stop_reason']!r}")
    if meta["estimator"] not in (None, *ESTIMATOR_KINDS):
        raise bad(f"estimator must be one of {ESTIMATOR_KINDS} or null, got {meta['estimator']!r}")
    if meta["multilabel"] not in (None, True, False):
        raise bad(f"multilabel must be true, false or null, got {meta['multilabel']!r}")
    if meta["label"] is not None and not isinstance(meta["label"], str):
        raise bad(f"label must be a string, got {meta['label']!r}")
    dropped = meta["dropped_params"]
    if not isinstance(dropped, list) or not all(k in ("callback", "random_state") for k in dropped):
        raise bad(f"dropped_params must list 'callback' or 'random_state', got {dropped!r}")
    for key in ("loss", "best_loss", "best_validation_score"):
        if meta[key] is not None and not _is_real(meta[key], allow_inf=True):
            raise bad(f"{key!r} must be a number or null, got {meta[key]!r}")
    for key in ("loss_curve", "validation_scores", "validation_loss_curve"):
        curve = meta[key]
        if curve is not None and (not isinstance(curve, list) or not all(_is_real(v) for v in curve)):
            raise bad(f"{key!r} must be a list of finite numbers or null")
    params = meta["params"]
    if not all(isinstance(k, str) for k in params):
        raise bad("params must map names to values")
    activation = params.get("activation", "relu")
    if activation not in ACTIVATIONS:
        raise bad(f"params: activation must be one of {ACTIVATIONS}, got {activation!r}")
    hidden = params.get("hidden_units")
    if hidden is not None and (not isinstance(hidden, int) or isinstance(hidden, bool) or hidden < 1):
        raise bad(f"params: hidden_units must be a positive integer, got {hidden!r}")
    return meta


def _estimator_class(kind):
    """The estimator class of a model file's "estimator" (None without scikit-learn)."""
    try:
        from . import estimators
    except ImportError:  # scikit-learn is optional: the command line needs the checks above only
        return None
    return estimators.ShallowNetRegressor if kind == "regressor" else estimators.ShallowNetClassifier


def _check_hyperparameters(where, params, cls=None):
    """The estimator built from `params` (validated as its own checks would), or None without scikit-learn."""
    if cls is None:
        try:
            from . import ShallowNetClassifier as cls
        except ImportError:  # scikit-learn is optional: the command line needs the checks above only
            return None
    est = cls()
    unknown = sorted(set(params) - set(est.get_params(deep=False)))
    if unknown:
        raise _refuse(where, "metadata", f"unknown hyperparameters {unknown}")
    est.set_params(**params)
    # The estimator's own checks, whatever they are called (scikit-learn's _validate_params runs its
    # _parameter_constraints, when it declares them).
    check = (
        getattr(est, "_validate_hyperparameters", None) or getattr(est, "_check_params", None) or est._validate_params
    )
    try:
        check()
    except (TypeError, ValueError) as exc:
        raise _refuse(where, "metadata", f"hyperparameters: {_text(exc)}") from None
    rs = est.random_state
    if rs is not None and (not isinstance(rs, int) or isinstance(rs, bool) or not 0 <= rs < 2**32):
        raise _refuse(
            where, "metadata", f"hyperparameters: random_state must be null or an integer in [0, 2**32), got {rs!r}"
        )
    return est


def _is_real(value, allow_inf=False):
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and not math.isnan(value)
        and (allow_inf or not math.isinf(value))
    )


_CLASS_DTYPES = {
    "bool": ("bool",),
    "int": ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "object"),
    "float": ("float16", "float32", "float64", "object"),
    "str": ("object",),
}


def _classes_from_strings(where, kind, dtype_name, strings):
    def bad(message):
        return _refuse(where, "classes", message)

    strings = [str(s) for s in strings]
    try:
        dtype = np.dtype(dtype_name)
    except TypeError:
        raise _refuse(where, "metadata", f"classes_dtype {dtype_name!r} is not a dtype") from None
    allowed = dtype.name in _CLASS_DTYPES[kind] or (kind == "str" and dtype.kind == "U")
    if not allowed or dtype.byteorder == ">":
        raise _refuse(where, "metadata", f"classes_dtype {dtype_name!r} does not hold classes of kind {kind!r}")
    try:
        if kind == "bool":
            if strings != ["False", "True"]:
                raise ValueError(f"boolean classes must be ['False', 'True'], got {strings}")
            values = [False, True]
        elif kind == "int":
            values = [int(s) for s in strings]
        elif kind == "float":
            values = [float(s) for s in strings]
            if not all(math.isfinite(v) for v in values):
                raise ValueError("non-finite class")
        else:
            values = strings
    except ValueError as exc:
        raise bad(f"not {kind} labels ({_text(exc)})") from None
    if any(a >= b for a, b in zip(values, values[1:])):
        raise bad(f"not sorted and unique: {strings[:10]}")
    if dtype.kind == "O":
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out
    if dtype.kind == "U":
        return np.array(values, dtype=str)
    try:
        out = np.array(values, dtype=dtype)
    except (OverflowError, ValueError) as exc:
        raise bad(f"do not fit dtype {dtype} ({_text(exc)})") from None
    if out.tolist() != values:
        raise bad(f"do not fit dtype {dtype}")
    return out


def _check_arrays(where, arrays):
    """The writer's own check: the same rules, on arrays in memory."""
    W1, W2 = arrays["W1"], arrays["W2"]
    if W1.ndim != 2 or W2.ndim != 2 or W1.dtype not in (np.float32, np.float64):
        raise ValueError(f"{where}: W1 and W2 must be 2-D float32 or float64 arrays")
    for k, a in arrays.items():
        if a.dtype.kind == "f" and (a.dtype != W1.dtype or not np.all(np.isfinite(a))):
            raise ValueError(f"{where}: {k} must be finite and of W1's dtype {W1.dtype}")
        if a.dtype.kind == "U" and a.dtype.itemsize > 4 * NAME_MAX_CHARS:
            raise ValueError(f"{where}: {k} holds names longer than {NAME_MAX_CHARS} characters")


# ---------------------------------------------------------------- the estimator


def save_estimator(est, path):
    """Write a fitted ShallowNetClassifier or ShallowNetRegressor (the body of its ``save``).

    A regressor has no classes: its "classes" member is empty, and "estimator" in the
    metadata says "regressor"; a classifier's "multilabel" says whether y was an indicator matrix.
    """
    write(path, estimator_model(est))


def estimator_model(est):
    """The model dict :func:`write` takes, of a fitted estimator (what :func:`save_estimator` writes)."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(est)
    params = est.get_params(deep=False)
    dropped = [k for k in ("callback", "random_state") if params[k] is not None and not _jsonable(params[k])]
    for k in dropped:
        params[k] = None
    params = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in params.items()}
    if not isinstance(params["hidden_layer_sizes"], int):  # a sequence of one size: a JSON list
        params["hidden_layer_sizes"] = [int(h) for h in params["hidden_layer_sizes"]]
    W = est._current_parameters()
    state = est._solver_state
    metadata = {
        "params": params,
        "dropped_params": dropped,
        "n_features_in": int(est.n_features_in_),
        "n_iter": int(est.n_iter_),
        "t": int(est.t_),
        "loss": _float_or_none(est.loss_),
        "loss_curve": [float(v) for v in est.loss_curve_],
        "best_loss": _float_or_none(est.best_loss_),
        "validation_scores": _floats_or_none(est.validation_scores_),
        "validation_loss_curve": _floats_or_none(est.validation_loss_curve_),
        "best_validation_score": _float_or_none(est.best_validation_score_),
        "no_improvement_count": int(est._no_improvement_count),
        "stop_reason": est.stop_reason_,
        "state_family": est._state_family,
        "state_t": int(state["t"]),
        "estimator": est._model_kind,
        "multilabel": bool(getattr(est, "_multilabel", False)),
    }
    return {
        **W,
        "classes": np.empty(0) if est._model_kind == "regressor" else est.classes_,
        "metadata": metadata,
        "feature_names_in": getattr(est, "feature_names_in_", None),
        "state": {k: np.asarray(state[k], dtype=W["W1"].dtype) for k in STATE_KEYS},
        "best": est._best_params,
    }


def load_estimator(cls, path):
    """A fitted `cls` (ShallowNetClassifier or ShallowNetRegressor) from a model file (the body of its ``load``)."""
    model = read(path)
    meta = model["metadata"]
    kind = meta["estimator"] or "classifier"
    if kind != cls._model_kind:
        raise _refuse(os.fspath(path), "metadata", f"holds a {kind}, not a {cls._model_kind} ({cls.__name__})")
    if isinstance(meta["params"].get("hidden_layer_sizes"), list):  # saved from a tuple
        meta["params"]["hidden_layer_sizes"] = tuple(meta["params"]["hidden_layer_sizes"])
    est = _check_hyperparameters(os.fspath(path), meta["params"], cls)
    W = {k: model[k] for k in PARAM_KEYS}
    if est._n_hidden() != W["W1"].shape[0]:
        raise _refuse(
            os.fspath(path),
            "metadata",
            f"hyperparameters: hidden_layer_sizes gives {est._n_hidden()} hidden units, W1 has {W['W1'].shape[0]}",
        )
    n_x = W["W1"].shape[1]
    n_y = W["W2"].shape[0]
    if kind == "classifier":
        est.classes_ = model["classes"]
        est._multilabel = bool(meta["multilabel"])
        expected = len(est.classes_) if est._multilabel or len(est.classes_) > 2 else 1
        if n_y != expected:
            raise _refuse(os.fspath(path), "W2", f"has {n_y} output rows, {len(est.classes_)} classes need {expected}")
        est.out_activation_ = "logistic" if est._multilabel or len(est.classes_) == 2 else "softmax"
    else:
        if len(model["classes"]):
            raise _refuse(os.fspath(path), "classes", "a regressor has no classes: the member must be empty")
        est._n_targets = n_y
        est.out_activation_ = "identity"
    est.n_features_in_ = n_x
    if model["feature_names_in"] is not None:
        est.feature_names_in_ = np.array(model["feature_names_in"], dtype=object)
    if model["state"] is not None:
        state = model["state"]
    else:
        state = {"t": 0, **{k: np.zeros_like(W[k[1:]]) for k in STATE_KEYS}}
    est._state_family = meta["state_family"]
    est.n_outputs_ = n_y
    est.n_layers_ = 3
    est.n_iter_ = meta["n_iter"]
    est.t_ = meta["t"]
    est.loss_ = meta["loss"]
    est.loss_curve_ = list(meta["loss_curve"])
    early = meta["validation_scores"] is not None
    est.best_loss_ = None if early else (math.inf if meta["best_loss"] is None else meta["best_loss"])
    est.validation_scores_ = list(meta["validation_scores"]) if early else None
    est.validation_loss_curve_ = list(meta["validation_loss_curve"] or []) if early else None
    est.best_validation_score_ = (
        (-math.inf if meta["best_validation_score"] is None else meta["best_validation_score"]) if early else None
    )
    est._no_improvement_count = meta["no_improvement_count"]
    est.stop_reason_ = meta["stop_reason"] or None
    est._best_params = model["best"]
    est._publish(W, state)
    return est


def _jsonable(value):
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _float_or_none(value):
    return None if value is None else float(value)


def _floats_or_none(values):
    return None if values is None else [float(v) for v in values]

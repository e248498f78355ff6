"""Fuzzing the model file loader: random mutations of valid files, derandomized (one seed per case).

Every mutated file must either load as a usable model (it predicts and trains)
or be refused with a ValueError: never another exception, never a crash, never
an allocation larger than a few MiB (the models here take a few KiB).  The
loads run in a child process with glibc's malloc checks where available; a
child that dies marks its case as a crash and a new child goes on.

Replay one case: ``PYTHONPATH=. python tests/test_modelfile_fuzz.py <index>``
writes the file of case <index> to ./fuzz-<index>.npz.
"""

import io
import json
import os
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")

import shallownet_fast  # noqa: E402

import isolate  # noqa: E402

ROOT = str(Path(shallownet_fast.__file__).resolve().parents[1])
N_CASES = 400
MAX_PEAK_BYTES = 4 << 20  # what a load may allocate (traced by tracemalloc)

_CHILD = r"""
import json, sys, tracemalloc, warnings
import numpy as np
from shallownet_fast import ShallowNetClassifier

paths = json.load(open(sys.argv[1]))
for i in range(int(sys.argv[2]), len(paths)):
    tracemalloc.start()
    try:
        est = ShallowNetClassifier.load(paths[i])
        outcome = "ok"
    except ValueError as exc:
        outcome, message = "ValueError", str(exc)
    except Exception as exc:
        outcome, message = type(exc).__name__, str(exc)[:300]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    if outcome == "ok":
        rng = np.random.default_rng(i)
        X = rng.standard_normal((20, est.n_features_in_))
        try:
            y = est.predict(X)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est.set_params(max_iter=1, warm_start=True, early_stopping=False)
                est.partial_fit(X, np.resize(est.classes_, 20))
            message = "loaded, predicted and trained"
        except Exception as exc:
            outcome, message = "unusable: " + type(exc).__name__, str(exc)[:300]
    elif outcome == "ValueError" and paths[i] not in message:
        outcome = "ValueError without the file's name"
    print(json.dumps([i, outcome, message, peak]), flush=True)
"""


def _npy(a):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(a), allow_pickle=True)
    return buf.getvalue()


def _valid_files(folder):
    """Valid model files of several kinds: (name -> bytes)."""
    from shallownet_fast import ShallowNetClassifier

    rng = np.random.default_rng(0)
    out = {}
    specs = [
        ("adam3", dict(solver="adam", early_stopping=True, validation_fraction=0.2), 3, np.float64),
        ("sgd2", dict(solver="sgd"), 2, np.float32),
        ("gd-str", dict(solver="gd"), 2, np.float64),
    ]
    for name, params, k, dtype in specs:
        X = rng.standard_normal((40, 3)).astype(dtype)
        y = np.arange(40) % k
        if name == "gd-str":
            y = np.array(["no", "yes"])[y]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = ShallowNetClassifier(hidden_layer_sizes=(3,), max_iter=2, random_state=0, **params).fit(X, y)
        est.save(folder / f"{name}.npz")
        out[name] = (folder / f"{name}.npz").read_bytes()
    return out


def _entries(data):
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


def _zip(items, compression=zipfile.ZIP_STORED):
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names
        with zipfile.ZipFile(buf, "w", compression) as z:
            for name, data in items:
                z.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return buf.getvalue()


_NAMES = (
    "W1",
    "b1",
    "W2",
    "b2",
    "classes",
    "metadata",
    "format_version",
    "state_mW1",
    "best_b2",
    "columns",
    "feature_names_in",
    "extra",
    "W1.npy",
    "",
)
_DTYPES = ("<f8", "<f4", ">f8", "<i8", "|u1", "<U3", "|b1", "|O", "<c16", "|V8", "<f2", "[('a', '<f8')]")


def _mutate_header(data, rng):
    """A .npy member with its header's shape, dtype or order changed."""
    head = data[:128].decode("latin1")
    choice = rng.integers(4)
    if choice == 0:
        dims = [int(rng.choice([0, 1, 2, 3, 5, 7, 2**31, 10**12, 2**62])) for _ in range(rng.integers(0, 4))]
        new = head[: head.index("'shape':")] + f"'shape': {tuple(dims)!r}, }}"
    elif choice == 1:
        start = head.index("'descr':")
        end = head.index(",", start)
        new = head[:start] + f"'descr': {str(rng.choice(_DTYPES))!r}" + head[end:]
    elif choice == 2:
        new = head.replace("False", "True") if "False" in head else head.replace("True", "False")
    else:
        new = head.replace("'shape': (", "'shape': (" + str(rng.integers(1, 9)) + ", ")
    new = new.rstrip(" \n}") + "}"
    body = new.encode("latin1")[10:]
    body = body + b" " * (-(len(body) + 11) % 64) + b"\n"
    return data[:8] + len(body).to_bytes(2, "little") + body + data[128:]


def mutated_file(valid, index):
    """The bytes of case `index`: one or two random mutations of one of the valid files."""
    rng = np.random.default_rng([20261201, index])
    name = sorted(valid)[index % len(valid)]
    data = valid[name]
    for _ in range(1 + int(rng.random() < 0.3)):
        try:
            items = _entries(data)
        except Exception:  # no longer a readable archive (an earlier mutation): bytes only
            items = None
        kind = int(rng.integers(10)) if items else int(rng.integers(2))
        if kind == 0:  # bytes overwritten anywhere
            raw = bytearray(data)
            for _ in range(rng.integers(1, 9)):
                raw[rng.integers(len(raw))] = rng.integers(256)
            data = bytes(raw)
        elif kind == 1:  # truncated
            data = data[: rng.integers(len(data))]
        elif kind == 2:  # a member dropped
            items.pop(rng.integers(len(items)))
            data = _zip(items)
        elif kind == 3:  # a member repeated, maybe with other data
            j = rng.integers(len(items))
            other = items[rng.integers(len(items))][1]
            items.append((items[j][0], other if rng.random() < 0.5 else items[j][1]))
            data = _zip(items)
        elif kind == 4:  # a member renamed
            j = rng.integers(len(items))
            items[j] = (str(rng.choice(_NAMES)) + ".npy", items[j][1])
            data = _zip(items)
        elif kind == 5:  # two members' data swapped
            i, j = rng.integers(len(items), size=2)
            items[i], items[j] = (items[i][0], items[j][1]), (items[j][0], items[i][1])
            data = _zip(items)
        elif kind == 6:  # a member's header changed
            j = rng.integers(len(items))
            try:
                items[j] = (items[j][0], _mutate_header(items[j][1], rng))
            except ValueError:  # no such field in that header
                pass
            data = _zip(items)
        elif kind == 7:  # a member's data bytes changed (values, NaN, huge numbers)
            j = rng.integers(len(items))
            raw = bytearray(items[j][1])
            for _ in range(rng.integers(1, 5)):
                raw[rng.integers(min(len(raw), 128) if rng.random() < 0.3 else len(raw))] = rng.integers(256)
            items[j] = (items[j][0], bytes(raw))
            data = _zip(items)
        elif kind == 8:  # an array of another shape or dtype put in a member
            j = rng.integers(len(items))
            shape = tuple(int(d) for d in rng.integers(0, 6, size=rng.integers(0, 3)))
            dtype = rng.choice(["<f8", "<f4", "<i8", "<U2", "|b1"])
            items[j] = (items[j][0], _npy(np.ones(shape, dtype=str(dtype))))
            data = _zip(items)
        else:  # the whole archive deflated, with an extra member of zeros
            items.append(("pad.npy", _npy(np.zeros(int(rng.integers(1, 1 << 22))))))
            if rng.random() < 0.5:
                items.pop()
            data = _zip(items, zipfile.ZIP_DEFLATED)
    return data


def test_mutated_model_files_load_or_raise_value_error(tmp_path):
    valid = _valid_files(tmp_path)
    paths = []
    for index in range(N_CASES):
        path = tmp_path / f"fuzz-{index}.npz"
        path.write_bytes(mutated_file(valid, index))
        paths.append(str(path))
    spec = tmp_path / "paths.json"
    spec.write_text(json.dumps(paths))
    env = isolate._child_env(malloc_check=True)
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    results, start, crashes = {}, 0, []
    while start < len(paths):
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, str(spec), str(start)], capture_output=True, text=True, env=env, timeout=600
        )
        for line in proc.stdout.splitlines():
            i, outcome, message, peak = json.loads(line)
            results[i] = (outcome, message, peak)
            start = i + 1
        if proc.returncode != 0:
            crashes.append(f"case {start}: {isolate._exit_text(proc.returncode)} {proc.stderr[-300:]}")
            start += 1
    bad = [f"case {i}: {o}: {m}" for i, (o, m, _) in sorted(results.items()) if o not in ("ok", "ValueError")]
    big = [f"case {i}: allocated {p} bytes ({o})" for i, (o, _, p) in sorted(results.items()) if p > MAX_PEAK_BYTES]
    assert not (crashes or bad or big), "\n".join(crashes + bad + big)
    kinds = {o for o, _, _ in results.values()}
    assert kinds == {"ok", "ValueError"}, kinds  # the fuzzer reaches both outcomes


if __name__ == "__main__":  # write the file of one case: python tests/test_modelfile_fuzz.py <index>
    import tempfile

    index = int(sys.argv[1])
    with tempfile.TemporaryDirectory() as d:
        valid = _valid_files(Path(d))
    Path(f"fuzz-{index}.npz").write_bytes(mutated_file(valid, index))
    print(f"wrote fuzz-{index}.npz")

"""The model file (shallownet_fast._modelfile) and atomic writes (shallownet_fast._atomic).

A model file is untrusted input: every tampered file below must be refused by
``ShallowNetClassifier.load`` with a ValueError naming the file and the member,
before anything reaches a compiled kernel.  The loads and the training that
follows run in a child process (with glibc's malloc checks where available),
so that a file the loader lets through and a kernel then writes past shows up
as a crash of one case, not of the suite.
"""

import io
import json
import os
import subprocess
import sys
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")

import shallownet_fast  # noqa: E402
from shallownet_fast import ShallowNetClassifier, _atomic, _modelfile, plots  # noqa: E402

import isolate  # noqa: E402

ROOT = str(Path(shallownet_fast.__file__).resolve().parents[1])


# ---------------------------------------------------------------- helpers


def blobs(n=60, n_classes=3, n_features=4, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    X = rng.standard_normal((n, n_features)) + 2.0 * y[:, None]
    return X, y


def fitted(n_classes=3, **kwargs):
    X, y = blobs(n_classes=n_classes)
    params = dict(
        hidden_layer_sizes=(5,),
        max_iter=3,
        solver="adam",
        random_state=0,
        early_stopping=True,
        n_iter_no_change=100,
        validation_fraction=0.2,
    )
    params.update(kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning
        return ShallowNetClassifier(**params).fit(X, y), X, y


def entries(path):
    """The archive's members as (name, bytes), in order."""
    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


def npy(a):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(a), allow_pickle=True)
    return buf.getvalue()


def array_of(items, name):
    data = dict(items)[name + ".npy"]
    return np.load(io.BytesIO(data), allow_pickle=False)


def write_zip(path, items, compression=zipfile.ZIP_STORED):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name"
        with zipfile.ZipFile(path, "w", compression) as z:
            for name, data in items:
                z.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return path


def replace(items, name, data):
    """`items` with member `name` (".npy" added) holding `data` (an array, or raw bytes)."""
    raw = data if isinstance(data, bytes) else npy(data)
    return [(n, raw if n == name + ".npy" else d) for n, d in items]


def without(items, name):
    return [(n, d) for n, d in items if n != name + ".npy"]


def metadata_of(items):
    return json.loads(array_of(items, "metadata").tobytes().decode())


def with_metadata(items, **changes):
    meta = metadata_of(items)
    meta.update(changes)
    return replace(items, "metadata", np.frombuffer(json.dumps(meta).encode(), np.uint8))


def with_params(items, **changes):
    meta = metadata_of(items)
    meta["params"].update(changes)
    return with_metadata(items, params=meta["params"])


_CHILD = r"""
import json, sys, warnings
import numpy as np
from shallownet_fast import ShallowNetClassifier

cases = json.load(open(sys.argv[1]))
start = int(sys.argv[2])
for i in range(start, len(cases)):
    path, n_classes = cases[i]
    rng = np.random.default_rng(0)
    y = np.arange(60) % n_classes
    X = rng.standard_normal((60, 4)) + 2.0 * y[:, None]
    try:
        est = ShallowNetClassifier.load(path)
    except ValueError as exc:
        outcome = {"load": "ValueError", "message": str(exc)}
    except Exception as exc:
        outcome = {"load": type(exc).__name__, "message": str(exc)}
    else:
        outcome = {"load": "ok"}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for backend in ("reference", "fast"):
                for step in ("partial_fit", "fit"):
                    try:
                        est.set_params(backend=backend, warm_start=True, early_stopping=False, max_iter=2)
                        est.partial_fit(X, y) if step == "partial_fit" else est.fit(X, y)
                        est.predict(X)
                        result = "ok"
                    except Exception as exc:
                        result = type(exc).__name__ + ": " + str(exc)[:200]
                    outcome[backend + " " + step] = result
    print(json.dumps([i, outcome]), flush=True)
"""


def run_loads(tmp_path, cases):
    """{path: outcome} of ShallowNetClassifier.load(path) then training, in child processes.

    `cases` is a list of (path, n_classes of the data to train on).  A child that
    dies (segfault, glibc abort) records the case it was running as a crash and
    a new child goes on with the next case.
    """
    spec = tmp_path / "cases.json"
    spec.write_text(json.dumps([[str(p), k] for p, k in cases]))
    env = isolate._child_env(malloc_check=True)
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    outcomes, start = {}, 0
    while start < len(cases):
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, str(spec), str(start)], capture_output=True, text=True, env=env, timeout=600
        )
        for line in proc.stdout.splitlines():
            i, outcome = json.loads(line)
            outcomes[str(cases[i][0])] = outcome
            start = i + 1
        if proc.returncode != 0:
            crash = {"load": "crash", "message": isolate._exit_text(proc.returncode) + " " + proc.stderr[-300:]}
            if start < len(cases):
                outcomes[str(cases[start][0])] = crash
                start += 1
            else:  # at exit, after every case had run (the heap checks found a damaged heap)
                outcomes["<exit>"] = crash
    return outcomes


# ---------------------------------------------------------------- the format


def test_round_trip_both_backends(tmp_path):
    for backend in ("fast", "reference"):
        clf, X, y = fitted(backend=backend)
        clf.save(tmp_path / "m.npz")
        loaded = ShallowNetClassifier.load(tmp_path / "m.npz")
        np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
        assert loaded.get_params() == clf.get_params()
        for k, v in clf._solver_state.items():
            np.testing.assert_array_equal(loaded._solver_state[k], v)


def test_file_is_plain_arrays_with_json_metadata(tmp_path):
    clf, _, _ = fitted()
    clf.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as z:
        names = set(z.files)
        assert int(z["format_version"]) == 2 and z["format_version"].dtype.kind == "i"
        meta = json.loads(z["metadata"].tobytes().decode("utf-8"))
    assert {"W1", "b1", "W2", "b2", "classes", "metadata", "state_mW1", "state_vb2", "best_W1"} <= names
    assert meta["params"]["hidden_layer_sizes"] == [5] and meta["classes_kind"] == "int"


def test_save_writes_the_path_as_given_and_replaces_atomically(tmp_path, monkeypatch):
    clf, X, _ = fitted()
    target = tmp_path / "model"  # no ".npz" appended
    clf.save(target)
    good = target.read_bytes()
    calls = []
    real = np.lib.format.write_array

    def failing(fp, array, *args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise OSError(28, "No space left on device")
        return real(fp, array, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing)
    other, _, _ = fitted(hidden_layer_sizes=(3,))
    with pytest.raises(OSError, match="No space left"):
        other.save(target)
    assert target.read_bytes() == good
    assert os.listdir(tmp_path) == ["model"]  # no temporary file left behind
    np.testing.assert_array_equal(ShallowNetClassifier.load(target).predict(X), clf.predict(X))


def test_plots_save_is_atomic(tmp_path):
    target = tmp_path / "picture.png"
    target.write_bytes(b"old picture")

    class Figure:
        dpi = 100

        def savefig(self, f, **kwargs):
            f.write(b"half a picture")
            raise RuntimeError("the renderer failed")

    with pytest.raises(RuntimeError, match="renderer"):
        plots._save(Figure(), target)
    assert target.read_bytes() == b"old picture" and os.listdir(tmp_path) == ["picture.png"]


def test_atomic_write_follows_symlinks_keeps_mode_and_refuses_devices(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("old")
    os.chmod(real, 0o640)
    (tmp_path / "link.txt").symlink_to(real)
    with _atomic.atomic_write(tmp_path / "link.txt", "w") as f:
        f.write("new")
    assert (tmp_path / "link.txt").is_symlink() and real.read_text() == "new"
    assert os.stat(real).st_mode & 0o777 == 0o640
    with pytest.raises(ValueError, match="not a regular file"):
        with _atomic.atomic_write("/dev/null", "wb") as f:
            f.write(b"x")


def test_same_file_in_every_spelling(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("a.csv").write_text("x")
    os.link("a.csv", "hard.csv")
    os.symlink("a.csv", "soft.csv")
    os.mkdir("sub")
    for spelling in ("a.csv", "./a.csv", "sub/../a.csv", str(tmp_path / "a.csv"), "hard.csv", "soft.csv"):
        assert _atomic.same_file(spelling, "a.csv"), spelling
        with pytest.raises(ValueError, match="refusing to overwrite"):
            _atomic.refuse_overwriting(spelling, [("data", "a.csv")])
    assert not _atomic.same_file("b.csv", "a.csv")
    os.symlink("new.csv", "dangling.csv")
    assert _atomic.same_file("dangling.csv", "new.csv")  # neither exists yet: where they lead


# ---------------------------------------------------------------- tampered files


def tampered_files(tmp_path):
    """(name, path, n_classes of the data to train on) of every kind of damaged model file."""
    clf3, _, _ = fitted(n_classes=3)
    clf2, _, _ = fitted(n_classes=2)
    clf3.save(tmp_path / "good3.npz")
    clf2.save(tmp_path / "good2.npz")
    good3, good2 = entries(tmp_path / "good3.npz"), entries(tmp_path / "good2.npz")
    cases = []

    def add(name, items, n_classes=3):
        path = tmp_path / f"{name}.npz"
        if isinstance(items, bytes):  # the whole file
            path.write_bytes(items)
        else:
            write_zip(path, items)
        cases.append((name, path, n_classes))

    parameters = ("W1", "b1", "W2", "b2")
    names = parameters + tuple(p + k for p in ("state_m", "state_v", "best_") for k in parameters)
    arrays = [n[:-4] for n, _ in good3 if n[:-4] in names]
    assert {"W1", "b1", "W2", "b2", "state_mW1", "state_vb2", "best_W1", "best_b2"} <= set(arrays)
    for name in arrays:
        a = array_of(good3, name)
        add(f"{name}-one-row-more", replace(good3, name, np.vstack([a, a[:1]])))
        add(f"{name}-one-column-more", replace(good3, name, np.hstack([a, a[:, :1]])))
        add(f"{name}-one-row-less", replace(good3, name, a[:-1]) if a.shape[0] > 1 else replace(good3, name, a[:, :0]))
        add(
            f"{name}-transposed",
            replace(good3, name, a.T) if a.shape[0] != a.shape[1] else replace(good3, name, a[None]),
        )
        add(f"{name}-flat", replace(good3, name, a.ravel()))
        add(f"{name}-float32", replace(good3, name, a.astype(np.float32)))
        add(f"{name}-int", replace(good3, name, a.astype(np.int64)))
        add(f"{name}-object", replace(good3, name, a.astype(object)))
        if min(a.shape) > 1:
            add(f"{name}-fortran", replace(good3, name, np.asfortranarray(a)))
        add(f"{name}-nan", replace(good3, name, np.where(np.arange(a.size).reshape(a.shape) == 0, np.nan, a)))
        add(f"{name}-duplicate", good3 + [(name + ".npy", dict(good3)[name + ".npy"])])
        add(f"{name}-missing", without(good3, name))
    for name in [n for n in ("format_version", "metadata", "classes") if n + ".npy" in dict(good3)]:
        add(f"{name}-missing", without(good3, name))
        add(f"{name}-duplicate", good3 + [(name + ".npy", dict(good3)[name + ".npy"])])
    # the format version: exactly the int 2
    for label, value in [
        ("str-2", np.array("2")),
        ("float-2.0", np.array(2.0)),
        ("float-1.9", np.array(1.9)),
        ("bool", np.array(True)),
        ("v1", np.array(1)),
        ("v3", np.array(3)),
        ("1-D", np.array([2])),
        ("object", np.array(2, dtype=object)),
    ]:
        add(f"format_version-{label}", replace(good3, "format_version", value))
    # the classes: as many as the outputs, sorted, unique, of their kind
    classes = array_of(good2, "classes")
    add("classes-three-for-one-output", replace(good2, "classes", np.array(["0", "1", "2"])), 2)
    add("classes-one-for-one-output", replace(good2, "classes", classes[:1]), 2)
    add("classes-unsorted", replace(good3, "classes", np.array(["2", "0", "1"])))
    add("classes-repeated", replace(good3, "classes", np.array(["0", "0", "1"])))
    add("classes-not-ints", replace(good3, "classes", np.array(["0", "1", "x"])))
    add("classes-numbers", replace(good3, "classes", np.array([0, 1, 2])))
    add("classes-2-D", replace(good3, "classes", np.array([["0", "1", "2"]])))
    add("classes-long", replace(good3, "classes", np.array(["0", "1", "2" * 5000])))
    if "metadata.npy" in dict(good3):  # (lets this test run on files of the old formats too, to show what they did)
        metadata_cases(good3, add)
    # names: one per feature
    add("feature_names_in-too-few", good3 + [("feature_names_in.npy", npy(np.array(["a", "b", "c"])))])
    add("feature_names_in-repeated", good3 + [("feature_names_in.npy", npy(np.array(["a", "b", "c", "a"])))])
    add("columns-numbers", good3 + [("columns.npy", npy(np.arange(4.0)))])
    header_cases(tmp_path, good3, add)
    return cases


def metadata_cases(good3, add):
    add("classes-kind-bool", with_metadata(good3, classes_kind="bool"))
    add("classes-dtype-huge", with_metadata(good3, classes_dtype="U1000000000"))
    add("classes-dtype-bytes", with_metadata(good3, classes_dtype="S3"))
    add(
        "classes-dtype-int8-overflow",
        replace(with_metadata(good3, classes_dtype="int8"), "classes", np.array(["0", "1", "300"])),
    )
    # metadata
    meta = metadata_of(good3)
    add("metadata-not-json", replace(good3, "metadata", np.frombuffer(b"{not json", np.uint8)))
    add("metadata-not-utf8", replace(good3, "metadata", np.frombuffer(b'{"a": "\xff"}', np.uint8)))
    add("metadata-a-list", replace(good3, "metadata", np.frombuffer(b"[1, 2]", np.uint8)))
    add("metadata-deep", replace(good3, "metadata", np.frombuffer(b"[" * 100000, np.uint8)))
    add("metadata-as-text", replace(good3, "metadata", np.array(json.dumps(meta))))
    add("metadata-unknown-key", with_metadata(good3, surprise=1))
    add("metadata-n_features_in", with_metadata(good3, n_features_in=5))
    add("metadata-state_family", with_metadata(good3, state_family="lbfgs"))
    add("metadata-state_t-negative", with_metadata(good3, state_t=-1))
    add("metadata-state_t-float", with_metadata(good3, state_t=1.5))
    add("metadata-state_t-huge", with_metadata(good3, state_t=10**30))
    add("metadata-t-huge", with_metadata(good3, t=2**64))
    add("metadata-n_iter-bool", with_metadata(good3, n_iter=True))
    add("metadata-estimator-unknown", with_metadata(good3, estimator="forest"))
    add("metadata-estimator-regressor-with-classes", with_metadata(good3, estimator="regressor"))
    add("metadata-multilabel-not-bool", with_metadata(good3, multilabel="yes"))
    add("params-two-hidden-layers", with_params(good3, hidden_layer_sizes=[5, 5]))
    add("metadata-loss_curve-strings", with_metadata(good3, loss_curve=["a"]))
    add("metadata-stop_reason", with_metadata(good3, stop_reason="bored"))
    add("metadata-no-params", with_metadata(good3, params=None))
    for label, change in [
        ("hidden_layer_sizes-str", {"hidden_layer_sizes": "5"}),
        ("activation", {"activation": "elu"}),
        ("learning_rate", {"learning_rate_init": -1}),
        ("solver", {"solver": "newton"}),
        ("batch_size", {"batch_size": 0}),
        ("unknown", {"depth": 3}),
        ("beta_2", {"beta_2": 1.0}),
        ("backend", {"backend": "gpu"}),
        ("random_state", {"random_state": -5}),
        ("callback", {"callback": "print"}),
    ]:
        add(f"params-{label}", with_params(good3, **change))


def header_cases(tmp_path, good3, add):
    # headers and archive damage
    W1 = array_of(good3, "W1")
    header = npy(W1)
    huge = header.replace(str(W1.shape).encode(), b"(100000, 100000)")
    add("W1-huge-declared-shape", replace(good3, "W1", huge))
    add("W1-truncated-data", replace(good3, "W1", header[:-8]))
    add("W1-extra-data", replace(good3, "W1", header + b"\0" * 8))
    add("W1-bad-magic", replace(good3, "W1", b"\x93NUMPZ" + header[6:]))
    add("W1-header-garbage", replace(good3, "W1", header[:10] + b"{'descr': lambda: 0}" + header[30:]))
    add("extra-member", good3 + [("extra.npy", npy(np.zeros(3)))])
    add("extra-non-npy", good3 + [("README", b"hello")])
    add("directory-member", good3 + [("W1/", b"")])
    raw = (tmp_path / "good3.npz").read_bytes()
    for fraction in (0.1, 0.5, 0.9, 0.99):
        add(f"truncated-{fraction}", raw[: int(len(raw) * fraction)])
    flipped = bytearray(raw)
    flipped[len(raw) // 2] ^= 0xFF
    add("bit-flip", bytes(flipped))
    add("empty-file", b"")
    add("a-npy-file", npy(np.zeros(3)))


def test_every_tampered_file_is_refused_by_load(tmp_path):
    cases = tampered_files(tmp_path)
    outcomes = run_loads(tmp_path, [(path, k) for _, path, k in cases])
    wrong = [f"the child crashed at exit: {outcomes['<exit>']}"] if "<exit>" in outcomes else []
    for name, path, _ in cases:
        outcome = outcomes[str(path)]
        if outcome["load"] != "ValueError" or str(path) not in outcome["message"]:
            wrong.append(f"{name}: {outcome}")
    assert not wrong, "\n".join(wrong)


def test_every_tampered_file_is_refused_in_this_process(tmp_path):
    """Loading alone is safe in the calling process (the loader refuses before it allocates or hands anything
    to compiled code): every tampered file is a ValueError naming the file."""
    for name, path, _ in tampered_files(tmp_path):
        with pytest.raises(ValueError) as info:
            ShallowNetClassifier.load(path)
        assert str(path) in str(info.value), (name, str(info.value))


def test_refusals_name_the_member(tmp_path):
    clf, _, _ = fitted()
    clf.save(tmp_path / "good.npz")
    good = entries(tmp_path / "good.npz")
    W1 = array_of(good, "W1")
    for member, items in [
        ("W1", replace(good, "W1", W1[:-1])),
        ("state_mW2", replace(good, "state_mW2", W1)),
        ("best_b1", replace(good, "best_b1", W1)),
        ("classes", replace(good, "classes", np.array(["2", "1", "0"]))),
        ("format_version", replace(good, "format_version", np.array("2"))),
        ("W2", good + [("W2.npy", dict(good)["W2.npy"])]),
        ("metadata", with_params(good, activation="elu")),
        ("surprise.npy", good + [("surprise.npy", npy(np.zeros(1)))]),
    ]:
        path = write_zip(tmp_path / "bad.npz", items)
        with pytest.raises(ValueError) as info:
            ShallowNetClassifier.load(path)
        assert str(path) in str(info.value) and f"'{member}'" in str(info.value), (member, str(info.value))


@pytest.mark.parametrize(
    "value", [np.array("1"), np.array(1.9), np.array(True), np.array(1)], ids=["str", "1.9", "True", "1"]
)
def test_wrong_version_types_are_refused_with_a_clear_message(tmp_path, value):
    clf, _, _ = fitted()
    clf.save(tmp_path / "good.npz")
    path = write_zip(tmp_path / "v.npz", replace(entries(tmp_path / "good.npz"), "format_version", value))
    with pytest.raises(ValueError, match="format_version"):
        ShallowNetClassifier.load(path)


def test_a_zip_bomb_is_refused_before_decompressing(tmp_path):
    """An extra member of 256 MiB of zeros, deflated to a few hundred KiB: load allocates next to nothing."""
    clf, X, _ = fitted()
    clf.save(tmp_path / "good.npz")
    good = entries(tmp_path / "good.npz")
    zeros = npy(np.zeros(1 << 25))  # 256 MiB
    for name, items in [("extra", good + [("bomb.npy", zeros)]), ("as-W1", replace(good, "W1", zeros))]:
        path = write_zip(tmp_path / f"bomb-{name}.npz", items, compression=zipfile.ZIP_DEFLATED)
        assert path.stat().st_size < 2 << 20
        tracemalloc.start()
        try:
            with pytest.raises(ValueError, match="bomb|W1"):
                ShallowNetClassifier.load(path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 4 << 20, f"{name}: load allocated {peak} bytes"
    del zeros


def test_a_deflated_model_loads(tmp_path):
    """The format does not depend on the compression: a re-zipped (deflated) file reads the same."""
    clf, X, _ = fitted()
    clf.save(tmp_path / "good.npz")
    path = write_zip(tmp_path / "deflated.npz", entries(tmp_path / "good.npz"), compression=zipfile.ZIP_DEFLATED)
    np.testing.assert_array_equal(ShallowNetClassifier.load(path).predict(X), clf.predict(X))


def test_the_old_formats_are_refused(tmp_path):
    clf, _, _ = fitted()
    clf.save(tmp_path / "good.npz")
    good = dict(entries(tmp_path / "good.npz"))
    # the command line's old file and the estimator's old file, both "version 1"
    old_cli = {
        k + ".npy": npy(v)
        for k, v in dict(
            W1=np.zeros((4, 2)),
            b1=np.zeros((4, 1)),
            W2=np.zeros((1, 4)),
            b2=np.zeros((1, 1)),
            activation=np.array("tanh"),
            classes=np.array(["a", "b"]),
            features=np.array(["x", "y"]),
            label=np.array("c"),
            mean=np.zeros(2),
            std=np.ones(2),
            format_version=np.array(1),
        ).items()
    }
    old_est = {
        k + ".npy": npy(v)
        for k, v in dict(
            format_version=np.array(1), params_json=np.array("{}"), classes=np.array(["0", "1", "2"])
        ).items()
    }
    old_est.update({k: good[k] for k in ("W1.npy", "b1.npy", "W2.npy", "b2.npy")})
    for name, items in [("old_cli", old_cli), ("old_est", old_est)]:
        path = write_zip(tmp_path / f"{name}.npz", list(items.items()))
        with pytest.raises(ValueError, match="format version 1; this version of shallownet_fast reads version 2"):
            _modelfile.read(path)


def test_the_untampered_files_load_and_train_in_a_child(tmp_path):
    """The control of the tampered cases: the same child loads and trains the good files on both backends."""
    paths = []
    for k in (2, 3):
        clf, _, _ = fitted(n_classes=k)
        clf.save(tmp_path / f"good{k}.npz")
        paths.append((tmp_path / f"good{k}.npz", k))
    outcomes = run_loads(tmp_path, paths)
    assert "<exit>" not in outcomes, outcomes["<exit>"]
    for path, _ in paths:
        outcome = outcomes[str(path)]
        assert outcome.pop("load") == "ok" and set(outcome.values()) == {"ok"}, outcome


def test_write_refuses_what_read_would_refuse(tmp_path):
    clf, _, _ = fitted()
    W = clf._current_parameters()
    model = {**W, "classes": clf.classes_, "metadata": {"params": {}}}
    with pytest.raises(ValueError, match="W2"):
        _modelfile.write(tmp_path / "m.npz", dict(model, W2=W["W2"].astype(np.float32)))
    with pytest.raises(ValueError, match="finite"):
        _modelfile.write(tmp_path / "m.npz", dict(model, b1=np.full_like(W["b1"], np.nan)))
    assert not os.listdir(tmp_path)

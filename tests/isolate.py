"""Run calls of the public API in child processes: a crash fails one case, not the whole run.

A :class:`Case` names a public function (``"forward_propagation"``, ...) and
its arguments.  :func:`run_cases` pickles the cases in batches to fresh
interpreters (``subprocess``, ``sys.executable``); a child calls the function
of both implementations, :mod:`shallownet_fast.reference` then
:mod:`shallownet_fast.fast`, each on a fresh copy of the arguments, and writes
one record per case as soon as the case is done (an unbuffered ``os.write``, so
the records of finished cases survive a crash).  A record says, per
implementation, what the call returned or raised, the warnings it emitted and
whether it modified its arguments.

When a child dies -- a segfault (negative exit code), an abort from glibc's
heap checks, a hang past the timeout -- the case that was running is re-run
alone to confirm it.  If it does not crash alone, the cases that ran before it
in the same child are bisected for the ones after which it does; a crash at
exit (every record written, then a non-zero exit code) is bisected over the
whole batch.  Either way the crash becomes the culprit's record
(``{"crash": ...}``), which the caller reports as a failing case with its
description; the other cases of the batch are run again in a new child.

Pickling keeps an array's values, dtype (byte order included) and C/F order,
but not its strides or flags: an argument whose layout matters is wrapped in
:class:`View`, which the child rebuilds around the same values (negative
strides, every other element, read-only, big-endian, unaligned, ...).

The children run with one BLAS/OpenMP thread (two of them share two cores)
and, where glibc provides it, with its malloc checks preloaded
(``libc_malloc_debug.so`` with ``MALLOC_CHECK_=3``), so that a kernel writing
past the end of a buffer aborts at the next free instead of passing unnoticed.
"""

import concurrent.futures
import copy
import importlib
import os
import pickle
import reprlib
import signal
import struct
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

IMPLEMENTATIONS = ("reference", "fast")
LAYOUT_OPS = ("F", "reversed", "strided", "readonly", "bigendian", "unaligned", "broadcast", "masked")
_MALLOC_DEBUG = "/usr/lib/x86_64-linux-gnu/libc_malloc_debug.so.0"
_HEADER = struct.Struct("<Q")


# ---------------------------------------------------------------- cases


@dataclass
class Case:
    """One call: ``<implementation>.<func>(*args, **kwargs)``, with a human-readable note."""

    func: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    note: str = ""

    def describe(self, implementation="<impl>"):
        """The call as text that reproduces it (arrays printed in full up to a few dozen entries)."""
        parts = [_show(a) for a in self.args] + [f"{k}={_show(v)}" for k, v in self.kwargs.items()]
        call = f"{implementation}.{self.func}({', '.join(parts)})"
        return f"{call}  # {self.note}" if self.note else call


class View:
    """`base`'s values presented with a layout that pickling would lose, rebuilt by `realize`.

    ops, applied in order: "F" (Fortran order), "reversed" (negative strides on
    every axis), "strided" (every other row, every third column of a larger
    array), "readonly", "bigendian" (same values, byte-swapped dtype),
    "unaligned" (data one byte off a float's alignment), "broadcast" (zero
    column stride; `base`'s columns must all be equal), "masked" (a
    numpy.ma.MaskedArray with some entries masked: the data are still the values).
    """

    def __init__(self, base, *ops):
        unknown = [op for op in ops if op not in LAYOUT_OPS]
        if unknown:
            raise ValueError(f"unknown layout ops {unknown}")
        self.base = np.asarray(base)
        self.ops = ops

    def realize(self):
        a = np.array(self.base, copy=True)
        for op in self.ops:
            a = _LAYOUTS[op](a)
        return a

    def __repr__(self):
        return f"View({_show(self.base)}, {', '.join(map(repr, self.ops))})"


def _fortran(a):
    return np.asfortranarray(a)


def _reversed(a):
    flip = (slice(None, None, -1),) * a.ndim
    return np.ascontiguousarray(a[flip])[flip]


def _strided(a):
    steps = (2, 3, 2, 2)[: a.ndim]
    big = np.zeros(tuple(max(1, n * s) for n, s in zip(a.shape, steps)), a.dtype)
    view = big[tuple(slice(None, None, s) for s in steps)][tuple(slice(0, n) for n in a.shape)]
    view[...] = a
    return view


def _readonly(a):
    a = a.view()
    a.flags.writeable = False
    return a


def _bigendian(a):
    if a.dtype.byteorder in "|" or a.dtype.kind not in "fciu":
        return a
    return a.astype(a.dtype.newbyteorder(">"))


def _unaligned(a):
    if a.dtype.itemsize < 2 or a.dtype.kind == "O":
        return a
    raw = np.zeros(a.nbytes + 1, np.uint8)
    out = raw[1:].view(a.dtype).reshape(a.shape)
    out[...] = a
    return out


def _broadcast(a):
    if a.ndim != 2 or a.shape[1] == 0:
        return a
    return np.broadcast_to(a[:, :1], a.shape)


def _masked(a):
    if a.dtype.kind not in "fciub":
        return a
    mask = np.zeros(a.shape, bool)
    mask.flat[::2] = True
    return np.ma.masked_array(a, mask=mask)


_LAYOUTS = {
    "F": _fortran,
    "reversed": _reversed,
    "strided": _strided,
    "readonly": _readonly,
    "bigendian": _bigendian,
    "unaligned": _unaligned,
    "broadcast": _broadcast,
    "masked": _masked,
}


def realize(obj):
    """A fresh copy of `obj` with every View rebuilt (dicts, lists and tuples walked)."""
    obj = copy.deepcopy(obj)
    return _realize(obj)


def _realize(obj):
    if isinstance(obj, View):
        return obj.realize()
    if type(obj) is dict:
        return {k: _realize(v) for k, v in obj.items()}
    if type(obj) is list:
        return [_realize(v) for v in obj]
    if type(obj) is tuple:
        return tuple(_realize(v) for v in obj)
    return obj


_repr = reprlib.Repr()
_repr.maxstring = 60
_repr.maxother = 60


def _show(obj):
    if isinstance(obj, View):
        return repr(obj)
    if isinstance(obj, np.ma.MaskedArray):
        return f"np.ma.masked_array({_show(obj.data)}, mask={obj.mask.tolist()!r})"
    if isinstance(obj, np.ndarray):
        with np.printoptions(precision=17, threshold=48, edgeitems=3, linewidth=10_000):
            text = repr(obj)
        if obj.dtype.byteorder == ">":
            text += f".astype({obj.dtype.str!r})"
        return " ".join(text.split())
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{k!r}: {_show(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, list) and len(repr(obj)) > 300:
        return f"<list of {len(obj)}: {_repr.repr(obj)}>"
    return repr(obj)


# ---------------------------------------------------------------- in the child


def fingerprint(obj):
    """A value-only summary of `obj` (arrays by dtype, shape and bytes) to see whether a call changed it."""
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind == "O":
            return ("O", obj.shape, repr(obj.tolist()))
        if isinstance(obj, np.ma.MaskedArray):
            return ("ma", fingerprint(obj.data), obj.mask.tobytes())
        return (obj.dtype.str, obj.shape, np.ascontiguousarray(obj).tobytes())
    if isinstance(obj, dict):
        return ("dict", tuple((repr(k), fingerprint(v)) for k, v in obj.items()))
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, tuple(fingerprint(v) for v in obj))
    if isinstance(obj, np.random.Generator):
        return "Generator"  # drawing from a given generator advances it: that is its purpose
    return repr(obj)


def _plain(value):
    """A picklable copy of a return value."""
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    try:
        pickle.dumps(value)
    except Exception:
        return f"<unpicklable {type(value).__name__}: {value!r}>"
    return value


def call(implementation, case):
    """Run `case` with one implementation; the record of what happened."""
    module = importlib.import_module(f"shallownet_fast.{implementation}")
    args, kwargs = realize(case.args), realize(case.kwargs)
    before = fingerprint((args, kwargs))
    record = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        try:
            value = getattr(module, case.func)(*args, **kwargs)
        except Exception as exc:
            record.update(status="raise", exc=type(exc).__name__, message=str(exc)[:500])
        else:
            record.update(status="ok", value=_plain(value))
        record["seconds"] = time.perf_counter() - start
    record["warnings"] = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    record["mutated"] = fingerprint((args, kwargs)) != before
    return record


def execute(case):
    """Both implementations on `case`: {"reference": record, "fast": record}."""
    return {name: call(name, case) for name in IMPLEMENTATIONS}


def _write_record(fd, obj):
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _child_main(in_path, out_path):
    import faulthandler

    faulthandler.enable()  # a segfault prints the Python stack to stderr, which the parent keeps
    with open(in_path, "rb") as f:
        job = pickle.load(f)
    import shallownet_fast

    if os.path.realpath(shallownet_fast.__file__) != job["package"]:
        raise SystemExit(f"the child imported {shallownet_fast.__file__}, the parent {job['package']}")
    fd = os.open(out_path, os.O_WRONLY | os.O_APPEND)
    for i, case in enumerate(job["cases"]):
        _write_record(fd, (i, execute(case)))
    os.close(fd)


# ---------------------------------------------------------------- in the parent


def _child_env(malloc_check):
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    env["PYTHONFAULTHANDLER"] = "1"
    if malloc_check and os.path.exists(_MALLOC_DEBUG):
        env["LD_PRELOAD"] = ":".join(filter(None, [env.get("LD_PRELOAD"), _MALLOC_DEBUG]))
        env["MALLOC_CHECK_"] = "3"
        env["MALLOC_PERTURB_"] = "165"
    return env


def _exit_text(code):
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name} (exit code {code})"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


@dataclass
class _ChildRun:
    records: dict  # case position in the batch -> record
    crash: str | None  # None when the child exited cleanly


class Harness:
    """Runs cases in child processes; see the module docstring."""

    def __init__(self, workers=2, batch_size=100, timeout=60.0, per_case_timeout=2.0, malloc_check=True):
        self.workers = workers
        self.batch_size = batch_size
        self.timeout = timeout
        self.per_case_timeout = per_case_timeout
        self.env = _child_env(malloc_check)
        self.children = 0  # how many child processes were started (for the report)
        import shallownet_fast

        self.package = os.path.realpath(shallownet_fast.__file__)
        paths = [os.path.abspath(p) if p else os.getcwd() for p in sys.path if isinstance(p, str)]
        here = os.path.dirname(os.path.abspath(__file__))
        self.code = (
            f"import sys; sys.path[:] = {[here] + paths!r}; "
            "import isolate; isolate._child_main(sys.argv[1], sys.argv[2])"
        )

    def run_child(self, cases):
        """One child on `cases`: the records it wrote and how it ended."""
        self.children += 1
        timeout = self.timeout + self.per_case_timeout * len(cases)
        with tempfile.TemporaryDirectory(prefix="snf-isolate-") as tmp:
            in_path, out_path, err_path = (os.path.join(tmp, n) for n in ("cases.pkl", "records", "stderr"))
            with open(in_path, "wb") as f:
                pickle.dump({"cases": cases, "package": self.package}, f, protocol=pickle.HIGHEST_PROTOCOL)
            open(out_path, "wb").close()
            with open(err_path, "wb") as err:
                proc = subprocess.Popen(
                    [sys.executable, "-c", self.code, in_path, out_path],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                    env=self.env,
                )
                try:
                    code = proc.wait(timeout)
                    how = None if code == 0 else _exit_text(code)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                    how = f"hung: still running after {timeout:.0f} s, killed"
            records = _read_records(out_path)
            if how is not None:
                with open(err_path, "rb") as f:
                    lines = f.read()[-4000:].decode(errors="replace").splitlines()
                tail = "\n".join(line for line in lines if not line.startswith("Extension modules:")).strip()
                how += f"; the child's stderr ends with:\n{tail}" if tail else "; the child wrote nothing to stderr"
        return _ChildRun(records, how)

    def crashes(self, cases):
        return self.run_child(cases).crash is not None

    def run(self, cases):
        """A record for every case, in order (see the module docstring)."""
        cases = list(cases)
        results = [None] * len(cases)
        chunks = [range(i, min(i + self.batch_size, len(cases))) for i in range(0, len(cases), self.batch_size)]
        with concurrent.futures.ThreadPoolExecutor(self.workers) as pool:
            for future in [pool.submit(self._run_chunk, cases, list(chunk), results) for chunk in chunks]:
                future.result()
        return results

    def _run_chunk(self, cases, pending, results):
        while pending:
            run = self.run_child([cases[i] for i in pending])
            for j, record in run.records.items():
                results[pending[j]] = record
            if run.crash is None:
                return
            done = len(run.records)  # the child writes its records in order
            if done == len(pending):  # every case finished, then the process died
                self._blame_exit_crash(cases, pending, results, run.crash)
                return
            self._blame(cases, pending[:done], pending[done], results, run.crash)
            pending = pending[done + 1 :]

    def _blame(self, cases, before, culprit, results, crash):
        """`culprit` was running when a child died after `before`: confirm alone, else bisect `before`."""
        alone = self.run_child([cases[culprit]])
        if alone.crash is not None:
            results[culprit] = {"crash": alone.crash, "alone": True, "after": []}
            return
        trigger = self._bisect(cases, before, [culprit])
        results[culprit] = {
            "crash": crash,
            "alone": False,
            "after": [cases[i].describe() for i in trigger],
            "alone_record": alone.records.get(0),
        }

    def _bisect(self, cases, before, tail):
        """A small run of cases from `before` after which `tail` crashes (halving while one half suffices)."""
        candidates = list(before)
        while len(candidates) > 1:
            half = len(candidates) // 2
            for part in (candidates[half:], candidates[:half]):
                if self.crashes([cases[i] for i in part + tail]):
                    candidates = part
                    break
            else:
                break  # needs cases from both halves
        return candidates

    def _blame_exit_crash(self, cases, pending, results, crash):
        culprits = self._bisect(cases, pending, [])
        if not self.crashes([cases[i] for i in culprits]):
            culprits = pending
        for i in culprits:
            results[i] = {
                "crash": f"the process died at exit, after the cases finished: {crash}",
                "alone": len(culprits) == 1,
                "after": [cases[k].describe() for k in culprits if k != i],
                "alone_record": results[i],
            }


_ARMED = False


class Saboteur:
    """An argument that misbehaves when converted to an array, to test the harness itself.

    how: "segfault" (reads address 0), "abort", "hang", "arm" (returns a valid
    array and arms the saboteurs made with armed_only=True), "exit" (the
    process kills itself with SIGSEGV at exit, after its cases finished).
    """

    def __init__(self, how, armed_only=False):
        self.how = how
        self.armed_only = armed_only

    def __array__(self, dtype=None, copy=None):
        global _ARMED
        if self.how == "arm":
            _ARMED = True
        elif self.armed_only and not _ARMED:
            pass
        elif self.how == "segfault":
            import ctypes

            ctypes.string_at(0)
        elif self.how == "abort":
            os.abort()
        elif self.how == "hang":
            time.sleep(3600)
        elif self.how == "exit":
            import atexit

            atexit.register(os.kill, os.getpid(), signal.SIGSEGV)
        return np.zeros((1, 1))

    def __repr__(self):
        return f"Saboteur({self.how!r}, armed_only={self.armed_only})"


def _read_records(path):
    with open(path, "rb") as f:
        data = f.read()
    records, pos = {}, 0
    while pos + _HEADER.size <= len(data):
        (size,) = _HEADER.unpack_from(data, pos)
        if pos + _HEADER.size + size > len(data):
            break  # cut short by the crash
        i, record = pickle.loads(data[pos + _HEADER.size : pos + _HEADER.size + size])
        records[i] = record
        pos += _HEADER.size + size
    return records


def run_cases(cases, **options):
    """Records of `cases` (see :class:`Harness` for the options), and the harness (for its counters)."""
    harness = Harness(**options)
    return harness.run(cases), harness

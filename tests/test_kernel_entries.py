"""The compiled kernels' `def` entries refuse buffers whose shapes do not fit together.

shallownet_fast.fast and _minibatch allocate every buffer they pass, but a
buffer can still come from elsewhere (a model file's optimizer state, for
one).  Each entry must check, before it writes anything, that every argument's
shape agrees with the others and raise ValueError naming the argument; it must
never read or write past a buffer's end.

Each entry is called here through shallownet_fast._dispatch.kernels with valid
arguments but one, which is one element short along its last axis (or
otherwise wrong).  Without the checks such a call may write past the end of a
heap buffer, so the calls run in child processes with the environment of
tests/isolate.py (glibc's malloc checks preloaded, so that an overrun aborts
the child): a crash fails its case instead of the run.  A case passes when the
call raised ValueError whose message names the argument, and left every array
unchanged.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from shallownet_fast import _dispatch

import isolate

HERE = Path(__file__).resolve().parent
N_X, N_H, N_Y, M = 3, 5, 2, 40  # two outputs: the softmax paths use their scratch rows
THREADS, BLOCK, BATCH = 2, 16, 13
CHILD_TIMEOUT = 20  # seconds; the whole list takes about one
P_END = N_H * N_X + N_H + N_Y * N_H + N_Y


def valid_arguments(entry, dtype=np.float64):
    """{name: value} of a valid call of `entry`, in the order of its parameters."""
    rng = np.random.default_rng(5)

    def arr(*shape):
        return rng.standard_normal(shape).astype(dtype)

    def empty(*shape):
        return np.zeros(shape, dtype)

    k = _dispatch.kernels
    X, Y = arr(N_X, M), np.ascontiguousarray(np.eye(N_Y, dtype=dtype)[:, rng.integers(0, N_Y, M)])
    W1, b1, W2, b2 = arr(N_H, N_X), arr(N_H), arr(N_Y, N_H), arr(N_Y)
    act = k.ACTIVATION_CODES["tanh"]
    if entry == "forward":
        return dict(
            X=X,
            W1=W1,
            b1=b1,
            W2=W2,
            b2=b2,
            act=act,
            Z1=empty(N_H, M),
            A1=empty(N_H, M),
            Z2=empty(N_Y, M),
            A2=empty(N_Y, M),
            tmp=empty(M),
        )
    if entry == "cost":
        return dict(A2=np.full((N_Y, M), 0.5, dtype), Y=Y, tmp=empty(M))
    if entry == "backward":
        return dict(
            X=X,
            Y=Y,
            W2=W2,
            A1=np.tanh(arr(N_H, M)),
            A2=np.full((N_Y, M), 0.5, dtype),
            act=act,
            dW1=empty(N_H, N_X),
            db1=empty(N_H),
            dW2=empty(N_Y, N_H),
            db2=empty(N_Y),
            D2=empty(N_Y, M),
            D1=empty(N_H, M),
            tmp=empty(M),
        )
    if entry == "predict_proba":
        return dict(X=X, W1=W1, b1=b1, W2=W2, b2=b2, act=act, A2=empty(N_Y, M), H=empty(N_H + 1, BLOCK))
    if entry == "predict_rows":
        scratch = k.predict_scratch(N_X, N_H, N_Y, BLOCK, True)
        return dict(
            X=np.ascontiguousarray(X.T),
            W1=W1,
            b1=b1,
            W2=W2,
            b2=b2,
            act=act,
            output=k.OUTPUT_CODES["softmax"],
            out=empty(M, N_Y),
            S=empty(THREADS, scratch),
            block=BLOCK,
        )
    if entry == "train":
        return dict(
            X=X,
            Y=Y,
            W1=W1,
            b1=b1,
            W2=W2,
            b2=b2,
            act=act,
            learning_rate=0.1,
            first=0,
            count=3,
            cost_every=1,
            costs=np.zeros(3),
            H=empty(THREADS, N_H, BLOCK),
            D=empty(THREADS, N_H, BLOCK),
            O=empty(THREADS, N_Y, BLOCK),
            tmp=empty(THREADS, BLOCK),
            G=empty(THREADS, P_END),
            loss=np.zeros(THREADS),
        )
    if entry == "train_epoch":
        state = {f"{s}{p}": np.zeros_like(a) for s in "mv" for p, a in zip(("W1", "b1", "W2", "b2"), (W1, b1, W2, b2))}
        return dict(
            X=X,
            Y=Y,
            sw=np.ones(M, dtype),
            order=rng.permutation(M).astype(np.intp),
            batch_size=BATCH,
            W1=W1,
            b1=b1,
            W2=W2,
            b2=b2,
            **state,
            t=np.zeros(1, np.longlong),
            act=act,
            solver=k.SOLVER_CODES["adam"],
            learning_rate=0.01,
            momentum=0.9,
            nesterov=True,
            beta_1=0.9,
            beta_2=0.999,
            epsilon=1e-8,
            alpha=1e-4,
            Xb=empty(N_X, BATCH),
            Yb=empty(N_Y, BATCH),
            swb=empty(BATCH),
            H=empty(N_H, BATCH),
            D=empty(N_H, BATCH),
            O=empty(N_Y, BATCH),
            tmp=empty(BATCH),
            dW1=empty(N_H, N_X),
            db1=empty(N_H),
            dW2=empty(N_Y, N_H),
            db2=empty(N_Y),
        )
    if entry == "gemm_check":
        return dict(trans_a=False, trans_b=True, A=arr(4, 6), B=arr(7, 6), alpha=1.0, beta=0.0, C=empty(4, 7))
    if entry == "product_check":
        return dict(W=arr(4, 6), X=arr(6, 9), out=empty(4, 9), blas=False)
    raise ValueError(entry)


ENTRIES = (
    "forward",
    "cost",
    "backward",
    "predict_proba",
    "predict_rows",
    "train",
    "train_epoch",
    "gemm_check",
    "product_check",
)


def _short(a):
    """`a` one element short along its last axis."""
    shape = a.shape[:-1] + (a.shape[-1] - 1,)
    if a.dtype == np.intp:  # order: still a permutation, of one fewer column
        return np.arange(shape[0], dtype=np.intp)
    return np.full(shape, 0.5, a.dtype)


def _cases():
    """(entry, argument, how, expected words in the message) for every array argument, and a few more."""
    cases = []
    for entry in ENTRIES:
        for name, value in valid_arguments(entry).items():
            if isinstance(value, np.ndarray) and (entry, name) != ("predict_proba", "H"):  # H's columns: any block
                cases.append((entry, name, "short", name))
    cases += [
        ("train_epoch", "mW1", "transposed", "mW1"),  # what a model file with a transposed state gives
        ("train_epoch", "vW2", "transposed", "vW2"),
        ("train_epoch", "order", "out_of_range", "order"),
        ("train_epoch", "order", "negative", "order"),
        ("train_epoch", "batch_size", "zero", "batch_size"),
        ("train_epoch", "solver", "unknown", "solver"),
        ("train_epoch", "act", "unknown", "act"),
        ("train", "H", "no_threads", "H"),
        ("train", "H", "no_columns", "H"),
        ("train", "X", "no_examples", "X"),
        ("predict_proba", "H", "no_columns", "H"),
        ("predict_proba", "H", "no_softmax_row", "H"),
        ("predict_proba", "H", "transposed", "H"),
        ("predict_rows", "S", "no_threads", "S"),
        ("predict_rows", "block", "zero", "block"),
        ("predict_rows", "output", "unknown", "output"),
        ("predict_rows", "act", "unknown", "act"),
        ("forward", "act", "unknown", "act"),
        ("gemm_check", "A", "transposed", "A"),
    ]
    return cases


CASES = _cases()


def broken_arguments(entry, name, how, dtype=np.float64):
    args = valid_arguments(entry, dtype)
    value = args[name]
    if how == "short":
        args[name] = _short(value)
    elif how == "transposed":
        args[name] = np.ascontiguousarray(value.T)
    elif how == "out_of_range":
        value[7] = M
    elif how == "negative":
        value[M - 1] = -1
    elif how == "zero":
        args[name] = 0
    elif how == "unknown":
        args[name] = 9
    elif how == "no_threads":
        args[name] = np.zeros((0,) + value.shape[1:], value.dtype)
    elif how == "no_columns":
        args[name] = np.zeros(value.shape[:-1] + (0,), value.dtype)
    elif how == "no_softmax_row":
        args[name] = np.zeros((N_H, BLOCK), dtype)
    elif how == "no_examples":
        args["X"], args["Y"] = np.zeros((N_X, 0), dtype), np.zeros((N_Y, 0), dtype)
    else:
        raise ValueError(how)
    return args


def child(cases, dtype_name, parent_dispatch):
    """In the child: run `cases` in order, one JSON line each on stdout as soon as it is done."""
    if os.path.realpath(_dispatch.__file__) != os.path.realpath(parent_dispatch):
        raise SystemExit(f"the child imported {_dispatch.__file__}, the parent {parent_dispatch}")
    kernels = _dispatch.kernels
    for entry, name, how, _ in cases:
        args = broken_arguments(entry, name, how, np.dtype(dtype_name))
        before = {k: v.copy() for k, v in args.items() if isinstance(v, np.ndarray)}
        try:
            getattr(kernels, entry)(*args.values())
        except Exception as exc:
            record = {"raised": type(exc).__name__, "message": str(exc)}
        else:
            record = {"raised": None}
        record["changed"] = sorted(k for k, v in before.items() if not np.array_equal(v, args[k], equal_nan=True))
        sys.stdout.write(json.dumps(record) + "\n")
        sys.stdout.flush()


def run_in_children(cases, dtype_name):
    """{case: record}; a child that dies fails the case it was running, and the rest go on in a new one."""
    records, pending = {}, list(cases)
    code = (
        f"import sys, json; sys.path.insert(0, {str(HERE)!r}); import test_kernel_entries as t; "
        "t.child([tuple(c) for c in json.loads(sys.argv[1])], sys.argv[2], sys.argv[3])"
    )
    while pending:
        try:
            proc = subprocess.run(
                [sys.executable, "-c", code, json.dumps(pending), dtype_name, _dispatch.__file__],
                capture_output=True,
                text=True,
                env=isolate._child_env(malloc_check=True),
                timeout=CHILD_TIMEOUT,
            )
            out, how = proc.stdout, isolate._exit_text(proc.returncode) + ": " + proc.stderr[-1500:]
            finished = proc.returncode == 0
        except subprocess.TimeoutExpired as exc:  # a kernel looping for ever (a zero block, say)
            out, how, finished = exc.stdout or "", f"hung: still running after {CHILD_TIMEOUT} s, killed", False
            out = out.decode() if isinstance(out, bytes) else out
        lines = [line for line in out.splitlines() if line.startswith("{")]
        for case, line in zip(pending, lines):
            records[case] = json.loads(line)
        if finished and len(lines) == len(pending):
            break
        done = len(lines)
        if done < len(pending):  # the case running when the child died: again alone, to confirm
            culprit = pending[done]
            alone = run_in_children([culprit], dtype_name) if len(pending) > 1 else {culprit: {"crash": how}}
            records[culprit] = (
                alone[culprit]
                if "crash" in alone[culprit]
                else {"crash": f"{how} (alone it did not crash: an earlier case of the child had corrupted memory)"}
            )
        pending = pending[done + 1 :]
    return records


@pytest.fixture(scope="module", params=["float64", "float32"])
def records(request):
    return request.param, run_in_children(CASES, request.param)


@pytest.mark.parametrize("case", CASES, ids=["-".join(c[:3]) for c in CASES])
def test_wrong_shape_is_refused_before_any_write(records, case):
    dtype_name, all_records = records
    entry, name, how, word = case
    record = all_records[case]
    assert "crash" not in record, f"{entry} with {name} {how}: the child died ({record['crash']})"
    assert record["raised"] == "ValueError", f"{entry} with {name} {how} ({dtype_name}): raised {record['raised']}"
    assert re.search(rf"\b{word}\b", record["message"]), record["message"]
    assert record["changed"] == [], f"{entry} wrote into {record['changed']} before refusing: {record['message']}"


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_valid_arguments_pass_the_checks(entry, dtype):
    """The arguments the cases above start from are accepted (so each case breaks exactly one thing)."""
    args = valid_arguments(entry, dtype)
    getattr(_dispatch.kernels, entry)(*args.values())


def test_message_names_both_shapes():
    args = broken_arguments("train_epoch", "mW1", "transposed")
    with pytest.raises(ValueError) as info:
        _dispatch.kernels.train_epoch(*args.values())
    message = str(info.value)
    assert "mW1" in message and "(3, 5)" in message and "(5, 3)" in message, message

"""Many threads, and Ctrl-C: the fast path shares nothing mutable between calls.

- 8 Python threads call forward, backward, predict and nn_model of the fast
  implementation on shared read-only inputs, all at once, round after round:
  every result is bitwise equal to the same call made serially.
- 8 threads training 8 different models at once get exactly the models they
  get alone.
- BLAS's process-wide thread count is never changed by overlapping calls
  from several threads; a call's n_threads=1 (BLAS products on the calling
  thread, a bound local to that thread) holds whichever thread makes it.
- SIGINT during a long fast.nn_model raises KeyboardInterrupt within a second
  of the signal, leaves the caller's arrays untouched, and leaves the process
  in a state where the next call gives the usual result.
"""

import signal
import threading
import time

import numpy as np
import pytest

from shallownet_fast import fast

from conftest import BACKEND_IDS, BACKENDS, copy_tree, make_data, make_parameters

THREADS = 8
ROUNDS = 6

# (n_x, n_h, n_y, m, dtype, activation): the hand-written loop nests (2 features), the BLAS products
# (8 features, 3 classes), and a hidden layer of 64 units whose float64 blocks of 1024 columns split m.
PROBLEMS = [
    (2, 4, 1, 400, np.float64, "tanh"),
    (8, 32, 3, 300, np.float32, "relu"),
    (2, 64, 1, 1500, np.float64, "sigmoid"),
    (3, 5, 2, 257, np.float32, "leaky_relu"),
]


def _readonly(tree):
    for a in tree.values() if isinstance(tree, dict) else [tree]:
        a.flags.writeable = False
    return tree


def _problem(i):
    n_x, n_h, n_y, m, dtype, activation = PROBLEMS[i]
    X, Y = make_data(100 + i, n_x, m, n_y, dtype)
    params = make_parameters(100 + i, n_x, n_h, n_y, dtype)
    return _readonly(X), _readonly(Y), _readonly(params), activation


def _calls(X, Y, params, activation):
    """The calls made on one problem: name -> a function of no arguments."""
    cache = _readonly(fast.forward_propagation(X, params, activation=activation)[1])
    n_h = params["W1"].shape[0]
    return {
        "forward": lambda: fast.forward_propagation(X, params, activation=activation),
        "backward": lambda: fast.backward_propagation(params, cache, X, Y, activation=activation),
        "predict": lambda: fast.predict(params, X, activation=activation),
        "nn_model": lambda: fast.nn_model(
            X, Y, n_h, 20, learning_rate=0.5, activation=activation, parameters=params, return_costs=True
        ),
    }


def _flatten(result, path="result"):
    """[(path, array)] of every array in a result (tuples and dicts walked)."""
    if isinstance(result, dict):
        return [x for k, v in result.items() for x in _flatten(v, f"{path}[{k!r}]")]
    if isinstance(result, (tuple, list)):
        return [x for i, v in enumerate(result) for x in _flatten(v, f"{path}[{i}]")]
    return [(path, np.asarray(result))]


def _differences(got, expected):
    out = []
    for (path, a), (_, b) in zip(_flatten(got), _flatten(expected)):
        if a.dtype != b.dtype or a.shape != b.shape or a.tobytes() != b.tobytes():
            out.append(path)
    return out


def _blas_thread_counts():
    from threadpoolctl import threadpool_info

    return sorted((info["filepath"], info["num_threads"]) for info in threadpool_info() if info["user_api"] == "blas")


def _set_blas_threads(count):
    """Set BLAS's thread count for good (not as a context), and leave no thread in control of it."""
    from threadpoolctl import ThreadpoolController

    _release_blas_control()
    for lib in ThreadpoolController().lib_controllers:
        if lib.user_api == "blas":
            lib.set_num_threads(count)
    _release_blas_control()


def _release_blas_control():
    """threadpoolctl >= 3.8: let no thread keep control of OpenBLAS's count (see the BLAS tests below)."""
    from threadpoolctl import ThreadpoolController

    for lib in ThreadpoolController().lib_controllers:
        clear = getattr(type(lib), "clear_controlling_thread", None)
        if clear is not None:
            clear(force=True)


@pytest.fixture(autouse=True)
def _keep_blas_thread_count():
    """Whatever a test does to BLAS's thread count (see the BLAS-limit tests below), the next test finds it
    as it was."""
    before = _blas_thread_counts()
    yield
    _release_blas_control()
    if _blas_thread_counts() != before:
        _set_blas_threads(max((count for _, count in before), default=1))


def _run_threads(target, count=THREADS):
    """Start `count` threads on target(index, barrier) together; re-raise the first error of any."""
    barrier = threading.Barrier(count)
    errors = []

    def run(i):
        try:
            target(i, barrier)
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i,), name=f"snf-test-{i}") for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a thread did not finish within 300 s"
    if errors:
        raise errors[0]


def test_threads_on_shared_inputs_match_serial_calls():
    """Every (problem, call) pair, run by 8 threads at once in shifting combinations, equals its serial run."""
    problems = [_problem(i) for i in range(len(PROBLEMS))]
    snapshots = [copy_tree({"X": X, "Y": Y, **params}) for X, Y, params, _ in problems]
    calls = [(p, name, f) for p, problem in enumerate(problems) for name, f in _calls(*problem).items()]
    expected = [f() for _, _, f in calls]
    mismatches = []

    def work(i, barrier):
        for r in range(ROUNDS):
            barrier.wait()  # every round starts all threads together
            for k in range(i + r, i + r + len(calls), THREADS):
                p, name, f = calls[k % len(calls)]
                diff = _differences(f(), expected[k % len(calls)])
                if diff:
                    mismatches.append(f"thread {i}, round {r}: {name} on problem {PROBLEMS[p]}: {diff}")

    _run_threads(work)
    assert not mismatches, "\n".join(mismatches[:20])
    for (X, Y, params, _), before in zip(problems, snapshots):
        for k, a in {"X": X, "Y": Y, **params}.items():
            assert a.tobytes() == before[k].tobytes(), f"{k} was modified"


def _model(i):
    """A different training problem per thread: data, sizes, dtype, activation and outputs all vary."""
    n_x, n_h, n_y, m, dtype, activation = PROBLEMS[i % len(PROBLEMS)]
    X, Y = make_data(200 + i, n_x, m + 7 * i, n_y, dtype)
    kwargs = {"learning_rate": 0.3 + 0.1 * i, "activation": activation, "return_costs": True}
    if i % 2:
        kwargs["parameters"] = make_parameters(200 + i, n_x, n_h, n_y, dtype)
    else:
        kwargs["seed"] = i
    return (X, Y, n_h, 40), kwargs


def test_threads_training_different_models_do_not_interfere():
    models = [_model(i) for i in range(THREADS)]
    expected = [fast.nn_model(*args, **kwargs) for args, kwargs in models]
    results = [None] * THREADS

    def work(i, barrier):
        args, kwargs = models[i]
        barrier.wait()
        for _ in range(3):
            results[i] = fast.nn_model(*args, **kwargs)
            barrier.wait()

    _run_threads(work)
    for i in range(THREADS):
        assert not _differences(results[i], expected[i]), f"thread {i}: {_differences(results[i], expected[i])}"


# BLAS's thread count is one setting for the whole process, and nn_model leaves it alone: a thread
# that wants BLAS on itself bounds the size of its own products instead.  threadpoolctl >= 3.8 lets only
# one "controlling" thread set OpenBLAS's count; the tests below start each at 2 BLAS threads with no
# thread in control.

A_RUN, B_RUN = 8_000, 20_000  # iterations: about 0.4 s and 1 s on one core


def _two_blas_threads():
    _set_blas_threads(2)
    before = _blas_thread_counts()
    if all(count == 1 for _, count in before):
        pytest.skip("BLAS cannot run two threads here: a change to 1 cannot be told from the original")
    return before


def _blas_problem():
    X, Y = make_data(300, 8, 300, 1)  # 8 features x 32 hidden units: the products go to BLAS
    return X, Y, make_parameters(300, 8, 32, 1)


def test_overlapping_training_never_changes_blas_thread_count():
    """A short run (thread A) and a longer one (thread B) with n_threads=1 overlap, while a third thread
    reads BLAS's thread counts all along: every reading, and the one after, is what it was before.

    (When n_threads was applied through threadpoolctl, process-wide, the watcher saw 1 thread.)
    """
    before = _two_blas_threads()
    X, Y, params = _blas_problem()
    readings, done = [], threading.Event()

    def work(i, barrier):
        barrier.wait()
        if i == 2:
            while not done.is_set():
                readings.append(_blas_thread_counts())
                time.sleep(0.002)
            return
        try:
            fast.nn_model(X, Y, 32, A_RUN if i == 0 else B_RUN, parameters=params, n_threads=1)
        finally:
            if i == 1:
                done.set()

    _run_threads(work, count=3)
    assert len(readings) > 10
    changed = [r for r in readings if r != before]
    assert not changed, f"BLAS thread counts seen during the calls: {changed[:3]} (before: {before})"
    assert _blas_thread_counts() == before


def test_n_threads_is_honoured_in_a_worker_after_a_call_in_the_main_thread(monkeypatch):
    """n_threads=1 keeps the kernels' BLAS products on the calling thread (a bound on their size, local
    to that thread) in whichever thread makes the call, and never touches BLAS's process-wide count."""
    from shallownet_fast import _threads

    before = _two_blas_threads()
    limit = _threads.gemm_single_thread_limit()
    if not limit:
        pytest.skip("a BLAS whose single-thread size is not known")
    X, Y, params = _blas_problem()
    fast.nn_model(X, Y, 32, 10, parameters=params, n_threads=1)  # in the main thread
    # the calling thread's bound and BLAS's thread count as each call into the training kernel starts
    seen = []
    real = fast._core

    class Recording:
        def __getattr__(self, name):
            return getattr(real, name)

        def train(self, *args):
            bound = real.set_gemm_limit(0)
            real.set_gemm_limit(bound)
            seen.append((bound, max(count for _, count in _blas_thread_counts())))
            return real.train(*args)

    monkeypatch.setattr(fast, "_core", Recording())
    worker = threading.Thread(
        target=fast.nn_model, args=(X, Y, 32, 3000), kwargs={"parameters": params, "n_threads": 1}
    )
    worker.start()
    worker.join()
    assert seen and set(seen) == {(limit, max(c for _, c in before))}, f"(bound, BLAS threads): {sorted(set(seen))}"
    assert real.set_gemm_limit(0) == 0, "the main thread's bound is its own"
    assert _blas_thread_counts() == before


# ---------------------------------------------------------------- Ctrl-C


def _iterations_for(backend, seconds, X, Y, n_h, params):
    """How many iterations of this problem take `backend` about `seconds`."""
    start = time.perf_counter()
    backend.nn_model(X, Y, n_h, 20, parameters=params)
    per_iteration = (time.perf_counter() - start) / 20
    return int(seconds / max(per_iteration, 1e-7))


@pytest.mark.parametrize("backend", BACKENDS, ids=BACKEND_IDS)
@pytest.mark.parametrize("shape", [(2, 4, 20_000), (16, 64, 4_000)], ids=["loops", "blas"])
def test_keyboard_interrupt_returns_within_a_second(backend, shape):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals are delivered to the main thread only")
    n_x, n_h, m = shape
    X, Y = make_data(400, n_x, m, 1, np.float32)
    X = np.asfortranarray(X)  # the copy nn_model makes of it must not be what protects the caller's X
    params = make_parameters(400, n_x, n_h, 1, np.float32)
    before = copy_tree({"X": X, "Y": Y, **params})
    iterations = _iterations_for(backend, 10.0, X, Y, n_h, params)
    blas_before = _blas_thread_counts()
    state = {"armed": True}

    def on_sigint(signum, frame):
        if state["armed"]:
            state["armed"] = False
            raise KeyboardInterrupt
        state["late"] = True

    def send():
        state["sent"] = time.monotonic()
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    previous = signal.signal(signal.SIGINT, on_sigint)
    timer = threading.Timer(0.5, send)
    try:
        start = time.monotonic()
        timer.start()
        try:
            backend.nn_model(X, Y, n_h, iterations, parameters=params)
        except KeyboardInterrupt:
            state["caught"] = time.monotonic()
        state["armed"] = False
        timer.join()
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert "caught" in state, f"nn_model ran {iterations} iterations to the end ({time.monotonic() - start:.1f} s)"
    delay = state["caught"] - state["sent"]
    print(f"{backend.__name__} {shape}: {iterations} iterations; KeyboardInterrupt {1e3 * delay:.0f} ms after SIGINT")
    assert delay < 1.0, f"KeyboardInterrupt came {delay:.2f} s after SIGINT"
    for k, a in {"X": X, "Y": Y, **params}.items():
        np.testing.assert_array_equal(a, before[k], err_msg=f"{k} was modified")
    assert _blas_thread_counts() == blas_before, "the BLAS thread limit was not restored"
    # and the process is fine: the next call gives the usual result
    again = backend.nn_model(X, Y, n_h, 5, parameters=params)
    expected = backend.nn_model(before["X"], before["Y"], n_h, 5, parameters={k: before[k] for k in params})
    assert not _differences(again, expected)


# ---------------------------------------------------------------- how many threads may be asked for


def test_n_threads_is_bounded_by_the_usable_cpus(monkeypatch, backend):
    """At most 4 threads per usable CPU (at least 8 in all) are accepted, in both backends; beyond that
    a ValueError names n_threads and the limit before any work."""
    from shallownet_fast import _threads

    X, Y = make_data(3, 2, 20, 1)
    monkeypatch.setattr(_threads, "usable_cores", lambda: 3)
    assert _threads.max_threads() == 12
    backend.nn_model(X, Y, 2, 1, seed=0, n_threads=12)
    for too_many in (13, 4096, 2**64):
        with pytest.raises(ValueError, match="n_threads must be at most 12"):
            backend.nn_model(X, Y, 2, 1, seed=0, n_threads=too_many)
    monkeypatch.setattr(_threads, "usable_cores", lambda: 1)
    assert _threads.max_threads() == 8  # the floor: 8 threads work on any machine
    backend.nn_model(X, Y, 2, 1, seed=0, n_threads=8)
    with pytest.raises(ValueError, match="n_threads must be at most 8"):
        backend.nn_model(X, Y, 2, 1, seed=0, n_threads=9)


def test_the_thread_limit_follows_the_affinity_of_the_process():
    import os

    from shallownet_fast import _threads

    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no CPU affinity on this platform")
    assert _threads.usable_cores() == len(os.sched_getaffinity(0))
    assert _threads.max_threads() == max(8, 4 * len(os.sched_getaffinity(0)))


def test_one_flops_model_sets_the_work_per_call():
    """The flops model and what follows from it: iterations per call and steps between signal checks."""
    from shallownet_fast import _threads

    assert _threads.flops(2, 4, 1, 400) == 2.0 * 400 * 4 * (2 * 2 + 3 * 1 + 10)
    assert _threads.iterations_per_call(1.0, 1000) == 1000  # tiny work: capped
    assert _threads.iterations_per_call(1e12, 1000) == 1  # huge work: one per call
    assert _threads.iterations_per_call(_threads._WORK_PER_CALL / 10, 1000) == 10
    assert _threads.signal_every(1e12) == 1
    assert _threads.signal_every(_threads._WORK_PER_SIGNAL_CHECK / 4) == 4


def test_predict_block_is_all_columns_for_a_small_hidden_layer():
    from shallownet_fast import _threads

    f64 = np.dtype(np.float64)
    assert _threads.predict_block(4, 1, f64) == 1
    assert _threads.predict_block(4, 0, f64) == 1
    big = _threads.predict_block(256, 100_000, f64)
    assert big == _threads.block_columns(256, 100_000, f64, _threads._PREDICT_BLOCK_BYTES) < 100_000

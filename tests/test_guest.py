"""A good guest in someone else's process: no global side effect, fork-safe, one thread policy.

- A second thread reads the BLAS and OpenMP settings of the process
  (threadpoolctl's threadpool_info) all through each kind of call: training
  (a team, one thread, the default), the estimator's epochs, prediction of
  the functional API and of the estimator.  Every reading is what it was
  before the call.
- A team's members run their BLAS products on their own threads: BLAS's own
  threads stay idle (per-thread CPU ticks from /proc) while a team trains.
- After a call that ran a team, children work by every start method of
  multiprocessing (fork, forkserver, spawn) and with joblib's backends (loky,
  threading, multiprocessing).  Each case runs in a child interpreter with a
  timeout, so that a hang fails the test instead of stalling the suite.
- OMP_NUM_THREADS=1, or an affinity mask of one CPU, gives one busy core
  (CPU time / wall time of a training that would otherwise use a team).
- The policy of n_threads=None: the fewest of the usable CPUs (affinity and
  cgroup quota), OMP_NUM_THREADS and the libraries' thread counts (an active
  threadpoolctl limit).
"""

import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import numpy as np
import pytest

import shallownet_fast
from shallownet_fast import _threads, fast
from shallownet_fast._dispatch import kernels

threadpoolctl = pytest.importorskip("threadpoolctl")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(shallownet_fast.__file__)))  # where the imported package lives
CHILD_TIMEOUT = 180


def _run_child(code, tmp_path, args=(), env=None, timeout=CHILD_TIMEOUT):
    """Run `code` as a script in a fresh interpreter importing this checkout; its stdout. A hang fails."""
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(code))
    child_env = dict(os.environ)
    child_env["PYTHONPATH"] = ROOT + os.pathsep + child_env.get("PYTHONPATH", "")
    child_env.update(env or {})
    try:
        done = subprocess.run(
            [sys.executable, str(script), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=child_env,
            cwd=str(tmp_path),
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the child process hung (no answer in {timeout} s): {args}")
    assert done.returncode == 0, f"child exited with {done.returncode}:\n{done.stderr[-4000:]}"
    return done.stdout


def _data(seed, n_x, m, n_y=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m))
    Y = (rng.random((n_y, m)) > 0.5).astype(np.float64)
    return X, Y


# ---------------------------------------------------------------- no side effect on other threads


def _settings():
    """What another thread sees of the process's BLAS and OpenMP libraries: (file, API, thread count)."""
    return sorted((i["filepath"], i["user_api"], i["num_threads"]) for i in threadpoolctl.threadpool_info())


def _watched(call, least_readings=15, most_seconds=30):
    """Run call() over and over in this thread while another reads _settings(); the readings."""
    readings, done = [], threading.Event()

    def watch():
        while not done.is_set():
            readings.append(_settings())
            time.sleep(0.001)

    watcher = threading.Thread(target=watch, name="snf-test-watcher")
    watcher.start()
    try:
        deadline = time.monotonic() + most_seconds
        call()
        while len(readings) < least_readings and time.monotonic() < deadline:
            call()
    finally:
        done.set()
        watcher.join()
    return readings


def _fit(n_threads, X, y, **kw):
    """A ShallowNetClassifier (32 hidden units unless said) fitted for 3 epochs (not to convergence: no warning)."""
    from sklearn.exceptions import ConvergenceWarning

    from shallownet_fast.estimators import ShallowNetClassifier

    kw.setdefault("hidden_layer_sizes", (32,))
    model = ShallowNetClassifier(max_iter=3, n_threads=n_threads, random_state=0, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def _calls():
    """name -> a call of each kind; the problems are sized so that every path runs BLAS products."""
    X_team, Y_team = _data(1, 20, 4000)  # 20 x 64: a team with BLAS products under the single-thread size
    X_big, Y_big = _data(2, 120, 6000)  # 120 x 64: too large a product for a team's block, BLAS's own threads
    Xs = np.ascontiguousarray(X_big.T)
    ys = (Xs[:, 0] + Xs[:, 1] > 0).astype(int)
    params = fast.nn_model(X_big, Y_big, 64, 1, learning_rate=0.1, seed=0)
    fitted = {n: _fit(n, Xs, ys) for n in (None, 1, 2)}
    return {
        "train-team": lambda: fast.nn_model(X_team, Y_team, 64, 5, learning_rate=0.1, seed=0, n_threads=2),
        "train-one": lambda: fast.nn_model(X_team, Y_team, 64, 5, learning_rate=0.1, seed=0, n_threads=1),
        "train-default": lambda: fast.nn_model(X_big, Y_big, 64, 3, learning_rate=0.1, seed=0),
        "train-default-team": lambda: fast.nn_model(X_team, Y_team, 64, 5, learning_rate=0.1, seed=0),
        "epochs-default": lambda: _fit(None, Xs, ys, batch_size=64),
        "epochs-one": lambda: _fit(1, Xs, ys, batch_size=64, solver="adam"),
        "epochs-two": lambda: _fit(2, Xs, ys, batch_size=2000),
        "predict": lambda: fast.predict(params, X_big),
        "forward": lambda: fast.forward_propagation(X_big, params),
        "estimator-predict-default": lambda: fitted[None].predict_proba(Xs),
        "estimator-predict-one": lambda: fitted[1].predict_proba(Xs),
        "estimator-predict-two": lambda: fitted[2].predict(Xs),
    }


CALL_NAMES = [
    "train-team",
    "train-one",
    "train-default",
    "train-default-team",
    "epochs-default",
    "epochs-one",
    "epochs-two",
    "predict",
    "forward",
    "estimator-predict-default",
    "estimator-predict-one",
    "estimator-predict-two",
]


@pytest.fixture(scope="module")
def calls():
    return _calls()


@pytest.mark.parametrize("name", CALL_NAMES)
def test_no_call_changes_what_another_thread_sees_of_blas_or_openmp(calls, name):
    calls[name]()  # loads whatever the call loads (readings before and after compare like with like)
    before = _settings()
    readings = _watched(calls[name])
    changed = [r for r in readings if r != before]
    assert not changed, f"{name}: another thread saw {changed[0]} (before: {before})"
    assert _settings() == before


def test_every_kind_of_call_is_watched(calls):
    assert sorted(calls) == sorted(CALL_NAMES)


# ---------------------------------------------------------------- a team keeps BLAS on its own threads

TICKS_CHILD = """
import os
import time
import numpy as np
from shallownet_fast import _threads, fast

def ticks():
    out = {}
    for t in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{t}/stat") as f:
                parts = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[int(t)] = int(parts[11]) + int(parts[12])
    return out

rng = np.random.default_rng(0)
# BLAS's own threads exist and have worked: a large product through the kernels, BLAS as it is
Xb = rng.standard_normal((256, 8000))
pb = fast.nn_model(Xb[:, :10], (Xb[:1, :10] > 0).astype(float), 256, 1, seed=0)
for _ in range(3):
    fast.forward_propagation(Xb, pb)
X = rng.standard_normal((20, 40000)); Y = (rng.random((1, 40000)) > 0.5).astype(float)
team, block, _ = _threads.training_plan(2, 20, 64, 40000, X.dtype, 1e9, fast._core)
time.sleep(1.0)  # BLAS's threads spin for a while after the products above before they sleep: not the team's doing
before = ticks()
fast.nn_model(X, Y, 64, 40, learning_rate=0.1, seed=0, n_threads=2)
after = ticks()
me = os.getpid()
others = sum(after[t] - before[t] for t in after if t in before and t != me)
ours = after[me] - before[me]
print(team, block, ours, others)
"""


def test_a_team_leaves_blas_own_threads_idle(tmp_path):
    """While a team trains, the threads of the process other than the caller and the team (BLAS's own
    pool above all, which the team's products would wake if they were large) do no work."""
    if not kernels.team_enabled() or not _threads.gemm_single_thread_limit():
        pytest.skip("no team in this build, or a BLAS whose single-thread size is not known")
    if not os.path.isdir("/proc/self/task"):
        pytest.skip("per-thread CPU times come from Linux's /proc")
    team, block, ours, others = map(int, _run_child(TICKS_CHILD, tmp_path).split())
    assert team == 2 and 64 * 20 * block <= _threads.gemm_single_thread_limit(), (team, block)
    assert ours >= 20, f"the call took too few ticks to tell ({ours})"
    assert others <= 2, f"other threads worked {others} ticks while the team did {ours}"


# ---------------------------------------------------------------- fork safety

FORK_CHILD = """
import functools
import sys

import numpy as np

from shallownet_fast import fast

rng = np.random.default_rng(0)
X = rng.standard_normal((20, 4000))
Y = (rng.random((1, 4000)) > 0.5).astype(float)
job = functools.partial(fast.nn_model, X, Y, 64, 3, learning_rate=0.1, seed=0, n_threads=2)


def check(results, want):
    assert len(results) == 2
    for got in results:
        for k in want:
            assert np.array_equal(got[k], want[k]), k


if __name__ == "__main__":
    kind, how = sys.argv[1], sys.argv[2]
    want = job()  # a team in the parent, before any child starts
    if kind == "mp":
        import multiprocessing as mp

        with mp.get_context(how).Pool(2) as pool:
            pending = [pool.apply_async(job) for _ in range(2)]
            results = [p.get(timeout=120) for p in pending]
    else:
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=2, backend=how)(delayed(job)() for _ in range(2))
    check(results, want)
    print("ok")
"""

START_METHODS = [("mp", m) for m in ("fork", "forkserver", "spawn")] + [
    ("joblib", b) for b in ("loky", "threading", "multiprocessing")
]


@pytest.mark.parametrize("kind,how", START_METHODS, ids=[f"{k}-{h}" for k, h in START_METHODS])
def test_children_train_after_a_team_by_every_start_method(tmp_path, kind, how):
    import multiprocessing as mp

    if kind == "mp" and how not in mp.get_all_start_methods():
        pytest.skip(f"no {how} start method on this platform")
    if kind == "joblib":
        pytest.importorskip("joblib")
    assert _run_child(FORK_CHILD, tmp_path, args=(kind, how)).strip() == "ok"


def test_a_forked_child_trains_with_a_team_after_the_parent_did(tmp_path):
    """os.fork itself (as gunicorn --preload and celery's prefork pool do), the child's team included."""
    if not hasattr(os, "fork"):
        pytest.skip("no fork here")
    code = """
    import os
    import numpy as np
    from shallownet_fast import fast
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 4000)); Y = (rng.random((1, 4000)) > 0.5).astype(float)
    want = fast.nn_model(X, Y, 64, 3, learning_rate=0.1, seed=0, n_threads=2)
    pid = os.fork()
    if pid == 0:
        got = fast.nn_model(X, Y, 64, 3, learning_rate=0.1, seed=0, n_threads=2)
        os._exit(0 if all(np.array_equal(got[k], want[k]) for k in want) else 3)
    _, status = os.waitpid(pid, 0)
    print(os.waitstatus_to_exitcode(status))
    """
    assert _run_child(code, tmp_path, timeout=60).strip() == "0"


def test_a_forked_child_predicts_with_a_team_after_the_parent_did(tmp_path):
    """The estimators' prediction team (predict_rows) leaves nothing behind for a fork either."""
    if not hasattr(os, "fork"):
        pytest.skip("no fork here")
    code = """
    import os, warnings
    import numpy as np
    from shallownet_fast.estimators import ShallowNetClassifier
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20000, 20)); y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ShallowNetClassifier(hidden_layer_sizes=(64,), max_iter=2, n_threads=2, random_state=0).fit(X, y)
    want = model.predict_proba(X)
    pid = os.fork()
    if pid == 0:
        os._exit(0 if np.array_equal(model.predict_proba(X), want) else 3)
    _, status = os.waitpid(pid, 0)
    print(os.waitstatus_to_exitcode(status))
    """
    assert _run_child(code, tmp_path, timeout=60).strip() == "0"


# ---------------------------------------------------------------- one busy core

BUSY_CHILD = """
import os
import sys
import time

if sys.argv[1] == "affinity":
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
import numpy as np
from shallownet_fast import _threads, fast

rng = np.random.default_rng(0)
X = rng.standard_normal((20, 40000)); Y = (rng.random((1, 40000)) > 0.5).astype(float)
fast.nn_model(X, Y, 64, 1, learning_rate=0.1, seed=0)
wall, cpu = time.perf_counter(), time.process_time()
fast.nn_model(X, Y, 64, 40, learning_rate=0.1, seed=0)  # a team's size of problem with n_threads=None
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
print(_threads.default_threads(), cpu / wall)
"""


@pytest.mark.parametrize("how", ["OMP_NUM_THREADS", "affinity"])
def test_one_thread_asked_of_the_environment_gives_one_busy_core(tmp_path, how):
    if _threads.usable_cores() < 2:
        pytest.skip("one usable CPU: nothing to tell apart")
    if how == "affinity" and not hasattr(os, "sched_setaffinity"):
        pytest.skip("no affinity masks here")
    env = {"OMP_NUM_THREADS": "1"} if how == "OMP_NUM_THREADS" else {"OMP_NUM_THREADS": ""}
    threads, busy = _run_child(BUSY_CHILD, tmp_path, args=(how,), env=env).split()
    assert int(threads) == 1
    assert float(busy) < 1.3, f"CPU time / wall time {float(busy):.2f} with one thread asked"


# ---------------------------------------------------------------- import


def test_importing_the_package_does_not_import_scipy_linalg(tmp_path):
    """SciPy's BLAS is bound on the first call that needs it, from cython_blas alone (`python -X importtime`
    showed 0.21 s of scipy.linalg in `import shallownet_fast.fast`); the first product then works."""
    code = """
    import sys
    import numpy as np
    import shallownet_fast
    import shallownet_fast.fast as fast
    imported = sorted(m for m in sys.modules if m == "scipy.linalg" or m.startswith("scipy.linalg."))
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 50))
    params = fast.initialize_parameters(8, 32, 1, seed=0)
    a2, cache = fast.forward_propagation(X, params)
    want = np.tanh(params["W1"] @ X + params["b1"])
    print(imported, np.allclose(cache["A1"], want, rtol=1e-12, atol=0))
    """
    assert _run_child(code, tmp_path).strip() == "[] True"


# ---------------------------------------------------------------- the policy of n_threads=None


def test_a_cgroup_quota_bounds_the_usable_cpus(tmp_path):
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "cpu.max").write_text("150000 100000\n")
    assert _threads._cgroup_cpus(str(v2)) == 2
    (v2 / "cpu.max").write_text("50000 100000\n")
    assert _threads._cgroup_cpus(str(v2)) == 1
    (v2 / "cpu.max").write_text("max 100000\n")
    assert _threads._cgroup_cpus(str(v2)) is None
    v1 = tmp_path / "v1"
    (v1 / "cpu").mkdir(parents=True)
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("300000\n")
    (v1 / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert _threads._cgroup_cpus(str(v1)) == 3
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert _threads._cgroup_cpus(str(v1)) is None
    assert _threads._cgroup_cpus(str(tmp_path / "absent")) is None


def test_usable_cores_take_the_quota(monkeypatch):
    monkeypatch.setattr(_threads, "_cgroup_cpus", lambda: 1)
    assert _threads.usable_cores() == 1
    assert _threads.default_threads() == 1


@pytest.mark.parametrize("value,want", [("1", 1), ("1,4", 1), ("", None), ("x", None), ("0", None), ("-2", None)])
def test_omp_num_threads_is_read_as_openmp_reads_it(monkeypatch, value, want):
    monkeypatch.setenv("OMP_NUM_THREADS", value)
    assert _threads._env_threads() == want
    if want == 1:
        assert _threads.default_threads() == 1


def test_an_active_threadpoolctl_limit_bounds_the_default(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    if _threads.usable_cores() < 2 or min(_threads._library_threads() or [2]) < 2:
        pytest.skip("one thread already")
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        assert _threads.default_threads() == 1
        team, _, _ = _threads.training_plan(None, 20, 64, 40000, np.dtype(np.float64), 1e9, kernels)
        assert team == 1
    assert _threads.default_threads() >= 2


def test_plans_keep_a_team_under_the_single_thread_size():
    limit = _threads.gemm_single_thread_limit()
    if not kernels.team_enabled() or not limit:
        pytest.skip("no team in this build, or a BLAS whose single-thread size is not known")
    f64 = np.dtype(np.float64)
    team, block, _ = _threads.training_plan(2, 20, 64, 10000, f64, 1e9, kernels)
    assert team == 2 and 20 * 64 * block <= limit
    team, block, _ = _threads.training_plan(2, 784, 256, 20000, f64, 1e9, kernels)
    # W3: a team computing its products in pieces under the limit, or serial with BLAS's own threads
    assert team == (2 if _threads._TEAM_IN_PIECES else 1)
    team, _, _ = _threads.training_plan(2, 2, 4, 4000, f64, 1e9, kernels)  # no BLAS at all: a team
    assert team == 2


def test_the_gemm_bound_is_the_calling_threads_own():
    seen = []
    previous = kernels.set_gemm_limit(12345)
    try:
        worker = threading.Thread(target=lambda: seen.append(kernels.set_gemm_limit(0)))
        worker.start()
        worker.join()
        assert seen == [0.0]
        assert kernels.set_gemm_limit(12345) == 12345
    finally:
        kernels.set_gemm_limit(previous)
    with pytest.raises(ValueError, match="limit"):
        kernels.set_gemm_limit(-1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("limit", [1, 50, 1000])
def test_products_in_pieces_match_whole_products(dtype, limit):
    """A bounded thread computes its products in pieces (rows and columns of the result): the same
    forward and backward passes, to the table's tolerance, as whole products."""
    from conftest import tolerance

    rng = np.random.default_rng(5)
    X = rng.standard_normal((9, 301)).astype(dtype)
    Y = np.eye(3, dtype=dtype)[:, rng.integers(0, 3, 301)]
    params = {k: a.astype(dtype) for k, a in fast.initialize_parameters(9, 17, 3, seed=0).items()}
    assert kernels.uses_blas(17, 9)

    def passes():
        a2, cache = fast.forward_propagation(X, params)
        return a2, fast.backward_propagation(params, cache, X, Y)

    whole_a2, whole_grads = passes()
    previous = kernels.set_gemm_limit(limit)
    try:
        pieces_a2, pieces_grads = passes()
    finally:
        kernels.set_gemm_limit(previous)
    np.testing.assert_allclose(pieces_a2, whole_a2, **tolerance(dtype))
    for k in whole_grads:
        np.testing.assert_allclose(pieces_grads[k], whole_grads[k], **tolerance(dtype), err_msg=k)


@pytest.mark.parametrize("n_threads,rows,team", [(None, 1000, 1), (None, 100_000, None), (1, 100_000, 1), (2, 1000, 2)])
def test_prediction_follows_the_small_work_rule(monkeypatch, n_threads, rows, team):
    """The estimator's predictions run on one thread below the small-work size (and always with
    n_threads=1), on a team of default_threads() above it (None: that many); every thread with the
    kernels' BLAS on itself alone, BLAS's process-wide setting untouched."""
    limit = _threads.gemm_single_thread_limit()
    if not limit:
        pytest.skip("a BLAS whose single-thread size is not known")
    rng = np.random.default_rng(3)
    X = rng.standard_normal((rows, 50))
    y = (X[:, 0] > 0).astype(int)
    model = _fit(n_threads, X[:500], y[:500], hidden_layer_sizes=(64,))
    real, seen = fast._core, []

    class Recording:
        def __getattr__(self, name):
            return getattr(real, name)

        def predict_rows(self, *args):
            bound = real.set_gemm_limit(0)
            real.set_gemm_limit(bound)
            seen.append((args[-2].shape[0], bound))
            return real.predict_rows(*args)

    monkeypatch.setattr(fast, "_core", Recording())
    model.predict_proba(X)
    want = _threads.default_threads() if team is None else team
    assert seen and set(seen) == {(want, limit)}, seen

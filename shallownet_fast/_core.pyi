"""Type stubs of the compiled kernels: shallownet_fast._core, _core_avx2 and _core_avx512.

The one stub of all three variants (the same source, src/_kernels.pxi,
compiled with different flags); only _core has cpu_level.  Written by hand:
when a `def` in src/ changes, change it here too.  .ci/typecheck runs
mypy.stubtest of this stub against every built variant, and
tests/test_stubs.py compares names and parameters.
"""

# The `def` kernels take typed memoryviews of one dtype per call (Cython's
# `floating`: float32 or float64); each argument's memoryview type and role
# (IN, OUT, IN/OUT, SCRATCH) with its shape is in its trailing comment.  The
# kernels check that the shapes agree (ValueError) before writing anything;
# values (finite, in range) are checked by shallownet_fast.fast beforehand.
#
# A fused (`floating`) entry can also be indexed by its specialisation,
# kernel["double"] or kernel["float"], which skips the dtype dispatch of each
# call; the entries used that way are typed as such (a callable protocol).

from typing import Protocol

import numpy as np

SOLVER_CODES: dict[str, int]
ACTIVATION_CODES: dict[str, int]
OUTPUT_CODES: dict[str, int]
BLAS_MIN_K: int
BLAS_MIN_WORK: int

def team_enabled() -> bool:
    """True when the extension was built with POSIX threads: `train` can run a team of threads."""

def openmp_enabled() -> bool:
    """Whether `train` can run a team of threads: the same as team_enabled() (the name of older releases)."""

def set_gemm_limit(limit: float) -> float:
    """Bound M * N * K of each BLAS product the kernels issue on the calling thread; returns the previous bound."""

def debug_build() -> bool:
    """True for a debug build (SHALLOWNET_FAST_DEBUG=1: bounds checking on)."""

def uses_blas(rows: int, K: int) -> bool:
    """True when a product of a (rows, K) matrix goes to BLAS."""

def forward(
    X: np.ndarray,  # const floating[:, ::1]  IN  (n_x, m)
    W1: np.ndarray,  # const floating[:, ::1]  IN  (n_h, n_x)
    b1: np.ndarray,  # const floating[::1]  IN  (n_h,)
    W2: np.ndarray,  # const floating[:, ::1]  IN  (n_y, n_h)
    b2: np.ndarray,  # const floating[::1]  IN  (n_y,)
    act: int,
    Z1: np.ndarray,  # floating[:, ::1]  OUT (n_h, m)
    A1: np.ndarray,  # floating[:, ::1]  OUT (n_h, m)
    Z2: np.ndarray,  # floating[:, ::1]  OUT (n_y, m)
    A2: np.ndarray,  # floating[:, ::1]  OUT (n_y, m)
    tmp: np.ndarray,  # floating[::1]  SCRATCH (m,)
) -> None:
    """Z1 := W1 @ X + b1; A1 := g(Z1); Z2 := W2 @ A1 + b2; A2 := sigmoid or softmax(Z2)."""

def cost(
    A2: np.ndarray,  # const floating[:, ::1]  IN  (n_y, m), m >= 1
    Y: np.ndarray,  # const floating[:, ::1]  IN  (n_y, m)
    tmp: np.ndarray,  # floating[::1]  SCRATCH (m,)
) -> float:
    """-mean(Y log A2 + (1 - Y) log(1 - A2)), or -mean(sum(Y log A2)) for n_y > 1."""

def backward(
    X: np.ndarray,  # const floating[:, ::1]  IN  (n_x, m), m >= 1
    Y: np.ndarray,  # const floating[:, ::1]  IN  (n_y, m)
    W2: np.ndarray,  # const floating[:, ::1]  IN  (n_y, n_h)
    A1: np.ndarray,  # const floating[:, ::1]  IN  (n_h, m)
    A2: np.ndarray,  # const floating[:, ::1]  IN  (n_y, m)
    act: int,
    dW1: np.ndarray,  # floating[:, ::1]  OUT (n_h, n_x)
    db1: np.ndarray,  # floating[::1]  OUT (n_h,)
    dW2: np.ndarray,  # floating[:, ::1]  OUT (n_y, n_h)
    db2: np.ndarray,  # floating[::1]  OUT (n_y,)
    D2: np.ndarray,  # floating[:, ::1]  SCRATCH (n_y, m)
    D1: np.ndarray,  # floating[:, ::1]  SCRATCH (n_h, m)
    tmp: np.ndarray,  # floating[::1]  SCRATCH (m,)
) -> None:
    """dZ2 := A2 - Y; dW2 := dZ2 @ A1.T / m; dZ1 := (W2.T @ dZ2) * g'(A1); dW1 := dZ1 @ X.T / m."""

class _PredictProba(Protocol):
    def __call__(
        self,
        X: np.ndarray,  # const floating[:, ::1]  IN  (n_x, m)
        W1: np.ndarray,  # const floating[:, ::1]  IN  (n_h, n_x)
        b1: np.ndarray,  # const floating[::1]  IN  (n_h,)
        W2: np.ndarray,  # const floating[:, ::1]  IN  (n_y, n_h)
        b2: np.ndarray,  # const floating[::1]  IN  (n_y,)
        act: int,
        A2: np.ndarray,  # floating[:, ::1]  OUT (n_y, m)
        H: np.ndarray,  # floating[:, ::1]  SCRATCH (n_h + 1, block), block >= 1: A1, then a row for softmax
    ) -> None:
        """A2 := output(W2 @ g(W1 @ X + b1) + b2), block of columns by block of columns.

        One scratch argument (not two) keeps the call short for a few examples.
        """
    def __getitem__(self, specialisation: str, /) -> _PredictProba:
        """The entry of one dtype: "double" or "float"."""

predict_proba: _PredictProba

def train(
    X: np.ndarray,  # const floating[:, ::1]  IN  (n_x, m), m >= 1
    Y: np.ndarray,  # const floating[:, ::1]  IN  (n_y, m)
    W1: np.ndarray,  # floating[:, ::1]  IN/OUT (n_h, n_x)
    b1: np.ndarray,  # floating[::1]  IN/OUT (n_h,)
    W2: np.ndarray,  # floating[:, ::1]  IN/OUT (n_y, n_h)
    b2: np.ndarray,  # floating[::1]  IN/OUT (n_y,)
    act: int,
    learning_rate: float,
    first: int,
    count: int,
    cost_every: int,
    costs: np.ndarray,  # double[::1]  OUT (count,) when cost_every > 0
    H: np.ndarray,  # floating[:, :, ::1]  SCRATCH (threads, n_h, block): A1
    D: np.ndarray,  # floating[:, :, ::1]  SCRATCH (threads, n_h, block): dZ1
    O: np.ndarray,  # floating[:, :, ::1]  SCRATCH (threads, n_y, block)
    tmp: np.ndarray,  # floating[:, ::1]  SCRATCH (threads, block)
    G: np.ndarray,  # floating[:, ::1]  SCRATCH (threads, n_h n_x + n_h + n_y n_h + n_y): gradient sums
    loss: np.ndarray,  # double[::1]  SCRATCH (threads,)
    signal_every: int = 0,
) -> None:
    """Iterations first .. first + count - 1 of full-batch gradient descent, in place.

    Each: forward, the cost into costs[i - first] when i % cost_every == 0
    (taken before the update), backward, W := W - learning_rate * dW.  The
    examples are processed in column blocks of H.shape[2], so that a block's
    hidden layer stays in cache from the forward pass to the backward pass.

    With one thread (H.shape[0] == 1) the gradients are summed over the blocks
    in order.  With several, an OpenMP team shares the blocks (a static
    schedule: each thread a fixed run of consecutive blocks, and its own
    scratch and gradient sums) and then the parameters, each the sum of the
    threads' sums in thread order: results are reproducible for a given thread
    count, and differ between thread counts by summation order only.  The
    caller limits BLAS to one thread, so that no BLAS thread competes with the
    team.

    With signal_every > 0 (one thread only), Python's signal handlers run
    after every signal_every blocks (the GIL taken for that moment only), so
    that Ctrl-C interrupts a long call: KeyboardInterrupt propagates, leaving
    the parameters somewhere between two iterations.
    """

def gemm_check(
    trans_a: bool,
    trans_b: bool,
    A: np.ndarray,  # const floating[:, ::1]  IN  op(A) is (M, K)
    B: np.ndarray,  # const floating[:, ::1]  IN  op(B) is (K, N)
    alpha: float,
    beta: float,
    C: np.ndarray,  # floating[:, ::1]  IN/OUT (M, N)
) -> None:
    """C := alpha * op(A) @ op(B) + beta * C through the BLAS wrapper (for tests)."""

def product_check(
    W: np.ndarray,  # const floating[:, ::1]  IN  (rows, K)
    X: np.ndarray,  # const floating[:, ::1]  IN  (K, m)
    out: np.ndarray,  # floating[:, ::1]  OUT (rows, m)
    blas: bool,
) -> None:
    """out := W @ X through BLAS or through the loop nest (for tests and benches/crossover.py)."""

def all_finite(
    a: np.ndarray,  # const floating[:, :]  IN  any strides
) -> bool:
    """True when no element of `a` is NaN or infinite (input validation, no temporary)."""

class _NetworkFinite(Protocol):
    def __call__(
        self,
        X: np.ndarray,  # const floating[:, :]  IN  any strides
        W1: np.ndarray,  # const floating[:, :]  IN
        b1: np.ndarray,  # const floating[:, :]  IN
        W2: np.ndarray,  # const floating[:, :]  IN
        b2: np.ndarray,  # const floating[:, :]  IN
    ) -> bool:
        """all_finite of each of X, W1, b1, W2, b2 of one dtype, in one call (prediction latency)."""
    def __getitem__(self, specialisation: str, /) -> _NetworkFinite:
        """The entry of one dtype: "double" or "float"."""

network_finite: _NetworkFinite

def train_epoch(
    X: np.ndarray,  # const floating[:, ::1]  IN  (n_x, m)
    Y: np.ndarray,  # const floating[:, ::1]  IN  (n_y, m)
    sw: np.ndarray,  # const floating[::1]  IN  (m,) sample weights
    order: np.ndarray,  # const Py_ssize_t[::1]  IN  (m,) permutation, or (0,): natural order
    batch_size: int,
    W1: np.ndarray,  # floating[:, ::1]  IN/OUT (n_h, n_x)
    b1: np.ndarray,  # floating[::1]  IN/OUT (n_h,)
    W2: np.ndarray,  # floating[:, ::1]  IN/OUT (n_y, n_h)
    b2: np.ndarray,  # floating[::1]  IN/OUT (n_y,)
    mW1: np.ndarray,  # floating[:, ::1]  IN/OUT first moments / velocities
    mb1: np.ndarray,  # floating[::1]
    mW2: np.ndarray,  # floating[:, ::1]
    mb2: np.ndarray,  # floating[::1]
    vW1: np.ndarray,  # floating[:, ::1]  IN/OUT second moments (adam)
    vb1: np.ndarray,  # floating[::1]
    vW2: np.ndarray,  # floating[:, ::1]
    vb2: np.ndarray,  # floating[::1]
    t: np.ndarray,  # long long[::1]  IN/OUT (1,) updates so far
    act: int,
    solver: int,
    learning_rate: float,
    momentum: float,
    nesterov: bool,
    beta_1: float,
    beta_2: float,
    epsilon: float,
    alpha: float,
    Xb: np.ndarray,  # floating[:, ::1]  SCRATCH (n_x, batch_size)
    Yb: np.ndarray,  # floating[:, ::1]  SCRATCH (n_y, batch_size)
    swb: np.ndarray,  # floating[::1]  SCRATCH (batch_size,)
    H: np.ndarray,  # floating[:, ::1]  SCRATCH (n_h, batch_size): A1
    D: np.ndarray,  # floating[:, ::1]  SCRATCH (n_h, batch_size): dZ1, apart from A1 so the sweep vectorises
    O: np.ndarray,  # floating[:, ::1]  SCRATCH (n_y, batch_size)
    tmp: np.ndarray,  # floating[::1]  SCRATCH (batch_size,)
    dW1: np.ndarray,  # floating[:, ::1]  SCRATCH (n_h, n_x)
    db1: np.ndarray,  # floating[::1]  SCRATCH (n_h,)
    dW2: np.ndarray,  # floating[:, ::1]  SCRATCH (n_y, n_h)
    db2: np.ndarray,  # floating[::1]  SCRATCH (n_y,)
    signal_every: int = 0,
    out: int = 0,  # a value of OUTPUT_CODES
) -> float:
    """One epoch of mini-batch training, in place; returns sum over batches of loss_b * len(b).

    For a batch b (columns order[j0:j0 + batch_size]) with weights w, sw = sum(w):
    loss_b = -sum(w * log-likelihood) / sw + alpha / 2 * (|W1|^2 + |W2|^2) / sw;
    the output delta is (A2 - Y) * w; weight gradients are (sums + alpha * W) / sw and
    bias gradients sums / sw, as in scikit-learn's MLP; then one sgd or adam step.
    """

def loss_gradient(
    X: np.ndarray,  # const floating[:, ::1]  IN  (n_x, m), m >= 1
    Y: np.ndarray,  # const floating[:, ::1]  IN  (n_y, m)
    sw: np.ndarray,  # const floating[::1]  IN  (m,) sample weights
    W1: np.ndarray,  # const floating[:, ::1]  IN  (n_h, n_x)
    b1: np.ndarray,  # const floating[::1]  IN  (n_h,)
    W2: np.ndarray,  # const floating[:, ::1]  IN  (n_y, n_h)
    b2: np.ndarray,  # const floating[::1]  IN  (n_y,)
    act: int,
    output: int,
    alpha: float,
    dW1: np.ndarray,  # floating[:, ::1]  OUT (n_h, n_x)
    db1: np.ndarray,  # floating[::1]  OUT (n_h,)
    dW2: np.ndarray,  # floating[:, ::1]  OUT (n_y, n_h)
    db2: np.ndarray,  # floating[::1]  OUT (n_y,)
    H: np.ndarray,  # floating[:, ::1]  SCRATCH (n_h, block), block >= 1: A1
    D: np.ndarray,  # floating[:, ::1]  SCRATCH (n_h, block): dZ1
    O: np.ndarray,  # floating[:, ::1]  SCRATCH (n_y, block)
    tmp: np.ndarray,  # floating[::1]  SCRATCH (block,)
) -> float:
    """The full-batch loss of scikit-learn's MLP and its gradient, block of columns by block of columns."""

def loss_gradient_csr(
    data: np.ndarray,  # const floating[::1]  IN  (nnz,) X's stored values
    indices: np.ndarray,  # const Py_ssize_t[::1]  IN  (nnz,) their columns, in [0, n_x)
    indptr: np.ndarray,  # const Py_ssize_t[::1]  IN  (m + 1,) row j: indptr[j] .. indptr[j + 1]
    Y: np.ndarray,  # const floating[:, ::1]  IN  (n_y, m)
    sw: np.ndarray,  # const floating[::1]  IN  (m,) sample weights
    W1: np.ndarray,  # const floating[:, ::1]  IN  (n_h, n_x)
    b1: np.ndarray,  # const floating[::1]  IN  (n_h,)
    W2: np.ndarray,  # const floating[:, ::1]  IN  (n_y, n_h)
    b2: np.ndarray,  # const floating[::1]  IN  (n_y,)
    act: int,
    output: int,
    alpha: float,
    dW1: np.ndarray,  # floating[:, ::1]  OUT (n_h, n_x)
    db1: np.ndarray,  # floating[::1]  OUT (n_h,)
    dW2: np.ndarray,  # floating[:, ::1]  OUT (n_y, n_h)
    db2: np.ndarray,  # floating[::1]  OUT (n_y,)
    H: np.ndarray,  # floating[:, ::1]  SCRATCH (n_h, block), block >= 1: A1
    D: np.ndarray,  # floating[:, ::1]  SCRATCH (n_h, block): dZ1
    O: np.ndarray,  # floating[:, ::1]  SCRATCH (n_y, block)
    tmp: np.ndarray,  # floating[::1]  SCRATCH (block,)
    WT: np.ndarray,  # floating[:, ::1]  SCRATCH (n_x, n_h): W1.T
    GT: np.ndarray,  # floating[:, ::1]  SCRATCH (n_x, n_h): dW1.T
    ZT: np.ndarray,  # floating[:, ::1]  SCRATCH (block, n_h)
) -> float:
    """loss_gradient for X given as CSR (m, n_x), one example per row, over its stored entries."""

def predict_csr(
    data: np.ndarray,  # const floating[::1]  IN  (nnz,) X's stored values
    indices: np.ndarray,  # const Py_ssize_t[::1]  IN  (nnz,) their columns, in [0, n_x)
    indptr: np.ndarray,  # const Py_ssize_t[::1]  IN  (m + 1,)
    W1: np.ndarray,  # const floating[:, ::1]  IN  (n_h, n_x)
    b1: np.ndarray,  # const floating[::1]  IN  (n_h,)
    W2: np.ndarray,  # const floating[:, ::1]  IN  (n_y, n_h)
    b2: np.ndarray,  # const floating[::1]  IN  (n_y,)
    act: int,
    output: int,
    A2: np.ndarray,  # floating[:, ::1]  OUT (n_y, m)
    H: np.ndarray,  # floating[:, ::1]  SCRATCH (n_h + 1, block), block >= 1
    WT: np.ndarray,  # floating[:, ::1]  SCRATCH (n_x, n_h): W1.T
    ZT: np.ndarray,  # floating[:, ::1]  SCRATCH (block, n_h)
) -> None:
    """A2 := out(W2 @ g(W1 @ X.T + b1) + b2) for X given as CSR (m, n_x), block by block of rows."""

def predict_scratch(n_x: int, n_h: int, n_y: int, block: int, rows: bool) -> int:
    """The scratch elements one thread of a prediction entry needs for blocks of `block` examples."""

class _PredictRows(Protocol):
    def __call__(
        self,
        X: np.ndarray,  # const floating[:, ::1]  IN  (m, n_x): one example per row
        W1: np.ndarray,  # const floating[:, ::1]  IN  (n_h, n_x)
        b1: np.ndarray,  # const floating[::1]  IN  (n_h,)
        W2: np.ndarray,  # const floating[:, ::1]  IN  (n_y, n_h)
        b2: np.ndarray,  # const floating[::1]  IN  (n_y,)
        act: int,
        output: int,
        out: np.ndarray,  # floating[:, ::1]  OUT (m, n_y)
        S: np.ndarray,  # floating[:, ::1]  SCRATCH (team, predict_scratch(..., block, True))
        block: int,
    ) -> None:
        """out := output(X @ W1.T + b1 -> g -> @ W2.T + b2), block of rows by block of rows."""
    def __getitem__(self, specialisation: str, /) -> _PredictRows:
        """The entry of one dtype: "double" or "float"."""

predict_rows: _PredictRows

def predict_labels(parameters: object, X: object, activation: object, most: float) -> np.ndarray | None:
    """fast.predict(parameters, X, activation=activation) in one call for the common case, else None."""

def train_epoch_csr(
    data: np.ndarray,  # const floating[::1]  IN  (nnz,) X's stored values
    indices: np.ndarray,  # const Py_ssize_t[::1]  IN  (nnz,) their columns, in [0, n_x)
    indptr: np.ndarray,  # const Py_ssize_t[::1]  IN  (m + 1,) row j: indptr[j] .. indptr[j + 1]
    Y: np.ndarray,  # const floating[:, ::1]  IN  (n_y, m)
    sw: np.ndarray,  # const floating[::1]  IN  (m,) sample weights
    order: np.ndarray,  # const Py_ssize_t[::1]  IN  (m,) permutation, or (0,): natural order
    batch_size: int,
    W1: np.ndarray,  # floating[:, ::1]  IN/OUT (n_h, n_x)
    b1: np.ndarray,  # floating[::1]  IN/OUT (n_h,)
    W2: np.ndarray,  # floating[:, ::1]  IN/OUT (n_y, n_h)
    b2: np.ndarray,  # floating[::1]  IN/OUT (n_y,)
    mW1: np.ndarray,  # floating[:, ::1]  IN/OUT first moments / velocities
    mb1: np.ndarray,  # floating[::1]
    mW2: np.ndarray,  # floating[:, ::1]
    mb2: np.ndarray,  # floating[::1]
    vW1: np.ndarray,  # floating[:, ::1]  IN/OUT second moments (adam)
    vb1: np.ndarray,  # floating[::1]
    vW2: np.ndarray,  # floating[:, ::1]
    vb2: np.ndarray,  # floating[::1]
    t: np.ndarray,  # long long[::1]  IN/OUT (1,) updates so far
    act: int,
    output: int,
    solver: int,
    learning_rate: float,
    momentum: float,
    nesterov: bool,
    beta_1: float,
    beta_2: float,
    epsilon: float,
    alpha: float,
    Yb: np.ndarray,  # floating[:, ::1]  SCRATCH (n_y, batch_size)
    swb: np.ndarray,  # floating[::1]  SCRATCH (batch_size,)
    H: np.ndarray,  # floating[:, ::1]  SCRATCH (n_h, batch_size): A1
    D: np.ndarray,  # floating[:, ::1]  SCRATCH (n_h, batch_size): dZ1
    O: np.ndarray,  # floating[:, ::1]  SCRATCH (n_y, batch_size)
    tmp: np.ndarray,  # floating[::1]  SCRATCH (batch_size,)
    dW1: np.ndarray,  # floating[:, ::1]  SCRATCH (n_h, n_x)
    db1: np.ndarray,  # floating[::1]  SCRATCH (n_h,)
    dW2: np.ndarray,  # floating[:, ::1]  SCRATCH (n_y, n_h)
    db2: np.ndarray,  # floating[::1]  SCRATCH (n_y,)
    WT: np.ndarray,  # floating[:, ::1]  SCRATCH (n_x, n_h): W1.T
    GT: np.ndarray,  # floating[:, ::1]  SCRATCH (n_x, n_h): dW1.T
    ZT: np.ndarray,  # floating[:, ::1]  SCRATCH (batch_size, n_h)
    signal_every: int = 0,
) -> float:
    """train_epoch for X given as CSR (m, n_x), one example per row; a batch is a list of rows."""

def cpu_level() -> int:
    """0: baseline only; 1: AVX2 and FMA; 2: also AVX-512 (F, DQ, BW, VL), as the CPU and OS report."""

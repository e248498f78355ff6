# The codes the entries take (solver, hidden activation), the size thresholds
# above which products go to BLAS, and what the build was compiled with.

cdef extern from *:
    """
    #ifndef SNF_DEBUG
    #define SNF_DEBUG 0
    #endif
    """
    int SNF_DEBUG

# Mini-batch solvers of train_epoch.
cdef enum:
    SGD = 0
    ADAM = 1
    N_SOLVERS = 2

SOLVER_CODES = {"gd": SGD, "sgd": SGD, "adam": ADAM}

# Hidden activations, numbered in the order of shallownet_fast._validation.ACTIVATIONS
# ("logistic" is scikit-learn's name of "sigmoid": the same code).
cdef enum:
    TANH = 0
    RELU = 1
    LEAKY_RELU = 2
    SIGMOID = 3
    IDENTITY = 4
    N_ACTIVATIONS = 5

ACTIVATION_CODES = {"tanh": TANH, "relu": RELU, "leaky_relu": LEAKY_RELU, "sigmoid": SIGMOID,
                    "identity": IDENTITY, "logistic": SIGMOID}

# Output layers of train_epoch: OUT_AUTO is a sigmoid for one output row and a
# softmax otherwise (the classifier's single-label outputs); OUT_LOGISTIC a
# sigmoid per row (multilabel); OUT_IDENTITY the identity with the halved squared
# error (the regressor); OUT_SOFTMAX the column softmax (n_y >= 2; for train_epoch
# the same as OUT_AUTO).
cdef enum:
    OUT_AUTO = 0
    OUT_LOGISTIC = 1
    OUT_IDENTITY = 2
    OUT_SOFTMAX = 3
    N_OUTPUTS = 4

OUTPUT_CODES = {"auto": OUT_AUTO, "softmax": OUT_SOFTMAX, "logistic": OUT_LOGISTIC, "identity": OUT_IDENTITY}

# When a product W @ X (W of rows x K) runs in BLAS rather than in the loop
# nests here.  Measured with benches/crossover.py on the 2-core machine (AVX-512
# kernels, OpenBLAS 0.3.30 on one thread, m = 400 and 10 000): BLAS is faster
# from K = 4 on, and for K = 2 from 16 rows on; with K = 1 the loops win or tie.
cdef enum:
    _BLAS_MIN_K = 4
    _BLAS_MIN_WORK = 32

BLAS_MIN_K = _BLAS_MIN_K
BLAS_MIN_WORK = _BLAS_MIN_WORK


def team_enabled():
    """True when the extension was built with POSIX threads: `train` can run a team of threads.

    The team's threads are created for one call and joined before it returns
    (src/_team.h); without POSIX threads `train` runs on the calling thread.

    Returns
    -------
    bool
    """
    return bool(SNF_PTHREADS)


def openmp_enabled():
    """Whether `train` can run a team of threads: the same as team_enabled() (the name of older releases).

    The kernels no longer use OpenMP; their team is of their own threads.

    Returns
    -------
    bool
    """
    return bool(SNF_PTHREADS)


def set_gemm_limit(double limit):
    """Bound M * N * K of each BLAS product the kernels issue on the calling thread; returns the previous bound.

    Larger products are computed in pieces below the bound (0: no bound).  The
    bound belongs to the calling thread alone (thread-local): no other thread
    sees it, and a team of `train` inherits it for the call.  With a BLAS that
    runs products below a size on the calling thread only (OpenBLAS:
    65536 * 4), a bound of that size keeps BLAS off its own threads without
    touching its process-wide thread count.

    Parameters
    ----------
    limit : float
        The bound, >= 0.

    Returns
    -------
    float
        The calling thread's previous bound.
    """
    global snf_gemm_limit
    if not limit >= 0:
        raise ValueError(f"limit must be >= 0, got {limit!r}")
    previous = snf_gemm_limit
    snf_gemm_limit = limit
    return previous


def debug_build():
    """True for a debug build (SHALLOWNET_FAST_DEBUG=1: bounds checking on).

    Returns
    -------
    bool
    """
    return bool(SNF_DEBUG)

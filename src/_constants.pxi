# The codes the entries take (solver, hidden activation), the size thresholds
# above which products go to BLAS, and what the build was compiled with.

cdef extern from *:
    """
    #ifdef _OPENMP
    #define SNF_OPENMP 1
    #else
    #define SNF_OPENMP 0
    #endif
    #ifndef SNF_DEBUG
    #define SNF_DEBUG 0
    #endif
    """
    int SNF_OPENMP
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
# error (the regressor).
cdef enum:
    OUT_AUTO = 0
    OUT_LOGISTIC = 1
    OUT_IDENTITY = 2
    N_OUTPUTS = 3

OUTPUT_CODES = {"auto": OUT_AUTO, "softmax": OUT_AUTO, "logistic": OUT_LOGISTIC, "identity": OUT_IDENTITY}

# When a product W @ X (W of rows x K) runs in BLAS rather than in the loop
# nests here.  Measured with benches/crossover.py on the 2-core machine (AVX-512
# kernels, OpenBLAS 0.3.30 on one thread, m = 400 and 10 000): BLAS is faster
# from K = 4 on, and for K = 2 from 16 rows on; with K = 1 the loops win or tie.
cdef enum:
    _BLAS_MIN_K = 4
    _BLAS_MIN_WORK = 32

BLAS_MIN_K = _BLAS_MIN_K
BLAS_MIN_WORK = _BLAS_MIN_WORK


def openmp_enabled():
    """True when the extension was compiled with OpenMP.

    Returns
    -------
    bool
        Whether `train` can run a team of threads.
    """
    return bool(SNF_OPENMP)


def debug_build():
    """True for a debug build (SHALLOWNET_FAST_DEBUG=1: bounds checking on).

    Returns
    -------
    bool
    """
    return bool(SNF_DEBUG)

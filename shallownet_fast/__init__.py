"""shallownet_fast: a one-hidden-layer neural network, twice.

- :mod:`shallownet_fast.reference`: plain NumPy, the textbook equations (the specification).
- :mod:`shallownet_fast.fast`: the same functions on compiled kernels, same results, faster.
- :mod:`shallownet_fast.datasets`: small data sets generated locally.
"""

from . import datasets, fast, reference
from ._dispatch import kernels as _kernels
from ._dispatch import variant as kernel_variant

openmp_enabled = _kernels.openmp_enabled

__version__ = "0.1.0"
__all__ = ["datasets", "fast", "reference", "kernel_variant", "openmp_enabled", "__version__"]


def __getattr__(name):
    # The estimators need scikit-learn (an optional dependency): imported on first use,
    # so that `import shallownet_fast` works without it.
    if name in ("ShallowNetClassifier", "ShallowNetRegressor"):
        from . import estimators

        return getattr(estimators, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

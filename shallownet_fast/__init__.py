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

"""shallownet_fast: a one-hidden-layer neural network, twice.

- :mod:`shallownet_fast.reference`: plain NumPy, the textbook equations (the specification).
- :mod:`shallownet_fast.fast`: the same functions on compiled kernels, same results, faster.
- :mod:`shallownet_fast.datasets`: small data sets generated locally.
"""

from . import datasets, fast, reference
from ._core import openmp_enabled

__version__ = "0.1.0"
__all__ = ["datasets", "fast", "reference", "openmp_enabled", "__version__"]

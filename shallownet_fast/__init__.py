"""shallownet_fast: a one-hidden-layer neural network, twice.

- :mod:`shallownet_fast.reference`: plain NumPy, the textbook equations (the specification).
- :mod:`shallownet_fast.fast`: the same functions on compiled kernels, same results, faster.
- :mod:`shallownet_fast.datasets`: small data sets generated locally.
"""

from ._version import __version__

try:
    from . import _core as _compiled  # noqa: F401  (the baseline kernels: present in every build)
except ImportError as _exc:
    import os as _os
    from importlib.machinery import EXTENSION_SUFFIXES as _SUFFIXES

    _here = _os.path.dirname(_os.path.abspath(__file__))
    _source_tree = _os.path.exists(_os.path.join(_os.path.dirname(_here), "src", "_kernels.pxi"))
    _built = any(_os.path.exists(_os.path.join(_here, "_core" + _suffix)) for _suffix in _SUFFIXES)
    raise ImportError(
        (
            f"shallownet_fast: the compiled kernels in {_here} do not load ({_exc}). "
            if _built
            else f"shallownet_fast: the compiled kernels are not built in {_here}. "
        )
        + (
            "This is a source tree: build them with `pip install -e .` (or `python setup.py build_ext --inplace`)"
            " here, or, to use an installed shallownet_fast, run Python from another directory."
            if _source_tree
            else "Reinstall the package: pip install --force-reinstall shallownet_fast"
        )
    ) from None

from . import datasets, fast, reference  # noqa: E402
from ._dispatch import kernels as _kernels  # noqa: E402
from ._dispatch import variant as kernel_variant  # noqa: E402

openmp_enabled = _kernels.openmp_enabled

__all__ = ["datasets", "fast", "reference", "kernel_variant", "openmp_enabled", "__version__"]


def __getattr__(name):
    # The estimators need scikit-learn (an optional dependency): imported on first use,
    # so that `import shallownet_fast` works without it.
    if name in ("ShallowNetClassifier", "ShallowNetRegressor"):
        from . import estimators

        return getattr(estimators, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

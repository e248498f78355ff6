"""Run-time choice of the compiled kernels for this CPU.

setup.py builds the kernels once for any x86-64 (`_core`) and, where the
compiler allows, for AVX2+FMA (`_core_avx2`) and AVX-512 (`_core_avx512`).
`kernels` is the best of them that this CPU supports.  The environment
variable SHALLOWNET_FAST_KERNELS=baseline|avx2|avx512 asks for one
explicitly (for testing and benchmarking); asking for one the CPU cannot run
raises ImportError rather than crashing later.

To mypy, `kernels` is the module of _core.pyi, the one stub of all three
variants, so that calls into the kernels are type-checked.
"""

import importlib
import os
from types import ModuleType
from typing import TYPE_CHECKING

from . import _core

_LEVELS = {"baseline": 0, "avx2": 1, "avx512": 2}


def available() -> list[str]:
    """The kernel variants that are built and that this CPU can run, best first."""
    names = []
    for name in ("avx512", "avx2"):
        if _LEVELS[name] <= _core.cpu_level():
            try:
                importlib.import_module(f"shallownet_fast._core_{name}")
            except ImportError:
                continue
            names.append(name)
    return names + ["baseline"]


def load(name: str) -> ModuleType:
    """The kernel module of variant `name` ("baseline", "avx2" or "avx512")."""
    if name not in _LEVELS:
        raise ValueError(f"unknown kernel variant {name!r}; choose one of {sorted(_LEVELS)}")
    if name == "baseline":
        return _core
    if _LEVELS[name] > _core.cpu_level():
        raise ImportError(f"this CPU cannot run the {name} kernels")
    return importlib.import_module(f"shallownet_fast._core_{name}")


def _select() -> tuple[str, ModuleType]:
    wanted = os.environ.get("SHALLOWNET_FAST_KERNELS", "").strip().lower()
    name = wanted or available()[0]
    return name, load(name)


if TYPE_CHECKING:
    from . import _core as kernels

    variant: str
else:
    variant, kernels = _select()

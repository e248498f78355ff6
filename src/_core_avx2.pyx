"""Compiled kernels of the shallow network, built with the avx2 flags of setup.py.

Imported only when shallownet_fast/_dispatch.py finds the CPU supports them.
"""

include "_kernels.pxi"

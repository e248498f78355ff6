"""Compiled kernels of the shallow network, for any x86-64 (or other) CPU.

The kernels are in _kernels.pxi (which includes one file per concern); this module adds what only the baseline
build needs: the CPU-feature probe that shallownet_fast/_dispatch.py uses to
pick between this module, _core_avx2 and _core_avx512.
"""

include "_kernels.pxi"

cdef extern from *:
    """
    static int snf_cpu_level(void) {
    #if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")
                && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")
                && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            return 2;
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            return 1;
    #endif
        return 0;
    }
    """
    int snf_cpu_level() nogil


def cpu_level():
    """0: baseline only; 1: AVX2 and FMA; 2: also AVX-512 (F, DQ, BW, VL), as the CPU and OS report.

    Returns
    -------
    int
        The best kernel variant this CPU can run.
    """
    return snf_cpu_level()

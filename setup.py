"""Build of the compiled kernels (shallownet_fast._core from src/_core.pyx).

Everything that shapes the compiled code is set here, once:
- the Cython directives (SHALLOWNET_FAST_DEBUG=1 turns bounds and
  initialisation checks back on for a debug build);
- the C flags: -O3, -fno-math-errno (lets GCC vectorise loops that call
  tanh/exp/log without giving up IEEE arithmetic), -ffp-contract=off (no
  fused multiply-adds, so every operation rounds as NumPy's does);
- glibc's vector math library (libmvec), used when a test program that
  needs it compiles, links and runs;
- POSIX threads (the training kernel's own team, src/_team.h), likewise
  detected by a test program; without them the build is serial;
- the instruction sets: on x86-64 the kernels are compiled three times, for
  any x86-64 (shallownet_fast._core), for AVX2+FMA (_core_avx2) and for
  AVX-512 (_core_avx512); shallownet_fast/_dispatch.py imports the best one
  the running CPU supports.  A variant whose flags this compiler does not
  take is left out.  No -march flag is ever added, so a wheel runs anywhere.
"""

import os
import platform
import subprocess
import sys
import tempfile
import textwrap

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools._distutils.ccompiler import new_compiler
from setuptools._distutils.errors import CompileError, LinkError
from setuptools._distutils.sysconfig import customize_compiler

DEBUG = os.environ.get("SHALLOWNET_FAST_DEBUG", "0") not in ("", "0")

DIRECTIVES = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": False,
    "initializedcheck": DEBUG,
    "cdivision": True,
    "embedsignature": True,
}

BASE_FLAGS = ["-O3", "-fno-math-errno", "-ffp-contract=off"]

# Extra flags of each instruction-set variant; FMA is enabled for the vector
# maths library's sake, while -ffp-contract=off keeps our own arithmetic unfused.
VARIANTS = {
    "avx2": ["-mavx2", "-mfma"],
    "avx512": ["-mavx512f", "-mavx512dq", "-mavx512bw", "-mavx512vl", "-mavx2", "-mfma", "-mprefer-vector-width=512"],
}

LIBMVEC_TEST = textwrap.dedent(
    """
    #define SNF_LIBMVEC
    #include "_vmath.h"
    #include <stdio.h>
    double a[64];
    int main(void) {
        int i;
        double s = 0;
        for (i = 0; i < 64; i++) a[i] = i * 0.01;
        for (i = 0; i < 64; i++) a[i] = expm1(a[i]) + exp(-a[i]) + log1p(a[i]);
        for (i = 0; i < 64; i++) s += a[i];
        printf("%f", s);
        return s > 0 ? 0 : 1;
    }
    """
)

PTHREADS_TEST = textwrap.dedent(
    """
    #include <pthread.h>
    #include <stdio.h>
    static void *work(void *arg) { *(int *)arg = 1; return NULL; }
    int main(void) {
        pthread_t t;
        int n = 0;
        if (pthread_create(&t, NULL, work, &n) != 0 || pthread_join(t, NULL) != 0) return 1;
        printf("%d", n);
        return n == 1 ? 0 : 1;
    }
    """
)


def _try_program(source, compile_args, link_args, libraries=(), run=True):
    """Compile, link and (with run) run a small C program; True when all of it works."""
    compiler = new_compiler()
    customize_compiler(compiler)
    here = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "test.c")
        with open(path, "w") as f:
            f.write(source)
        try:
            objects = compiler.compile(
                [path], output_dir=tmp, include_dirs=[os.path.join(here, "src")], extra_postargs=compile_args
            )
            exe = os.path.join(tmp, "test")
            compiler.link_executable(objects, exe, libraries=list(libraries), extra_postargs=link_args)
            if run:
                subprocess.run([exe], check=True, capture_output=True, timeout=60)
        except (CompileError, LinkError, OSError, subprocess.SubprocessError):
            return False
    return True


def _configure():
    compile_args, link_args, macros, libraries = list(BASE_FLAGS), [], [("SNF_DEBUG", "1" if DEBUG else "0")], []
    if sys.platform.startswith("linux") and _try_program(LIBMVEC_TEST, BASE_FLAGS, [], ["mvec", "m"]):
        macros.append(("SNF_LIBMVEC", "1"))
        libraries += ["mvec", "m"]
    else:
        print("shallownet_fast: glibc's libmvec is not usable here; the kernels call scalar libm", file=sys.stderr)
    if _try_program(PTHREADS_TEST, ["-pthread"], ["-pthread"]):
        compile_args.append("-pthread")
        link_args.append("-pthread")
        macros.append(("SNF_PTHREADS", "1"))
    else:
        print("shallownet_fast: POSIX threads are not available; building the serial kernels", file=sys.stderr)
    return compile_args, link_args, macros, libraries


compile_args, link_args, macros, libraries = _configure()


def _extension(suffix="", flags=()):
    name = "_core" + (f"_{suffix}" if suffix else "")
    return Extension(
        f"shallownet_fast.{name}",
        [f"src/{name}.pyx"],
        include_dirs=["src"],
        define_macros=macros,
        libraries=libraries,
        extra_compile_args=compile_args + list(flags),
        extra_link_args=link_args,
    )


extensions = [_extension()]
if platform.machine().lower() in ("x86_64", "amd64"):
    for suffix, flags in VARIANTS.items():
        # Compiled and linked, not run: the build machine may lack the instructions.
        probe = LIBMVEC_TEST if libraries else "int main(void) { return 0; }"
        if _try_program(probe, BASE_FLAGS + flags, [], libraries, run=False):
            extensions.append(_extension(suffix, flags))
        else:
            print(f"shallownet_fast: the compiler does not take {flags}; no {suffix} kernels", file=sys.stderr)

setup(
    ext_modules=cythonize(
        extensions,
        include_path=["src"],
        compiler_directives=DIRECTIVES,
        # Cython regenerates C by timestamps only: a debug build must not reuse
        # C generated with the checks off (nor the other way round).
        build_dir="build/cython-debug" if DEBUG else None,
    ),
)

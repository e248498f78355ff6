"""Build of the compiled kernels (shallownet_fast._core* from src/_core*.pyx).

Everything that shapes the compiled code is set here, once.  The probes (is
there a C compiler, do POSIX threads work, does the compiler take the flags of an
instruction-set variant) run inside `build_ext`, so `sdist`, `egg_info` and
metadata queries compile nothing.

Build options (environment variables read when the extensions are built):

  SHALLOWNET_FAST_THREADS=auto|0|1    the training kernel's own team of POSIX
                                      threads (src/_team.h): auto (default)
                                      uses them when a test program compiles,
                                      links and runs with -pthread, and says
                                      so when it does not; 1 fails the build
                                      without them; 0 builds the serial kernels.
  SHALLOWNET_FAST_VMATH=1|0           1 (default): exp, expm1, log, log1p are
                                      the inline, vectorisable functions of
                                      src/_vmath.h (no libm call, no libmvec);
                                      0: libm's, scalar (for comparison).
  SHALLOWNET_FAST_VARIANTS=auto|LIST  the instruction-set variants to compile:
                                      LIST is baseline and any of avx2, avx512
                                      (comma-separated, baseline always
                                      included); auto (default) is every one
                                      this compiler takes on x86-64 (only
                                      baseline elsewhere).  A listed variant
                                      that cannot be built fails the build.
  SHALLOWNET_FAST_DEBUG=1             Cython's bounds and initialisation
                                      checks on (a debug build).

The C flags: -O3, -fno-math-errno and -fno-trapping-math (so GCC vectorises
the loops over src/_vmath.h's functions), -ffp-contract=off (no fused
multiply-adds, so every operation rounds as NumPy's does, in every variant).  The variants:
shallownet_fast._core for any CPU of the architecture, _core_avx2 (AVX2+FMA)
and _core_avx512 (AVX-512 F/DQ/BW/VL); shallownet_fast/_dispatch.py imports
the best one the running CPU supports.  No -march flag is ever added, so a
wheel runs anywhere.
"""

import os
import platform
import sys
import sysconfig
import tempfile
import textwrap

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))


def _option(name, default, allowed):
    value = os.environ.get(name, "").strip().lower() or default
    if value not in allowed:
        raise SystemExit(f"shallownet_fast: {name}={value!r} is not one of {', '.join(allowed)}")
    return value


DEBUG = os.environ.get("SHALLOWNET_FAST_DEBUG", "0") not in ("", "0")

DIRECTIVES = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": False,
    "initializedcheck": DEBUG,
    "cdivision": True,
    "embedsignature": True,
}

# -fno-trapping-math: the selects of src/_vmath.h's special cases may be computed
# unconditionally (no program here reads the floating-point exception flags), which
# is what lets GCC vectorise the loops; results are IEEE's either way.
GCC_FLAGS = ["-O3", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off"]
MSVC_FLAGS = ["/O2", "/fp:precise"]

# Extra flags of each instruction-set variant (GCC/Clang, MSVC).  FMA is
# allowed as an instruction set; -ffp-contract=off keeps our arithmetic unfused.
VARIANTS = {
    "avx2": (["-mavx2", "-mfma"], ["/arch:AVX2"]),
    "avx512": (
        ["-mavx512f", "-mavx512dq", "-mavx512bw", "-mavx512vl", "-mavx2", "-mfma", "-mprefer-vector-width=512"],
        ["/arch:AVX512"],
    ),
}
X86 = platform.machine().lower() in ("x86_64", "amd64", "x64")

HELLO = "int main(void) { return 0; }\n"

PYTHON_H = "#include <Python.h>\n"

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

# What a variant's flags must compile: a loop over the vector maths.
VMATH_TEST = textwrap.dedent(
    """
    #include "_vmath.h"
    double a[64];
    float b[64];
    int main(void) {
        int i;
        for (i = 0; i < 64; i++) a[i] = snf_expm1(a[i]) + snf_exp(-a[i]) + snf_log1p(a[i]) + snf_log(a[i] + 1);
        for (i = 0; i < 64; i++) b[i] = snf_expm1f(b[i]) + snf_expf(-b[i]) + snf_log1pf(b[i]) + snf_logf(b[i] + 1);
        return 0;
    }
    """
)


def _extension(name):
    import numpy  # a build requirement (pyproject.toml): the kernels read arrays through its C API

    return Extension(
        f"shallownet_fast.{name}",
        [f"src/{name}.pyx"],
        include_dirs=["src", numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")],
    )


def _say(message):
    print(f"shallownet_fast: {message}", file=sys.stderr, flush=True)


class BuildExt(build_ext):
    """build_ext that first checks the compiler, then configures and cythonizes the extensions."""

    def _try(self, source, compile_args=(), link_args=(), include_dirs=(), link=True, run=False):
        """Compile, link (unless not link) and run (with run) a small C program; None when it works, else the error."""
        import subprocess

        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "probe.c")
            with open(path, "w") as f:
                f.write(source)
            try:
                objects = self.compiler.compile(
                    [path],
                    output_dir=tmp,
                    include_dirs=[os.path.join(HERE, "src"), *include_dirs],
                    extra_postargs=list(compile_args),
                )
                if not link:
                    return None
                exe = os.path.join(tmp, "probe")
                self.compiler.link_executable(objects, exe, extra_postargs=list(link_args))
                if run:
                    subprocess.run(
                        [exe + self.compiler.exe_extension if self.compiler.exe_extension else exe],
                        check=True,
                        capture_output=True,
                        timeout=60,
                    )
            except Exception as exc:  # any failure of the compiler, the linker or the program: the probe says no
                return str(exc) or type(exc).__name__
        return None

    def _check_compiler(self):
        failure = self._try(HELLO)
        if failure is not None:
            raise SystemExit(
                "shallownet_fast: no working C compiler was found, and one is needed to build the compiled kernels"
                f" ({failure}).\n  Install one (Debian/Ubuntu: apt install gcc python3-dev; Fedora/RHEL: dnf install"
                " gcc python3-devel; macOS: xcode-select --install; Windows: the Visual Studio Build Tools), or"
                " install a released wheel: pip install --only-binary shallownet_fast shallownet_fast"
            )
        failure = self._try(PYTHON_H, include_dirs=[sysconfig.get_paths()["include"]], link=False)
        if failure is not None:
            raise SystemExit(
                "shallownet_fast: the C compiler works but Python's headers (Python.h) are missing"
                f" ({failure}).\n  Install them (Debian/Ubuntu: apt install python3-dev; Fedora/RHEL: dnf install"
                " python3-devel)"
            )

    def _configure(self):
        threads = _option("SHALLOWNET_FAST_THREADS", "auto", ("auto", "0", "1"))
        vmath = _option("SHALLOWNET_FAST_VMATH", "1", ("0", "1"))
        wanted = os.environ.get("SHALLOWNET_FAST_VARIANTS", "").strip().lower() or "auto"
        if wanted == "auto":
            variants = list(VARIANTS) if X86 else []
            explicit = False
        else:
            names = [v.strip() for v in wanted.split(",") if v.strip()]
            unknown = sorted(set(names) - {"baseline", *VARIANTS})
            if unknown:
                raise SystemExit(
                    f"shallownet_fast: SHALLOWNET_FAST_VARIANTS names {', '.join(unknown)}; choose among"
                    f" baseline, {', '.join(VARIANTS)} (or auto)"
                )
            variants = [v for v in VARIANTS if v in names]
            explicit = True
            if variants and not X86:
                raise SystemExit(f"shallownet_fast: the {', '.join(variants)} kernels need an x86-64 machine")

        msvc = self.compiler.compiler_type == "msvc"
        base = list(MSVC_FLAGS if msvc else GCC_FLAGS)
        macros = [("SNF_DEBUG", "1" if DEBUG else "0")]
        if vmath == "0":
            macros.append(("SNF_LIBM", "1"))
        link = []
        if threads != "0" and not msvc:
            failure = self._try(PTHREADS_TEST, ["-pthread"], ["-pthread"], run=True)
            if failure is None:
                base += ["-pthread"]
                link += ["-pthread"]
                macros.append(("SNF_PTHREADS", "1"))
                _say("threads: on (POSIX threads)")
            elif threads == "1":
                raise SystemExit(
                    f"shallownet_fast: SHALLOWNET_FAST_THREADS=1 but POSIX threads do not work here ({failure})"
                )
            else:
                _say(
                    "POSIX threads do not work with this compiler; building the serial kernels"
                    f" ({failure.strip()[:200]})"
                )
        elif threads == "1":
            raise SystemExit("shallownet_fast: SHALLOWNET_FAST_THREADS=1 but this compiler has no POSIX threads")
        else:
            _say("threads: off (the serial kernels)")

        chosen = [("_core", [])]
        for name in variants:
            flags = VARIANTS[name][1 if msvc else 0]
            # Compiled and linked, not run: the build machine may lack the instructions.
            failure = self._try(VMATH_TEST, base + flags)
            if failure is None:
                chosen.append((f"_core_{name}", flags))
            elif explicit:
                raise SystemExit(
                    f"shallownet_fast: the {name} kernels cannot be built: the compiler rejects {flags} ({failure})"
                )
            else:
                _say(f"the compiler does not take {' '.join(flags)}; no {name} kernels")
        _say(
            f"kernel variants: {', '.join(['baseline'] + [n[len('_core_') :] for n, _ in chosen[1:]])}; "
            f"vector maths: {'src/_vmath.h' if vmath == '1' else 'libm (scalar)'}; debug: {'on' if DEBUG else 'off'}"
        )

        flags_of = dict(chosen)
        flags_of.update({name.replace("_core", "_vmath"): flags for name, flags in chosen})
        # The distribution's own Extension objects (setuptools has annotated them), those chosen.
        extensions = [ext for ext in self.extensions if ext.name.split(".")[-1] in flags_of]
        for ext in extensions:
            ext.extra_compile_args = base + flags_of[ext.name.split(".")[-1]]
            ext.extra_link_args = list(link)
            ext.define_macros = list(macros)
            ext.libraries = [] if msvc else ["m"]  # for pow, whose version src/_vmath.h pins
        return extensions

    def run(self):
        from setuptools._distutils.ccompiler import new_compiler
        from setuptools._distutils.sysconfig import customize_compiler

        requested = self.compiler  # a --compiler name, or None
        self.compiler = new_compiler(compiler=requested)
        customize_compiler(self.compiler)
        self._check_compiler()
        extensions = self._configure()

        from Cython.Build import cythonize

        for ext in extensions:
            (generated,) = cythonize(
                [ext],
                include_path=["src"],
                compiler_directives=DIRECTIVES,
                # Cython regenerates C by timestamps only: a debug build must not reuse
                # C generated with the checks off (nor the other way round).
                build_dir="build/cython-debug" if DEBUG else None,
                quiet=True,
            )
            ext.sources = generated.sources
        self.extensions = extensions
        self.compiler = requested  # build_ext.run makes its own compiler from the name
        # setuptools rebuilds by timestamps only: a build with other options or
        # flags (a debug build after a normal one, say) must recompile everything.
        config = repr([(e.name, e.extra_compile_args, e.define_macros, e.extra_link_args) for e in extensions])
        stamp = os.path.join(self.build_temp, "shallownet_fast-options.txt")
        try:
            with open(stamp) as f:
                previous = f.read()
        except OSError:
            previous = None
        if previous != config:
            self.force = True
        super().run()
        os.makedirs(self.build_temp, exist_ok=True)
        with open(stamp, "w") as f:
            f.write(config)


# Every extension that can be built here; BuildExt.run keeps those the options
# and the probes allow, and adds their flags.  _vmath* apply src/_vmath.h to
# arrays, with the flags of the kernel variant of the same suffix, for
# tests/test_vmath.py.
SUFFIXES = [""] + [f"_{v}" for v in (VARIANTS if X86 else ())]
setup(
    ext_modules=[_extension(f"{stem}{suffix}") for stem in ("_core", "_vmath") for suffix in SUFFIXES],
    cmdclass={"build_ext": BuildExt},
)

"""The package as built and shipped: one version number, a clear message when the kernels are not
built, and setup.py's options and probes (those run in a source tree only: they need setup.py)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import shallownet_fast

PACKAGE = Path(shallownet_fast.__file__).resolve().parent
ROOT = Path(__file__).resolve().parents[1]  # the source tree (or sdist) holding these tests


def _source_tree():
    if not (ROOT / "setup.py").exists() or not (ROOT / "src" / "_vmath.h").exists():
        pytest.skip("no source tree (setup.py, src/) next to the tests")
    return ROOT


def _run(args, cwd, **env):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SHALLOWNET_FAST_")}
    full_env.update(env)
    return subprocess.run(args, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300)


def test_version_is_written_once():
    from shallownet_fast._version import __version__

    assert shallownet_fast.__version__ == __version__
    assert __version__.count(".") >= 2
    root = _source_tree()
    pyproject = (root / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert 'version = {attr = "shallownet_fast._version.__version__"}' in pyproject
    assert f'"{__version__}"' not in pyproject


def test_a_tree_without_compiled_kernels_says_how_to_build_them(tmp_path):
    # a copy of the sources without any compiled module, imported from its root, as
    # after a fresh clone (or a plain `pip install .` run from the project's root)
    shutil.copytree(
        PACKAGE, tmp_path / "shallownet_fast", ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__")
    )
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "_kernels.pxi").write_text("")
    # -S: no site-packages, so only this copy is importable (an editable install's finder would win otherwise)
    proc = _run([sys.executable, "-S", "-c", "import shallownet_fast"], tmp_path)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: shallownet_fast: the compiled kernels are not built"), proc.stderr
    assert "pip install -e ." in last and "another directory" in last, last
    assert "circular" not in proc.stderr
    # the same from a submodule import
    proc = _run([sys.executable, "-S", "-c", "import shallownet_fast.fast"], tmp_path)
    assert "the compiled kernels are not built" in proc.stderr.strip().splitlines()[-1]


def test_metadata_commands_compile_nothing(tmp_path):
    root = _source_tree()
    proc = _run([sys.executable, "setup.py", "-q", "egg_info", "--egg-base", str(tmp_path)], root)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout + proc.stderr
    for probe_sign in ("OpenMP", "gcc", "cc ", "kernel variants", "probe"):
        assert probe_sign not in out, f"egg_info printed {probe_sign!r}:\n{out}"


@pytest.mark.parametrize(
    "env, message",
    [
        ({"SHALLOWNET_FAST_THREADS": "maybe"}, "SHALLOWNET_FAST_THREADS='maybe' is not one of auto, 0, 1"),
        ({"SHALLOWNET_FAST_VMATH": "2"}, "SHALLOWNET_FAST_VMATH='2' is not one of 0, 1"),
        ({"SHALLOWNET_FAST_VARIANTS": "baseline,avx9"}, "SHALLOWNET_FAST_VARIANTS names avx9"),
        ({"CC": "/nonexistent/cc"}, "no working C compiler was found"),
    ],
    ids=["openmp", "vmath", "variants", "no-compiler"],
)
def test_build_options_fail_loudly(tmp_path, env, message):
    root = _source_tree()
    args = [sys.executable, "setup.py", "build_ext", "-b", str(tmp_path / "lib"), "-t", str(tmp_path / "tmp")]
    proc = _run(args, root, **env)
    assert proc.returncode != 0
    assert message in proc.stderr + proc.stdout, proc.stderr[-2000:]
    assert not list((tmp_path / "lib").rglob("*.so")), "an extension was built anyway"

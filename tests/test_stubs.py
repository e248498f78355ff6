"""The type stubs of the compiled kernels (shallownet_fast/_core*.pyi) against the sources and the built modules.

The stubs are generated from the Cython sources by tools/make_stubs.py; after
changing a `def` in src/, run ``python tools/make_stubs.py``.  Here: the stubs
are current, and (a quick in-suite version of ``python -m mypy.stubtest``,
which .ci/typecheck runs) every public name of a kernel module is in its stub
with the same parameters in the same order; the three stubs share one body
(only _core has cpu_level).
"""

import ast
import importlib.util
import inspect
from pathlib import Path

import pytest

import shallownet_fast
from shallownet_fast import _dispatch

PACKAGE = Path(shallownet_fast.__file__).parent
VARIANTS = {"baseline": "_core", "avx2": "_core_avx2", "avx512": "_core_avx512"}


def stub_tree(module_name):
    path = PACKAGE / f"{module_name}.pyi"
    if not path.exists():
        pytest.skip(f"{path.name} is not installed next to the package")  # a wheel without stubs
    return ast.parse(path.read_text())


def stub_names(tree):
    """{name: ast node} of the stub's top-level functions and annotated names."""
    names = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            names[node.name] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = node
    return names


def body_without_docstring(tree):
    body = tree.body[1:] if isinstance(tree.body[0], ast.Expr) else tree.body
    return [ast.dump(node) for node in body]


def test_stubs_are_current():
    script = Path(__file__).resolve().parents[1] / "tools" / "make_stubs.py"
    if not script.exists() or not (script.parents[1] / "src" / "_kernels.pxi").exists():
        pytest.skip("no source tree next to the tests")
    spec = importlib.util.spec_from_file_location("make_stubs", script)
    make_stubs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_stubs)
    for name, text in make_stubs.stubs().items():
        path = script.parents[1] / "shallownet_fast" / name
        assert path.read_text() == text, f"{name} is out of date: run python tools/make_stubs.py"


def test_the_three_stubs_share_one_body():
    base = body_without_docstring(stub_tree("_core"))
    for name in ("_core_avx2", "_core_avx512"):
        other = body_without_docstring(stub_tree(name))
        assert [d for d in base if "cpu_level" not in d] == other, f"{name}.pyi differs from _core.pyi"
    assert "cpu_level" in stub_names(stub_tree("_core"))


@pytest.mark.parametrize("variant", _dispatch.available())
def test_stub_matches_the_module(variant):
    module = _dispatch.load(variant)
    names = stub_names(stub_tree(VARIANTS[variant]))
    public = {n for n in dir(module) if not n.startswith("_")}
    assert public == set(names), f"missing from the stub: {sorted(public - set(names))}; only in the stub: {sorted(set(names) - public)}"
    for name in sorted(public):
        obj, node = getattr(module, name), names[name]
        if not callable(obj):
            assert isinstance(node, ast.AnnAssign), name
            continue
        assert isinstance(node, ast.FunctionDef), name
        runtime = list(inspect.signature(obj).parameters.values())
        stubbed = node.args.args
        assert [p.name for p in runtime] == [a.arg for a in stubbed], name
        defaults = [p.name for p in runtime if p.default is not inspect.Parameter.empty]
        assert defaults == [a.arg for a in stubbed[len(stubbed) - len(node.args.defaults) :]], name

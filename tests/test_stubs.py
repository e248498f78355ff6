"""The one type stub of the compiled kernels (shallownet_fast/_core.pyi) against the built modules,
and mypy's use of it.

The stub is written by hand; it serves all three variants (_core, _core_avx2,
_core_avx512: the same source compiled with different flags), of which only
_core has cpu_level.  Here, a quick in-suite version of ``python -m
mypy.stubtest`` (which .ci/typecheck runs against every built variant): every
public name of a kernel module is in the stub with the same parameters in the
same order.  And mypy sees shallownet_fast._dispatch.kernels as that stub, so a
wrong call into the kernels is a type error.
"""

import ast
import inspect
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import shallownet_fast
from shallownet_fast import _dispatch

PACKAGE = Path(shallownet_fast.__file__).parent
STUB = PACKAGE / "_core.pyi"


def stub_tree():
    if not STUB.exists():
        pytest.skip(f"{STUB.name} is not installed next to the package")  # a wheel without stubs
    return ast.parse(STUB.read_text())


def stub_signatures(tree):
    """{name: [parameter names] or None for a value} of the stub's public names.

    A function's parameters are its own; a name annotated with a protocol
    class (a fused entry that can also be indexed) has its __call__'s, self left out.
    """
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    names = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            names[node.name] = node.args
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            annotation = node.annotation
            cls = classes.get(annotation.id) if isinstance(annotation, ast.Name) else None
            call = [f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__call__"] if cls else []
            if call:
                args = call[0].args
                names[node.target.id] = ast.arguments(
                    posonlyargs=[], args=args.args[1:], kwonlyargs=[], kw_defaults=[], defaults=args.defaults
                )
            else:
                names[node.target.id] = None
    return {n: a for n, a in names.items() if not n.startswith("_")}


def compare(module, names, variant):
    """The differences between a built module's public names and the stub's, as lines of text."""
    expected = dict(names)
    if variant != "baseline":
        expected.pop("cpu_level", None)  # the CPU probe is in _core only
    public = {n for n in dir(module) if not n.startswith("_")}
    problems = [f"missing from the stub: {n}" for n in sorted(public - set(expected))]
    problems += [f"only in the stub: {n}" for n in sorted(set(expected) - public)]
    for name in sorted(public & set(expected)):
        obj, args = getattr(module, name), expected[name]
        if not callable(obj) or args is None:
            if callable(obj) != (args is not None):
                problems.append(f"{name}: a function on one side, a value on the other")
            continue
        runtime = list(inspect.signature(obj).parameters.values())
        stubbed = [a.arg for a in args.args]
        if [p.name for p in runtime] != stubbed:
            problems.append(f"{name}: parameters {[p.name for p in runtime]} built, {stubbed} in the stub")
        defaults = [p.name for p in runtime if p.default is not inspect.Parameter.empty]
        if defaults != stubbed[len(stubbed) - len(args.defaults) :]:
            problems.append(f"{name}: defaults of {defaults} built, of the last {len(args.defaults)} in the stub")
    return problems


def test_one_stub_for_every_variant():
    assert sorted(p.name for p in PACKAGE.glob("_core*.pyi")) == ["_core.pyi"]


@pytest.mark.parametrize("variant", _dispatch.available())
def test_stub_matches_the_module(variant):
    problems = compare(_dispatch.load(variant), stub_signatures(stub_tree()), variant)
    assert not problems, f"shallownet_fast/_core.pyi and the {variant} build disagree:\n" + "\n".join(problems)


def test_a_disagreement_is_found():
    """The comparison above fails on a stub that lost a parameter, or a name."""
    tree = stub_tree()
    names = stub_signatures(tree)
    broken = dict(names)
    args = broken["train_epoch"]
    broken["train_epoch"] = ast.arguments(
        posonlyargs=[],
        args=[a for a in args.args if a.arg != "mW1"],
        kwonlyargs=[],
        kw_defaults=[],
        defaults=args.defaults,
    )
    del broken["cost"]
    problems = compare(_dispatch.load("baseline"), broken, "baseline")
    assert any(p.startswith("train_epoch: parameters") for p in problems), problems
    assert "missing from the stub: cost" in problems, problems


def _mypy(tmp_path, source):
    path = tmp_path / "use_kernels.py"
    path.write_text(textwrap.dedent(source))
    root = Path(__file__).resolve().parents[1]
    config = root / "pyproject.toml"
    command = [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"), "--no-error-summary"]
    if config.exists():
        command += ["--config-file", str(config)]
    env = dict(os.environ)
    if PACKAGE.parent.name not in ("site-packages", "dist-packages"):  # an installed package is found as it is
        env["MYPYPATH"] = str(PACKAGE.parent)
    return subprocess.run(command + [str(path)], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)


def test_mypy_checks_calls_into_the_kernels(tmp_path):
    result = _mypy(
        tmp_path,
        """
        import numpy as np
        from shallownet_fast._dispatch import kernels

        X = np.zeros((2, 3))
        kernels.train(1, 2, 3)
        kernels.cost(X, X)
        kernels.predict_proba["double"](X, X, X, X, X, 0, X)
        ok: float = kernels.cost(X, X, np.zeros(3))
        """,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    lines = sorted({int(line.split(":")[1]) for line in errors})
    assert lines == [6, 7, 8], result.stdout + result.stderr  # the three wrong calls, not the right one

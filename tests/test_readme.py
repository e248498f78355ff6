"""Every example of the README runs as pasted.

Each ```python block runs in a fresh interpreter in an empty folder (the examples make their own data), and
the command line's ```bash block runs line by line in bash, with the `shallownet-fast` command of the
environment the tests run in.  Blocks that install things (pip, venv) are what CI itself runs.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import shallownet_fast

README = Path(__file__).resolve().parents[1] / "README.md"
ROOT = str(Path(shallownet_fast.__file__).resolve().parents[1])  # where the imported package lives


def _blocks(language):
    if not README.exists():
        return []
    text = README.read_text(encoding="utf-8")
    return [
        pytest.param(m.group(1), id=f"line{text[: m.start()].count(chr(10)) + 1}")
        for m in re.finditer(rf"```{language}\n(.*?)```", text, re.S)
    ]


def _run(args, cwd):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH")) if p)
    env["PATH"] = os.pathsep.join((os.path.dirname(sys.executable), env.get("PATH", "")))
    env["MPLBACKEND"] = "Agg"
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def test_the_readme_is_next_to_the_tests():
    assert README.exists(), f"{README} is missing: the examples below were not collected"


@pytest.mark.parametrize("code", _blocks("python"))
def test_python_example(code, tmp_path):
    proc = _run([sys.executable, "-c", code], tmp_path)
    assert proc.returncode == 0, f"the example failed:\n{code}\n--- stderr:\n{proc.stderr[-4000:]}"


def _command_blocks():
    return [b for b in _blocks("bash") if "shallownet-fast " in b.values[0] and "pip install" not in b.values[0]]


@pytest.mark.parametrize("script", _command_blocks())
def test_command_line_examples(script, tmp_path):
    script = script.replace("python -c", f"{sys.executable} -c")
    proc = _run(["bash", "-e", "-c", script], tmp_path)
    assert proc.returncode == 0, f"the commands failed:\n{script}\n--- stderr:\n{proc.stderr[-4000:]}"
    assert (tmp_path / "predictions.csv").exists() or "predict" not in script

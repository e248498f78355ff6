"""The scripts in examples/ run and print what they promise."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import shallownet_fast

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_course_walkthrough(tmp_path):
    script = EXAMPLES / "course_walkthrough.py"
    if not script.exists():
        pytest.skip("no examples/ next to the tests")
    env = dict(os.environ)
    root = str(Path(shallownet_fast.__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "layer sizes: n_x = 2, n_h = 4, n_y = 1" in out
    assert "Cost after iteration 9000:" in out
    accuracy = float(re.search(r"^accuracy: (\d+\.\d\d)%", out, flags=re.M).group(1))
    assert accuracy > 88
    sweep = re.findall(r"^\s+(\d+) \| (\d+\.\d\d)%$", out, flags=re.M)
    assert [int(n) for n, _ in sweep] == [1, 2, 3, 4, 5, 20, 50]

"""The pictures: each is a real PNG of the expected size in pixels, not a blank canvas.

The plotting functions are called in-process; the command line's --plot and
--cost-plot options are run as the user runs them (``python -m shallownet_fast``
in a fresh process, from a directory without the sources).
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")
import matplotlib.image  # noqa: E402

import shallownet_fast  # noqa: E402
from shallownet_fast import datasets, fast, plots  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_real_image(path, width, height):
    """`path` is a PNG of width x height pixels with several distinct colours (not a blank canvas)."""
    path = Path(path)
    assert path.is_file(), f"{path} was not written"
    assert path.read_bytes()[:8] == PNG_MAGIC, f"{path} is not a PNG file"
    image = matplotlib.image.imread(path)
    assert image.shape[:2] == (height, width), (
        f"{path}: {image.shape[1]} x {image.shape[0]} pixels, expected {width} x {height}"
    )
    pixels = image.reshape(-1, image.shape[2] if image.ndim == 3 else 1)
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    assert len(colours) >= 8, f"{path}: only {len(colours)} distinct colours"
    assert counts.max() < 0.95 * len(pixels), f"{path}: one colour covers {counts.max() / len(pixels):.0%} of the image"


@pytest.fixture(scope="module")
def flower_model():
    X, Y = datasets.load_planar_dataset()
    params = fast.nn_model(X, Y, 4, 1000, seed=0)
    return X, Y, params


def test_decision_boundary_default_size(tmp_path, flower_model):
    X, Y, params = flower_model
    out = plots.decision_boundary(lambda P: fast.predict(params, P), X, Y, tmp_path / "boundary.png", title="flower")
    assert out == tmp_path / "boundary.png"
    assert_real_image(out, 640, 480)


def test_decision_boundary_size_follows_figsize_and_dpi(tmp_path, flower_model):
    X, Y, params = flower_model
    path = plots.decision_boundary(lambda P: fast.predict(params, P), X, Y, tmp_path / "b.png", figsize=(5, 4), dpi=80)
    assert_real_image(path, 400, 320)


def test_decision_boundary_of_three_classes(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 150)) + np.repeat([[0, 3, 6], [0, 3, 0]], 50, axis=1)
    y = np.repeat([0, 1, 2], 50)
    params = fast.nn_model(X, np.eye(3)[y].T, 5, 500, learning_rate=0.5, seed=0)
    path = plots.decision_boundary(lambda P: fast.predict(params, P), X, y, tmp_path / "three.png")
    assert_real_image(path, 640, 480)


def test_decision_grid_covers_the_data(flower_model):
    X, Y, params = flower_model
    xx, yy, Z = plots.decision_grid(lambda P: fast.predict(params, P), X)
    assert xx.shape == yy.shape == Z.shape
    assert xx.min() <= X[0].min() - 0.99 and xx.max() >= X[0].max() + 0.9  # the course: a margin of 1
    assert max(Z.shape) <= plots.GRID_MAX_SIDE + 1
    assert set(np.unique(Z)) == {0.0, 1.0}


def test_decision_grid_rejects_points_that_are_not_2d():
    with pytest.raises(ValueError, match=r"shape \(2, m\)"):
        plots.decision_grid(lambda P: np.zeros(P.shape[1]), np.zeros((3, 10)))


def test_cost_curve(tmp_path):
    X, Y = datasets.load_planar_dataset()
    _, costs = fast.nn_model(X, Y, 4, 2000, seed=0, return_costs=True)
    path = plots.cost_curve(costs, tmp_path / "cost.png", figsize=(6, 4), dpi=100)
    assert_real_image(path, 600, 400)


def test_cost_curve_needs_costs(tmp_path):
    with pytest.raises(ValueError, match="no costs"):
        plots.cost_curve([], tmp_path / "cost.png")


def test_sweep_grid(tmp_path, flower_model):
    X, Y, _ = flower_model
    panels = []
    for n_h in (1, 2, 3):
        params = fast.nn_model(X, Y, n_h, 300, seed=0)
        panels.append((f"n_h = {n_h}", lambda P, params=params: fast.predict(params, P)))
    path = plots.sweep_grid(panels, X, Y, tmp_path / "sweep.png", ncols=2, panel_size=3, dpi=80, title="sweep")
    assert_real_image(path, 2 * 3 * 80, 2 * 3 * 80)  # 3 panels in 2 columns: 2 rows


def test_check_output_path(tmp_path):
    plots.check_output_path(tmp_path / "fine.png")
    plots.check_output_path(tmp_path / "no_extension")
    with pytest.raises(ValueError, match="no directory"):
        plots.check_output_path(tmp_path / "missing" / "x.png")
    with pytest.raises(ValueError, match="unknown image format"):
        plots.check_output_path(tmp_path / "x.nope")


# ------------------------------------------------------- the command line's pictures


def _cli(tmp_path, *args):
    env = dict(os.environ)
    root = str(Path(shallownet_fast.__file__).resolve().parents[1])  # the package this suite imports
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.run(
        [sys.executable, "-m", "shallownet_fast", *map(str, args)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def test_demo_plots(tmp_path):
    proc = _cli(tmp_path, "demo", "--iterations", "300", "--plot", "boundary.png", "--cost-plot", "cost.png")
    assert "wrote the decision boundary to boundary.png" in proc.stdout
    assert "wrote the cost curve to cost.png" in proc.stdout
    assert_real_image(tmp_path / "boundary.png", 640, 480)
    assert_real_image(tmp_path / "cost.png", 640, 480)


def test_sweep_plot(tmp_path):
    proc = _cli(tmp_path, "sweep", "--iterations", "300", "--hidden-sizes", "1,2,3,4,5", "--plot", "sweep.png")
    assert "wrote the decision boundaries to sweep.png" in proc.stdout
    assert_real_image(tmp_path / "sweep.png", 4 * 350, 2 * 350)  # 5 panels, 4 per row, 3.5 in at 100 dpi

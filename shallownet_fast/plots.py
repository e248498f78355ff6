"""Pictures of the course: decision boundaries, cost curves and the hidden-size sweep.

matplotlib is optional (``pip install "shallownet_fast[plot]"``) and imported
only when a picture is drawn.  Figures are drawn on matplotlib's Agg canvas
directly (no pyplot, no window, no backend switch), and each function writes
one image file whose size in pixels is ``figsize * dpi`` exactly.
"""

import math
import os

import numpy as np

__all__ = [
    "require_matplotlib",
    "decision_grid",
    "decision_boundary",
    "cost_curve",
    "sweep_grid",
    "check_output_path",
]

# The course draws its grid with a step of 0.01 and a margin of 1 around the
# data; the step grows for wide data so that a grid has at most this many
# points per side (contourf of a 1000 x 1000 grid takes a noticeable second).
GRID_STEP = 0.01
GRID_MARGIN = 1.0
GRID_MAX_SIDE = 500
PANEL_GRID_MAX_SIDE = 250  # for the small panels of sweep_grid

CMAP = "Spectral"


def require_matplotlib():
    """Import matplotlib, or raise an ImportError that says how to install it.

    Returns
    -------
    module
        The ``matplotlib`` package.
    """
    try:
        import matplotlib
    except ImportError:
        raise ImportError(
            'pictures need matplotlib, which is not installed (pip install matplotlib, or "shallownet_fast[plot]")'
        ) from None
    return matplotlib


def _figure(figsize, dpi):
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path):
    from ._atomic import atomic_write

    ext = os.path.splitext(os.fspath(path))[1][1:].lower()  # none: PNG, as savefig(path) would
    with atomic_write(path, "wb") as f:
        fig.savefig(f, format=ext or "png", dpi=fig.dpi)
    return path


def _labels_1d(labels, m):
    """Predictions or labels of shape (1, m), (m,) or (m, 1), as a vector of floats of shape (m,)."""
    labels = np.asarray(labels)
    if labels.size != m:
        raise ValueError(f"expected {m} labels, got an array of shape {labels.shape}")
    return labels.reshape(m).astype(np.float64)


def decision_grid(predict, X, step=GRID_STEP, margin=GRID_MARGIN, max_side=GRID_MAX_SIDE):
    """Predictions of `predict` over a grid around the points of `X`, as the course computes them.

    Parameters
    ----------
    predict : callable
        Takes an ndarray of shape (2, k) (one point per column) and returns
        the classes of the k points, of shape (1, k) or (k,) (for instance
        ``lambda P: fast.predict(parameters, P)``).
    X : ndarray of shape (2, m)
        The data; the grid covers its range plus `margin` on every side.
    step : float, default 0.01
        Grid spacing, enlarged when a side would exceed `max_side` points.
    margin : float, default 1.0
    max_side : int, default 500

    Returns
    -------
    xx, yy : ndarray of shape (ny, nx)
        The grid's coordinates (:func:`numpy.meshgrid`).
    Z : ndarray of shape (ny, nx), float64
        The predicted class at each grid point.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] != 2 or X.shape[1] == 0:
        raise ValueError(f"a decision boundary needs X of shape (2, m) with m >= 1, got shape {X.shape}")
    lo, hi = X.min(axis=1) - margin, X.max(axis=1) + margin
    step = max(step, float(np.max(hi - lo)) / max_side)
    xx, yy = np.meshgrid(np.arange(lo[0], hi[0], step), np.arange(lo[1], hi[1], step))
    points = np.vstack([xx.ravel(), yy.ravel()])
    Z = _labels_1d(predict(points), points.shape[1]).reshape(xx.shape)
    return xx, yy, Z


def _draw_boundary(ax, predict, X, Y, title=None, max_side=GRID_MAX_SIDE):
    xx, yy, Z = decision_grid(predict, X, max_side=max_side)
    y = _labels_1d(Y, X.shape[1])
    vmin, vmax = min(Z.min(), y.min()), max(Z.max(), y.max())
    levels = np.arange(vmin - 0.5, vmax + 1)  # one band per class, no seams between classes
    ax.contourf(xx, yy, Z, levels=levels, cmap=CMAP, vmin=vmin, vmax=vmax, alpha=0.5)
    ax.scatter(X[0], X[1], c=y, cmap=CMAP, vmin=vmin, vmax=vmax, s=16, edgecolors="black", linewidths=0.3)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    if title:
        ax.set_title(title)


def decision_boundary(predict, X, Y, path, *, title=None, figsize=(6.4, 4.8), dpi=100):
    """Save the decision boundary of a classifier over its data, as the course draws it.

    The predicted class over a grid around the data (``contourf``, Spectral
    colours) with the points on top, coloured by their label.

    Parameters
    ----------
    predict : callable
        Takes an ndarray of shape (2, k) and returns the classes of the k
        points, of shape (1, k) or (k,).
    X : ndarray of shape (2, m)
        The points, one per column.
    Y : ndarray of shape (1, m) or (m,)
        Their labels.
    path : str or path-like
        Where to write the image; the format follows the extension (PNG by default).
    title : str, optional
    figsize : (float, float), default (6.4, 4.8)
        In inches: the image is ``figsize[0] * dpi`` by ``figsize[1] * dpi`` pixels.
    dpi : int, default 100

    Returns
    -------
    path
        `path`, once written.
    """
    X = np.asarray(X, dtype=np.float64)
    fig = _figure(figsize, dpi)
    _draw_boundary(fig.add_subplot(), predict, X, Y, title)
    return _save(fig, path)


def cost_curve(costs, path, *, title="Cost during training", every=None, figsize=(6.4, 4.8), dpi=100):
    """Save the cost against the iteration number.

    Parameters
    ----------
    costs : array_like of shape (n,)
        The cost of each recorded iteration (``nn_model(..., return_costs=True)``
        gives one per iteration).
    path : str or path-like
        Where to write the image (PNG unless the extension says otherwise).
    title : str, default "Cost during training"
    every : int, optional
        Iterations between two recorded costs (default 1): the x axis is
        ``every * arange(n)``.
    figsize : (float, float), default (6.4, 4.8)
        In inches; the image is ``figsize * dpi`` pixels.
    dpi : int, default 100

    Returns
    -------
    path
    """
    costs = np.asarray(costs, dtype=np.float64).reshape(-1)
    if costs.size == 0:
        raise ValueError("no costs to plot (0 iterations)")
    fig = _figure(figsize, dpi)
    ax = fig.add_subplot()
    ax.plot(np.arange(costs.size) * (every or 1), costs, color="tab:blue", linewidth=1.5)
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost (cross-entropy)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    return _save(fig, path)


def sweep_grid(panels, X, Y, path, *, ncols=4, panel_size=3.5, dpi=100, title=None):
    """Save the decision boundaries of several networks side by side (the course's hidden-size sweep).

    Parameters
    ----------
    panels : sequence of (str, callable)
        A title and a predict function (as for :func:`decision_boundary`) per panel.
    X : ndarray of shape (2, m)
    Y : ndarray of shape (1, m) or (m,)
    path : str or path-like
        Where to write the image.
    ncols : int, default 4
        Panels per row; the image has ``ceil(len(panels) / ncols)`` rows.
    panel_size : float, default 3.5
        Inches per panel side: the image is ``min(ncols, n) * panel_size * dpi``
        by ``rows * panel_size * dpi`` pixels.
    dpi : int, default 100
    title : str, optional
        A title above the grid.

    Returns
    -------
    path
    """
    panels = list(panels)
    if not panels:
        raise ValueError("no panels to draw")
    X = np.asarray(X, dtype=np.float64)
    ncols = max(1, min(int(ncols), len(panels)))
    nrows = math.ceil(len(panels) / ncols)
    fig = _figure((ncols * panel_size, nrows * panel_size), dpi)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, (label, predict) in zip(axes, panels):
        _draw_boundary(ax, predict, X, Y, label, max_side=PANEL_GRID_MAX_SIDE)
    for ax in axes[len(panels) :]:
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def check_output_path(path):
    """Fail early (before any training) when an image could not be written to `path`.

    Parameters
    ----------
    path : str or path-like

    Raises
    ------
    ImportError
        When matplotlib is not installed.
    ValueError
        When the directory does not exist or matplotlib cannot write the
        file's format (its extension; none means PNG).
    """
    require_matplotlib()
    from matplotlib.backend_bases import FigureCanvasBase

    name = str(path)
    directory = os.path.dirname(os.path.abspath(name))
    if not os.path.isdir(directory):
        raise ValueError(f"cannot write {name}: no directory {directory}")
    ext = os.path.splitext(name)[1][1:].lower()
    formats = FigureCanvasBase.get_supported_filetypes()
    if ext and ext not in formats:
        raise ValueError(f"cannot write {name}: unknown image format {ext!r} (use one of {', '.join(sorted(formats))})")

"""Small data sets generated in the package (nothing is downloaded)."""

import numpy as np

__all__ = ["DATASETS", "EXTRA_DATASETS", "load_planar_dataset", "load_extra_dataset", "load_dataset"]

# The course's extra data sets (its load_extra_datasets), made with scikit-learn.
EXTRA_DATASETS = ("noisy_moons", "noisy_circles", "blobs", "gaussian_quantiles")
DATASETS = ("flower",) + EXTRA_DATASETS


def load_planar_dataset():
    """The two-class "flower": 400 points on four petals.

    The classic course's data set, generated exactly as the course does it
    (a private ``RandomState(1)``; the global NumPy random state is not touched).

    Returns
    -------
    X : ndarray of shape (2, 400), float64
        One point per column.
    Y : ndarray of shape (1, 400), uint8
        The class (0 red, 1 blue) of each point.
    """
    rng = np.random.RandomState(1)
    m, n_per_class, petals = 400, 200, 4
    X = np.zeros((m, 2))
    Y = np.zeros((m, 1), dtype=np.uint8)
    for j in range(2):
        ix = slice(n_per_class * j, n_per_class * (j + 1))
        t = np.linspace(j * 3.12, (j + 1) * 3.12, n_per_class) + rng.randn(n_per_class) * 0.2
        r = petals * np.sin(4 * t) + rng.randn(n_per_class) * 0.2
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        Y[ix] = j
    return X.T.copy(), Y.T.copy()


def load_extra_dataset(name, n_samples=200, seed=None):
    """One of the course's extra two-class data sets, made locally with scikit-learn.

    As the course's ``load_extra_datasets`` makes them: ``make_moons(noise=0.2)``,
    ``make_circles(factor=0.5, noise=0.3)``, ``make_blobs(centers=6,
    random_state=5)`` with the six blobs folded into two classes (``y % 2``),
    and ``make_gaussian_quantiles(cov=0.5, n_classes=2)``.

    Parameters
    ----------
    name : {"noisy_moons", "noisy_circles", "blobs", "gaussian_quantiles"}
    n_samples : int, default 200
        Number of points (the course's N = 200).
    seed : int or None
        The ``random_state`` given to scikit-learn.  None uses a fixed one, so
        that every call returns the same points: 5 for "blobs" (the course's),
        1 for the others (whose course versions draw from the global state
        after ``np.random.seed(1)``).  The global NumPy random state is not touched.

    Returns
    -------
    X : ndarray of shape (2, n_samples), float64
        One point per column.
    Y : ndarray of shape (1, n_samples), uint8
        The class (0 or 1) of each point.

    Raises
    ------
    ImportError
        When scikit-learn is not installed.
    ValueError
        For an unknown `name`.
    """
    if name not in EXTRA_DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(EXTRA_DATASETS)}")
    try:
        import sklearn.datasets as skd
    except ImportError:
        raise ImportError(
            f"the {name} data set is made with scikit-learn, which is not installed (pip install scikit-learn)"
        ) from None
    state = seed if seed is not None else (5 if name == "blobs" else 1)
    if name == "noisy_moons":
        X, y = skd.make_moons(n_samples=n_samples, noise=0.2, random_state=state)
    elif name == "noisy_circles":
        X, y = skd.make_circles(n_samples=n_samples, factor=0.5, noise=0.3, random_state=state)
    elif name == "blobs":
        X, y = skd.make_blobs(n_samples=n_samples, n_features=2, centers=6, random_state=state)
        y = y % 2
    else:
        X, y = skd.make_gaussian_quantiles(
            mean=None, cov=0.5, n_samples=n_samples, n_features=2, n_classes=2, shuffle=True, random_state=state
        )
    return np.ascontiguousarray(X.T, dtype=np.float64), y.reshape(1, -1).astype(np.uint8)


def load_dataset(name, seed=None):
    """A two-class data set of the course by name.

    Parameters
    ----------
    name : {"flower", "noisy_moons", "noisy_circles", "blobs", "gaussian_quantiles"}
        "flower" is :func:`load_planar_dataset` (400 points, no scikit-learn
        needed); the others are :func:`load_extra_dataset` (200 points).
    seed : int or None
        For the extra data sets only (see :func:`load_extra_dataset`).

    Returns
    -------
    X : ndarray of shape (2, m), float64
    Y : ndarray of shape (1, m), uint8
    """
    if name == "flower":
        return load_planar_dataset()
    return load_extra_dataset(name, seed=seed)

"""Small data sets generated in the package (nothing is downloaded)."""

import numpy as np

__all__ = ["load_planar_dataset"]


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

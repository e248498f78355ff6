"""The scikit-learn estimators of shallownet_fast (scikit-learn is an optional dependency).

- :class:`ShallowNetClassifier`: the one-hidden-layer network as a classifier.
- :class:`ShallowNetRegressor`: the one-hidden-layer network as a regressor.

The shared fit loop lives in :mod:`shallownet_fast.estimators._base`, what is
specific to classification in :mod:`shallownet_fast.estimators._classifier`, to
regression in :mod:`shallownet_fast.estimators._regressor`.
"""

from ._classifier import ShallowNetClassifier
from ._regressor import ShallowNetRegressor

__all__ = ["ShallowNetClassifier", "ShallowNetRegressor"]

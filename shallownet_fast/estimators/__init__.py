"""The scikit-learn estimators of shallownet_fast (scikit-learn is an optional dependency).

- :class:`ShallowNetClassifier`: the one-hidden-layer network as a classifier.

The shared fit loop lives in :mod:`shallownet_fast.estimators._base`, what is
specific to classification in :mod:`shallownet_fast.estimators._classifier`.
"""

from ._classifier import ShallowNetClassifier

__all__ = ["ShallowNetClassifier"]

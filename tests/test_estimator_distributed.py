"""ShallowNetClassifier beyond one process: a grid search spread over a dask.distributed cluster.

joblib's "dask" backend sends GridSearchCV's fits to the workers of a
LocalCluster (two worker processes, one thread each).  Skipped when
dask.distributed is not installed (``pip install "dask[distributed]"``).
"""

import numpy as np
import pytest

pytest.importorskip("sklearn")
distributed = pytest.importorskip("dask.distributed")

import joblib  # noqa: E402
from sklearn.datasets import make_blobs  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from shallownet_fast import ShallowNetClassifier  # noqa: E402


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_grid_search_on_a_local_dask_cluster():
    X, codes = make_blobs(n_samples=150, centers=3, n_features=4, cluster_std=2.0, random_state=0)
    y = np.array(["setosa", "versicolor", "virginica"])[codes]
    params = {"hidden_layer_sizes": [(4,), (16,)], "activation": ["relu", "tanh"], "solver": ["adam", "sgd"]}
    base = ShallowNetClassifier(learning_rate_init=0.02, max_iter=200, random_state=0)

    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        with distributed.get_task_stream(client) as stream, joblib.parallel_backend("dask"):
            grid = GridSearchCV(base, params, cv=3, error_score="raise").fit(X, y)
        workers = {task["worker"] for task in stream.data}

    assert len(workers) == 2, f"the fits ran on {workers}"
    # The same search in this process gives the same results: the cluster changes where, not what.
    local = GridSearchCV(base, params, cv=3, error_score="raise").fit(X, y)
    np.testing.assert_allclose(grid.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"])
    assert grid.best_params_ == local.best_params_
    assert grid.best_score_ > 0.8
    assert set(grid.predict(X)) <= set(y)

"""Internals of the clustering package: silhouettes and quality scores
(``quality``), the nearest-centre search (``fit``) and the distinct-row
count (``features``), against scikit-learn and the plain formulas."""

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from python_udfs import clustering
from python_udfs.clustering import ClusteringWarning


@pytest.mark.parametrize("working_memory_mb", [8, 0.05])
def test_silhouettes_equal_scikit_learn(monkeypatch, working_memory_mb):
    """One pass over the distances scores every labelling as
    silhouette_score does, with several chunks too (0.05 MB is ~16 rows of
    400), including a singleton cluster and duplicate points."""
    monkeypatch.setattr(clustering.quality, "_WORKING_MEMORY_MB", working_memory_mb)
    rng = np.random.default_rng(11)
    X = rng.normal(size=(400, 3))
    X[10:20] = X[5]  # exact duplicates: distance 0 within and across clusters
    label_sets = [rng.integers(0, k, size=len(X)) for k in (2, 3, 5, 8)]
    label_sets.append(
        KMeans(n_clusters=4, n_init=1, random_state=0).fit_predict(X) + 10
    )
    singleton = label_sets[1].copy()
    singleton[7] = 99  # a cluster of one point scores 0 for that point
    label_sets.append(singleton)
    got = clustering.quality._silhouettes(X, label_sets)
    want = [silhouette_score(X, labels) for labels in label_sets]
    assert len(got) == len(want)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_quality_is_nan_for_one_cluster_or_all_singletons():
    X = np.random.default_rng(3).normal(size=(20, 3))
    one, each, two = np.zeros(20), np.arange(20), np.arange(20) % 2
    quality = clustering.quality._quality(X, [one, two, each])
    assert np.isnan(quality[0]).all() and np.isnan(quality[2]).all()
    assert quality[1][0] == pytest.approx(silhouette_score(X, two), abs=1e-12)


@pytest.mark.parametrize(
    ("n", "d", "k"), [(1_000, 3, 5), (150_000, 3, 8), (5_000, 1, 3)]
)
def test_assign_equals_the_row_wise_formula_with_ties(n: int, d: int, k: int) -> None:
    """The column-at-a-time nearest-centre search gives the labels and
    squared distances of the plain row-wise formula bit for bit, first
    centre on ties (rounded data and a repeated centre make many)."""
    from python_udfs.clustering.fit import _assign, _Fit

    rng = np.random.default_rng(n)
    X = np.round(rng.normal(size=(n, d)), 1)
    centers = np.round(rng.normal(size=(k, d)), 1)
    centers[1] = centers[0]
    d2 = ((X[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    expected_labels = d2.argmin(axis=1)
    labels, sq_dist = _assign(X, _Fit(centers=centers))
    np.testing.assert_array_equal(labels, expected_labels)
    np.testing.assert_array_equal(sq_dist, d2[np.arange(n), expected_labels])
    assert not (labels == 1).any()  # the repeated centre never wins a tie


def test_distinct_count_stops_early_only_when_enough_rows_are_distinct():
    """_count_distinct(X, enough=k) may stop after a prefix that already holds
    k distinct rows, and counts everything when the prefix does not."""
    n = 3 * clustering.features._DISTINCT_PROBE_ROWS
    spread = np.random.default_rng(0).normal(size=(n, 3))
    assert clustering.features._count_distinct(spread, enough=8) >= 8
    assert clustering.features._count_distinct(spread) == n
    # Identical rows up front, the only other points at the very end.
    uniform = np.zeros((n, 3))
    uniform[-3:, 0] = [1.0, 2.0, 3.0]
    assert clustering.features._count_distinct(uniform, enough=8) == 4
    many = pd.DataFrame(
        {
            "customer_id": [f"c{i:06d}" for i in range(n)],
            "recency_days": np.r_[np.ones(n - 3), [50.0, 90.0, 200.0]],
            "frequency": np.r_[np.ones(n - 3), [2.0, 3.0, 4.0]],
            "monetary": np.r_[np.ones(n - 3), [5.0, 9.0, 70.0]],
        }
    )
    with pytest.warns(ClusteringWarning, match="k reduced from 8 to 4"):
        assert clustering.cluster_customers(many, k=8).k == 4

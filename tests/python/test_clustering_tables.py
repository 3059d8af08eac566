"""python_udfs.clustering.tables: what the dbt clustering models return,
including data too thin to cluster (recorded, not raised)."""

import warnings

import numpy as np
import pandas as pd
import pytest

from python_udfs.clustering import (
    CLUSTERING_STATUSES,
    ClusteringError,
    ClusteringWarning,
    TooFewCustomersError,
    choose_k,
    choose_k_table,
    cluster_customers,
    cluster_with_chosen_k,
)

OPTIONS = {"k_min": 3, "k_max": 5, "sample_size": 500, "n_init": 2, "random_seed": 7}


def _customers(recency, frequency, monetary) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.Series(
                [f"C{i:04d}" for i in range(len(recency))], dtype="str"
            ),
            "recency_days": np.asarray(recency, dtype="int64"),
            "frequency": np.asarray(frequency, dtype="int64"),
            "monetary": np.asarray(monetary, dtype="float64"),
        }
    )


def _noise(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    frequency = 1 + rng.poisson(2.0, n)
    return _customers(
        rng.exponential(100.0, n).round(), frequency, rng.lognormal(4, 1, n) * frequency
    )


def _quietly(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ClusteringWarning)
        return function(*args, **kwargs)


@pytest.mark.parametrize(
    ("customers", "match"),
    [
        (_noise(5).head(0), "at least 2 customers to cluster, got 0"),
        (_noise(5).head(1), "at least 2 customers to cluster, got 1"),
        (_customers([30] * 4, [2] * 4, [99.0] * 4), "every feature .* is constant"),
    ],
)
def test_too_few_customers_give_one_not_clustered_row(customers, match):
    with pytest.raises(TooFewCustomersError, match=match):
        choose_k(customers, **OPTIONS)
    table = choose_k_table(customers, **OPTIONS)
    assert len(table) == 1
    row = table.iloc[0]
    assert row["clustering_status"] == "not_clustered"
    assert pd.isna(row["k"]) and not row["chosen"]
    assert table["message"].str.contains(match).all()
    assert str(table["k"].dtype) == "Int64"
    assignments = cluster_with_chosen_k(customers, table, **_cluster_options())
    assert assignments.empty
    assert list(assignments.columns) == [
        "customer_id",
        "cluster_id",
        "cluster_name",
        "method",
        "k",
        "distance_to_centroid",
    ]
    assert assignments["customer_id"].dtype == "str"
    assert assignments["cluster_id"].dtype == "int64"


def test_fewer_distinct_customers_than_k_reduce_k():
    customers = _customers([5, 5, 300, 300], [9, 9, 1, 1], [900.0, 900.0, 20.0, 20.0])
    with pytest.warns(ClusteringWarning, match="k reduced"):
        table = choose_k_table(customers, **OPTIONS)
    assert table["clustering_status"].tolist() == ["k_reduced"]
    assert table["k"].tolist() == [2] and table["chosen"].all()
    assert "only 2 distinct customer(s)" in table["message"].iloc[0]
    assignments = _quietly(
        cluster_with_chosen_k, customers, table, **_cluster_options()
    )
    assert sorted(assignments["cluster_id"].unique()) == [1, 2]


def test_fixed_k_above_the_distinct_customers_is_reduced():
    customers = _customers([5, 300, 40], [9, 1, 3], [900.0, 20.0, 90.0])
    options = {**OPTIONS, "k": "4"}
    table = _quietly(choose_k_table, customers, **options)
    assert table["clustering_status"].tolist() == ["k_reduced"]
    assert table["k"].tolist() == [3]


def test_enough_customers_equal_choose_k_and_cluster_customers():
    customers = _noise(80)
    table = _quietly(choose_k_table, customers, **OPTIONS)
    expected = _quietly(choose_k, customers, **OPTIONS)
    pd.testing.assert_frame_equal(table[list(expected.columns)], expected)
    assert set(table["clustering_status"]) == {"clustered"}
    assert set(table["clustering_status"]) <= set(CLUSTERING_STATUSES)
    chosen = int(table.loc[table["chosen"], "k"].iloc[0])
    got = _quietly(cluster_with_chosen_k, customers, table, **_cluster_options())
    want = _quietly(cluster_customers, customers, k=chosen, **_cluster_options())
    pd.testing.assert_frame_equal(got, want.assignments)


def test_bad_input_still_raises():
    customers = _noise(10)
    customers.loc[2, "frequency"] = np.nan
    with pytest.raises(ClusteringError, match="missing") as info:
        choose_k_table(customers, **OPTIONS)
    assert not isinstance(info.value, TooFewCustomersError)


def _cluster_options() -> dict:
    return {key: OPTIONS[key] for key in ("sample_size", "n_init", "random_seed")}

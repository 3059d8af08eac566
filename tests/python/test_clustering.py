import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import AgglomerativeClustering
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from python_udfs import clustering
from python_udfs.clustering import (
    FEATURE_COLUMNS,
    ClusteringError,
    ClusteringWarning,
    cluster_customers,
    prepare_features,
    select_k,
)

# Blob centres in log1p space, columns (recency_days, frequency, monetary).
# Under the documented naming rule they are, in order: VIP (recent, high
# value), At risk (lapsing, high value), New (recent, low value), Lapsed.
BLOB_CENTRES = np.log1p(
    np.array(
        [
            [5.0, 30.0, 5000.0],
            [400.0, 15.0, 2500.0],
            [10.0, 2.0, 60.0],
            [700.0, 1.0, 30.0],
        ]
    )
)
BLOB_NAMES = ["VIP", "At risk", "New", "Lapsed"]
NAME_GRID = {
    ("high", "recent"): "VIP",
    ("high", "average"): "Loyal",
    ("high", "lapsing"): "At risk",
    ("mid", "recent"): "Promising",
    ("mid", "average"): "Mid-value",
    ("mid", "lapsing"): "Hibernating",
    ("low", "recent"): "New",
    ("low", "average"): "Low-value",
    ("low", "lapsing"): "Lapsed",
}
ASSIGNMENT_DTYPES = {
    "cluster_id": "int64",
    "k": "int64",
    "distance_to_centroid": "float64",
}


def rfm_frame(recency, frequency, monetary, ids=None) -> pd.DataFrame:
    n = len(recency)
    if ids is None:
        ids = [f"C{i:06d}" for i in range(n)]
    return pd.DataFrame(
        {
            "customer_id": ids,
            "recency_days": np.asarray(recency, dtype="int64"),
            "frequency": np.asarray(frequency, dtype="int64"),
            "monetary": np.asarray(monetary, dtype="float64"),
        }
    )


def make_rfm_blobs(n: int, seed: int = 0, std: float = 0.12):
    """Blobs in log1p space mapped to RFM-like values, ids in random order."""
    points, truth = make_blobs(
        n_samples=n, centers=BLOB_CENTRES, cluster_std=std, random_state=seed
    )
    values = np.expm1(points)
    ids = [f"C{i:06d}" for i in np.random.default_rng(seed).permutation(n)]
    df = rfm_frame(
        np.clip(np.round(values[:, 0]), 0, None),
        np.clip(np.round(values[:, 1]), 1, None),
        values[:, 2],
        ids,
    )
    return df, pd.Series(truth, index=df["customer_id"])


def make_rfm_noise(n: int, seed: int = 0) -> pd.DataFrame:
    """Unstructured RFM-like data, including negative monetary values."""
    rng = np.random.default_rng(seed)
    frequency = 1 + rng.poisson(rng.gamma(1.0, 2.0, n))
    monetary = rng.lognormal(4.0, 1.0, n) * frequency
    monetary[rng.random(n) < 0.02] *= -0.3
    return rfm_frame(rng.exponential(200.0, n).round(), frequency, monetary)


def truth_of(result, truth: pd.Series) -> np.ndarray:
    return truth.loc[result.assignments["customer_id"]].to_numpy()


def population_z(df: pd.DataFrame) -> pd.DataFrame:
    logged = np.log1p(df[list(FEATURE_COLUMNS)].clip(lower=0).astype(float))
    return (logged - logged.mean()) / logged.std(ddof=0)


def cluster_means_z(df: pd.DataFrame, result) -> pd.DataFrame:
    z = population_z(df)
    z["cluster_id"] = (
        result.assignments.set_index("customer_id")["cluster_id"]
        .loc[df["customer_id"]]
        .to_numpy()
    )
    return z.groupby("cluster_id").mean()


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ClusteringWarning)
        return fn(*args, **kwargs)


# --- Recovering known structure ----------------------------------------------


def test_kmeans_recovers_blobs():
    df, truth = make_rfm_blobs(2000)
    result = quiet(cluster_customers, df, k=4)
    assert result.k == 4
    assert (
        adjusted_rand_score(truth_of(result, truth), result.assignments["cluster_id"])
        > 0.99
    )


def test_hierarchical_on_sample_assigns_every_customer():
    df, truth = make_rfm_blobs(3000, seed=1)
    result = quiet(cluster_customers, df, method="hierarchical", k=4, sample_size=400)
    out = result.assignments
    assert len(out) == len(df)
    assert set(out["customer_id"]) == set(df["customer_id"])
    assert out["cluster_id"].between(1, 4).all()
    assert out["distance_to_centroid"].notna().all()
    assert any("sample of 400" in note for note in result.notes)
    assert adjusted_rand_score(truth_of(result, truth), out["cluster_id"]) > 0.99


def test_hierarchical_matches_sklearn_ward_when_sample_covers_all():
    df = make_rfm_noise(300, seed=3)
    result = quiet(cluster_customers, df, method="hierarchical", k=6)
    X, _, _ = prepare_features(df.sort_values("customer_id"))
    expected = AgglomerativeClustering(n_clusters=6, linkage="ward").fit_predict(X)
    assert adjusted_rand_score(expected, result.assignments["cluster_id"]) == 1.0


@pytest.mark.parametrize("method", ["kmeans", "hierarchical"])
def test_auto_picks_true_k(method):
    df, _ = make_rfm_blobs(1200, seed=2)
    result = quiet(cluster_customers, df, method=method, k="auto", k_min=2, k_max=8)
    diag = result.diagnostics
    assert result.k == 4
    assert diag["k"].tolist() == list(range(2, 9))
    assert diag["chosen"].sum() == 1
    chosen = diag.loc[diag["chosen"]].iloc[0]
    assert chosen["k"] == 4
    assert chosen["silhouette"] == diag["silhouette"].max()
    assert (diag["method"] == method).all()
    assert (
        diag[["inertia", "silhouette", "davies_bouldin", "calinski_harabasz"]]
        .notna()
        .all()
        .all()
    )
    # Inertia (k-means) and Ward's within-cluster sum of squares fall with k.
    assert diag["inertia"].is_monotonic_decreasing
    assert diag.dtypes.astype(str).to_dict() == {
        "method": "str",
        "k": "int64",
        "inertia": "float64",
        "silhouette": "float64",
        "davies_bouldin": "float64",
        "calinski_harabasz": "float64",
        "chosen": "bool",
    }


def test_select_k_on_prepared_features():
    df, _ = make_rfm_blobs(800, seed=4)
    X, used, notes = quiet(prepare_features, df)
    diag = quiet(select_k, X, k_range=[6, 3, 4, 5], method="kmeans")
    assert used == list(FEATURE_COLUMNS)
    assert notes == []
    assert diag["k"].tolist() == [3, 4, 5, 6]
    assert diag.loc[diag["chosen"], "k"].tolist() == [4]


def test_select_k_ties_go_to_smaller_k(monkeypatch):
    df, _ = make_rfm_blobs(300, seed=5)
    X, _, _ = prepare_features(df)
    monkeypatch.setattr(
        clustering.quality,
        "_quality",
        lambda X, label_sets: [(0.5, 1.0, 1.0)] * len(label_sets),
    )
    diag = select_k(X, k_range=range(3, 7))
    assert diag.loc[diag["chosen"], "k"].tolist() == [3]


def test_fixed_k_diagnostics_single_chosen_row_with_inertia_of_assignments():
    df = make_rfm_noise(1500, seed=6)
    result = quiet(cluster_customers, df, k=5, kmeans_sample_size=600, sample_size=500)
    diag = result.diagnostics
    assert diag["k"].tolist() == [5]
    assert diag["chosen"].tolist() == [True]
    squared = (result.assignments["distance_to_centroid"] ** 2).sum()
    assert diag["inertia"].iloc[0] == pytest.approx(squared, rel=1e-9)


# --- Determinism -------------------------------------------------------------


def assert_results_equal(a, b):
    pd.testing.assert_frame_equal(a.assignments, b.assignments)
    pd.testing.assert_frame_equal(a.profiles, b.profiles)
    pd.testing.assert_frame_equal(a.diagnostics, b.diagnostics)
    assert (a.k, a.features, a.warnings) == (b.k, b.features, b.warnings)


@pytest.mark.parametrize("method", ["kmeans", "hierarchical"])
def test_shuffled_input_gives_identical_output(method):
    df = make_rfm_noise(1500, seed=7)
    shuffled = df.sample(frac=1.0, random_state=11)
    kwargs = dict(
        method=method, k="auto", k_max=6, kmeans_sample_size=500, sample_size=400
    )
    assert_results_equal(
        quiet(cluster_customers, df, **kwargs),
        quiet(cluster_customers, shuffled, **kwargs),
    )


@pytest.mark.parametrize("method", ["kmeans", "hierarchical"])
def test_same_seed_same_output(method):
    df = make_rfm_noise(1200, seed=8)
    kwargs = dict(
        method=method, k=5, kmeans_sample_size=400, sample_size=300, random_seed=3
    )
    assert_results_equal(
        quiet(cluster_customers, df, **kwargs), quiet(cluster_customers, df, **kwargs)
    )


# --- Output contract ---------------------------------------------------------


def test_cluster_one_has_lowest_value_score():
    df = make_rfm_noise(2000, seed=9)
    result = quiet(cluster_customers, df, k=6)
    means = cluster_means_z(df, result)
    score = (-means["recency_days"] + means["frequency"] + means["monetary"]) / 3
    assert score.index.tolist() == list(range(1, 7))
    assert score.is_monotonic_increasing and score.is_unique
    np.testing.assert_allclose(result.profiles["value_score"], score.to_numpy())


def test_blob_names_follow_naming_rule():
    df, truth = make_rfm_blobs(2000, seed=10)
    result = quiet(cluster_customers, df, k=4)
    out = result.assignments
    by_blob = pd.crosstab(truth_of(result, truth), out["cluster_name"]).idxmax(axis=1)
    assert by_blob.tolist() == BLOB_NAMES
    # Ids follow value: Lapsed < New < At risk < VIP.
    assert result.profiles["cluster_name"].tolist() == [
        "Lapsed",
        "New",
        "At risk",
        "VIP",
    ]


@pytest.mark.parametrize("k", [3, 8])
def test_names_unique_and_recomputable(k):
    df = make_rfm_noise(1500, seed=12)
    result = quiet(cluster_customers, df, k=k)
    names = result.profiles["cluster_name"]
    assert names.is_unique
    means = cluster_means_z(df, result)
    value = (means["frequency"] + means["monetary"]) / 2

    def band(x, low, mid, high):
        return high if x >= 0.5 else low if x <= -0.5 else mid

    expected, seen = [], {}
    for cid in range(1, k + 1):
        base = NAME_GRID[
            (
                band(value[cid], "low", "mid", "high"),
                band(means.loc[cid, "recency_days"], "recent", "average", "lapsing"),
            )
        ]
        seen[base] = seen.get(base, 0) + 1
        expected.append(base if seen[base] == 1 else f"{base} {seen[base]}")
    assert names.tolist() == expected
    # Each customer carries the name of its cluster.
    joined = result.assignments.merge(result.profiles, on="cluster_id")
    assert (joined["cluster_name_x"] == joined["cluster_name_y"]).all()


def test_output_columns_dtypes_and_profiles():
    df = make_rfm_noise(1000, seed=13)
    result = quiet(cluster_customers, df, k=4)
    out, prof = result.assignments, result.profiles
    assert out.columns.tolist() == [
        "customer_id",
        "cluster_id",
        "cluster_name",
        "method",
        "k",
        "distance_to_centroid",
    ]
    assert {c: str(out[c].dtype) for c in ASSIGNMENT_DTYPES} == ASSIGNMENT_DTYPES
    assert str(out["cluster_name"].dtype) == "str" and str(out["method"].dtype) == "str"
    assert out["customer_id"].is_monotonic_increasing
    assert (out["k"] == 4).all() and (out["method"] == "kmeans").all()
    assert (out["distance_to_centroid"] >= 0).all()

    assert prof["cluster_id"].tolist() == [1, 2, 3, 4]
    assert str(prof["customers"].dtype) == "int64"
    assert prof["customers"].sum() == len(df)
    assert prof["customer_share"].sum() == pytest.approx(1.0)
    assert prof["revenue_share"].sum() == pytest.approx(1.0)
    members = df.merge(out, on="customer_id").groupby("cluster_id")
    for column in FEATURE_COLUMNS:
        np.testing.assert_allclose(prof[f"centroid_{column}"], members[column].mean())
        np.testing.assert_allclose(prof[f"median_{column}"], members[column].median())
    revenue = members["monetary"].sum() / df["monetary"].sum()
    np.testing.assert_allclose(prof["revenue_share"], revenue)


def test_input_not_modified():
    df = make_rfm_noise(500, seed=14).sample(frac=1.0, random_state=1)
    before = df.copy()
    quiet(cluster_customers, df, k=3)
    quiet(prepare_features, df)
    pd.testing.assert_frame_equal(df, before)


def test_prepare_features_transform_and_scaling():
    df = rfm_frame([0, 10, 100, 30], [1, 2, 5, 3], [-20.0, 0.0, 500.0, 40.0])
    X, used, notes = prepare_features(df)
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1.0)
    assert X[0, 2] == X[1, 2]  # negative monetary is clipped to 0 before log1p
    assert notes == ["monetary: 1 negative value(s) clipped to 0 before log1p"]
    raw, used, notes = prepare_features(
        df, features=["monetary", "frequency"], transform="none", scaling="none"
    )
    assert used == ["monetary", "frequency"] and notes == []
    np.testing.assert_array_equal(raw, df[["monetary", "frequency"]].to_numpy(float))


# --- Bad input ---------------------------------------------------------------


def test_missing_columns_raise_naming_them():
    df = make_rfm_noise(10).drop(columns=["frequency", "monetary"])
    with pytest.raises(ClusteringError, match=r"\['frequency', 'monetary'\]"):
        cluster_customers(df, k=2)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("monetary", np.nan, r"'monetary' has 2 missing and 0 infinite"),
        ("recency_days", np.inf, r"'recency_days' has 0 missing and 2 infinite"),
    ],
)
def test_missing_or_infinite_values_raise_with_column_and_count(column, value, message):
    df = make_rfm_noise(50)
    df[column] = df[column].astype(float)
    df.loc[[3, 17], column] = value
    with pytest.raises(ClusteringError, match=message):
        cluster_customers(df, k=2)


def test_nullable_missing_values_raise():
    df = make_rfm_noise(50)
    df["frequency"] = df["frequency"].astype("Int64")
    df.loc[5, "frequency"] = pd.NA
    with pytest.raises(ClusteringError, match=r"'frequency' has 1 missing"):
        cluster_customers(df, k=2)


def test_non_numeric_feature_raises():
    df = make_rfm_noise(20)
    df["monetary"] = df["monetary"].astype(str)
    with pytest.raises(ClusteringError, match=r"'monetary' must be numeric"):
        cluster_customers(df, k=2)


@pytest.mark.parametrize("n", [0, 1])
def test_fewer_than_two_customers_raise(n):
    with pytest.raises(ClusteringError, match="at least 2 customers"):
        cluster_customers(make_rfm_noise(5).head(n), k=2)


def test_all_features_constant_raises():
    df = rfm_frame([30] * 6, [2] * 6, [99.0] * 6)
    with pytest.raises(ClusteringError, match="every feature .* is constant"):
        cluster_customers(df, k=2)


@pytest.mark.parametrize("shuffled", [False, True])
@pytest.mark.parametrize("bad", ["duplicate", "null"])
def test_bad_customer_ids_raise(bad, shuffled):
    df = make_rfm_noise(10)
    df.loc[3, "customer_id"] = df.loc[4, "customer_id"] if bad == "duplicate" else None
    if shuffled:  # sorted ids are checked for repeats by neighbours, others by hash
        df = df.iloc[[9, 4, 0, 3, 8, 1, 7, 2, 6, 5]]
    with pytest.raises(
        ClusteringError, match=f"1 {'duplicated' if bad == 'duplicate' else 'missing'}"
    ):
        cluster_customers(df, k=2)


def test_fewer_customers_than_k_reduces_k_with_warning():
    df = rfm_frame([1, 50, 400], [9, 3, 1], [900.0, 80.0, 10.0])
    with pytest.warns(ClusteringWarning, match="k reduced from 5 to 3"):
        result = cluster_customers(df, k=5)
    assert result.k == 3
    assert sorted(result.assignments["cluster_id"]) == [1, 2, 3]
    assert result.warnings and "k reduced" in result.warnings[0]
    assert result.assignments["distance_to_centroid"].tolist() == [0.0, 0.0, 0.0]


def test_few_distinct_points_caps_auto_range():
    df = rfm_frame(
        [5] * 10 + [300] * 10, [8] * 10 + [1] * 10, [700.0] * 10 + [20.0] * 10
    )
    with pytest.warns(ClusteringWarning, match="2 distinct"):
        result = cluster_customers(df, method="hierarchical", k="auto")
    assert result.diagnostics["k"].tolist() == [2]
    assert result.diagnostics["chosen"].tolist() == [True]
    assert result.profiles["customers"].tolist() == [10, 10]
    assert result.profiles["cluster_name"].tolist() == ["Lapsed", "VIP"]


def test_constant_feature_dropped_with_warning():
    df = make_rfm_noise(300, seed=15).assign(frequency=1)
    with pytest.warns(ClusteringWarning, match="'frequency' is constant"):
        result = cluster_customers(df, k=3)
    assert result.features == ["recency_days", "monetary"]
    assert any("frequency" in w for w in result.warnings)
    assert result.assignments["cluster_id"].nunique() == 3
    with pytest.warns(ClusteringWarning, match="'frequency' is constant"):
        X, used, _ = prepare_features(df)
    assert X.shape == (300, 2) and used == ["recency_days", "monetary"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"method": "dbscan"},
        {"k": 1},
        {"k": "five"},
        {"k": True},
        {"k_min": 5, "k_max": 4},
        {"transform": "sqrt"},
        {"scaling": "minmax"},
        {"features": ["recency_days", "age"]},
        {"features": []},
        {"sample_size": 2},
        {"n_init": 0},
        {"random_seed": -1},
        {"method": "hierarchical", "k": 8, "sample_size": 5},
    ],
)
def test_invalid_parameters_raise_value_error(kwargs):
    with pytest.raises(ValueError) as info:
        cluster_customers(make_rfm_noise(40), **kwargs)
    assert not isinstance(info.value, ClusteringError)


def test_choose_k_matches_auto_and_fixed_k_reproduces_auto_assignment():
    from sklearn.datasets import make_blobs

    from python_udfs.clustering import choose_k, cluster_customers

    X, _ = make_blobs(n_samples=600, centers=4, cluster_std=0.4, random_state=3)
    df = pd.DataFrame(
        {
            "customer_id": [f"c{i:04d}" for i in range(len(X))],
            "recency_days": np.exp(X[:, 0] + 4).round(),
            "frequency": np.exp(X[:, 1] / 3 + 1).round() + 1,
            "monetary": np.exp(X[:, 0] / 2 + X[:, 1] / 2 + 5),
        }
    )
    auto = cluster_customers(df, k="auto", k_min=2, k_max=6, random_seed=7)
    diagnostics = choose_k(df, k="auto", k_min=2, k_max=6, random_seed=7)
    pd.testing.assert_frame_equal(diagnostics, auto.diagnostics)
    chosen = int(diagnostics.loc[diagnostics["chosen"], "k"].iloc[0])
    fixed = cluster_customers(df, k=chosen, random_seed=7)
    pd.testing.assert_frame_equal(fixed.assignments, auto.assignments)


@pytest.mark.parametrize(
    "value",
    [
        ["recency_days", "monetary"],
        "recency_days,monetary",
        "['recency_days', 'monetary']",
        ' [ "recency_days" , "monetary" ] ',
    ],
)
def test_parse_features_accepts_lists_and_rendered_vars(value):
    from python_udfs.clustering import parse_features

    assert parse_features(value) == ["recency_days", "monetary"]


def test_choose_k_takes_the_parameters_of_cluster_customers():
    """choose_k binds its arguments to cluster_customers's signature: the
    same order and defaults, and an unknown one is a TypeError."""
    from python_udfs.clustering import choose_k

    df = make_rfm_noise(300, seed=2)
    by_keyword = quiet(choose_k, df, method="kmeans", k=3, random_seed=5)
    by_position = quiet(choose_k, df, "kmeans", 3, random_seed=5)
    pd.testing.assert_frame_equal(by_position, by_keyword)
    defaults = quiet(choose_k, df)
    assert defaults["k"].tolist() == list(range(2, 11))
    with pytest.raises(TypeError, match="n_clusters"):
        choose_k(df, n_clusters=3)

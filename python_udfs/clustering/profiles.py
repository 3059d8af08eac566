"""Cluster ids by value score, cluster names and cluster profiles."""

import numpy as np
import pandas as pd

from python_udfs.clustering.features import _WAREHOUSE_NAMES, FEATURE_COLUMNS

# Direction of each literature feature in the value score.
_VALUE_SIGN: dict[str, float] = {"recency": -1.0, "frequency": 1.0, "monetary": 1.0}
_SCORE_DECIMALS = 12  # value scores equal to this many decimals are ties
_NAME_THRESHOLD = 0.5  # population standard deviations
_NAME_GRID: dict[tuple[str, str], str] = {
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


def _profile_z(data: pd.DataFrame) -> dict[str, np.ndarray]:
    """Return population z-scores of log1p(max(x, 0)) per literature feature."""
    z: dict[str, np.ndarray] = {}
    for literature, column in _WAREHOUSE_NAMES.items():
        values = np.log1p(np.clip(data[column].to_numpy(dtype="float64"), 0.0, None))
        sd = values.std()
        z[literature] = (
            (values - values.mean()) / sd if sd > 0 else np.zeros_like(values)
        )
    return z


def _cluster_means(labels: np.ndarray, values: np.ndarray, k: int) -> np.ndarray:
    counts = np.bincount(labels, minlength=k)
    return np.bincount(labels, weights=values, minlength=k) / np.maximum(counts, 1)


def _order_by_value(
    labels: np.ndarray, z: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Map raw labels to ids ``1..k`` by ascending value score.

    Returns the id of every row and the value score of every id (index
    ``id - 1``). Empty raw labels get no id.
    """
    k_raw = int(labels.max()) + 1
    present = np.flatnonzero(np.bincount(labels, minlength=k_raw))
    score = sum(
        _VALUE_SIGN[f] * _cluster_means(labels, z[f], k_raw) for f in _VALUE_SIGN
    ) / len(_VALUE_SIGN)
    # Rows are sorted by customer_id, so the first row of a cluster holds its
    # smallest customer_id: the tie-breaker.
    first_row = np.full(k_raw, len(labels))
    np.minimum.at(first_row, labels, np.arange(len(labels)))
    order = sorted(
        present, key=lambda c: (round(float(score[c]), _SCORE_DECIMALS), first_row[c])
    )
    new_id = np.zeros(k_raw, dtype="int64")
    new_id[order] = np.arange(1, len(order) + 1)
    return new_id[labels], score[order]


def _band(value: float, low: str, mid: str, high: str) -> str:
    if value >= _NAME_THRESHOLD:
        return high
    if value <= -_NAME_THRESHOLD:
        return low
    return mid


def _cluster_names(cluster_id: np.ndarray, z: dict[str, np.ndarray]) -> np.ndarray:
    """Name every cluster id by the naming rule, deduplicated in id order."""
    k = int(cluster_id.max())
    labels = cluster_id - 1
    recency = _cluster_means(labels, z["recency"], k)
    value = (
        _cluster_means(labels, z["frequency"], k)
        + _cluster_means(labels, z["monetary"], k)
    ) / 2
    names: list[str] = []
    seen: dict[str, int] = {}
    for c in range(k):
        base = _NAME_GRID[
            (
                _band(value[c], "low", "mid", "high"),
                _band(recency[c], "recent", "average", "lapsing"),
            )
        ]
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base} {seen[base]}")
    return np.array(names, dtype=object)


def _profiles(
    data: pd.DataFrame, cluster_id: np.ndarray, names: np.ndarray, scores: np.ndarray
) -> pd.DataFrame:
    k = len(names)
    grouped = data[list(FEATURE_COLUMNS)].astype("float64").groupby(cluster_id)
    means = grouped.mean().reindex(range(1, k + 1))
    medians = grouped.median().reindex(range(1, k + 1))
    counts = np.bincount(cluster_id, minlength=k + 1)[1:]
    monetary = data[_WAREHOUSE_NAMES["monetary"]].to_numpy(dtype="float64")
    revenue = np.bincount(cluster_id, weights=monetary, minlength=k + 1)[1:]
    total = monetary.sum()
    profiles = pd.DataFrame(
        {
            "cluster_id": np.arange(1, k + 1, dtype="int64"),
            "cluster_name": pd.Series(names, dtype="str"),
            "customers": counts.astype("int64"),
            "customer_share": counts / counts.sum(),
        }
    )
    for column in FEATURE_COLUMNS:
        profiles[f"centroid_{column}"] = means[column].to_numpy(dtype="float64")
    for column in FEATURE_COLUMNS:
        profiles[f"median_{column}"] = medians[column].to_numpy(dtype="float64")
    profiles["revenue_share"] = revenue / total if total != 0 else np.nan
    profiles["value_score"] = np.asarray(scores, dtype="float64")
    return profiles

"""K-Means and Ward fits, seeded samples, assignment to the nearest centre."""

from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import cut_tree, ward
from sklearn.cluster import KMeans

from python_udfs.clustering.features import _count_distinct

_CHUNK_ROWS = 1 << 16  # rows per chunk in the nearest-centre search (cache-sized)
# Sample stream of the k-means sample (the evaluation sample has its own).
_KMEANS_STREAM = 1


@dataclass(frozen=True)
class _Fit:
    """Centres of one fit and, for Ward, the labels of the fitted sample."""

    centers: np.ndarray
    sample_idx: np.ndarray | None = None
    sample_labels: np.ndarray | None = None


def _sample_indices(n: int, size: int | None, seed: int, stream: int) -> np.ndarray:
    """Sorted seeded sample of row positions (all rows if ``n <= size``)."""
    if size is None or n <= size:
        return np.arange(n)
    rng = np.random.default_rng([seed, stream])
    return np.sort(rng.choice(n, size=size, replace=False))


def _assign(X: np.ndarray, fit: _Fit) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centre of every row (first centre on ties), squared distance.

    Rows of the Ward sample keep their Ward cluster and get the squared
    distance to its centroid. Distances are accumulated one feature column
    at a time in feature order, the order in which summing the squared
    differences of a row adds them, so the result is the same as that sum;
    a later centre replaces the best only when strictly nearer.
    """
    centers = fit.centers
    n = len(X)
    labels = np.zeros(n, dtype="int64")
    sq_dist = np.full(n, np.inf)
    step = _CHUNK_ROWS
    for start in range(0, n, step):
        columns = np.ascontiguousarray(X[start : start + step].T)
        best = sq_dist[start : start + step]
        best_label = labels[start : start + step]
        d2 = np.empty(columns.shape[1])
        diff = np.empty(columns.shape[1])
        for j, center in enumerate(centers):
            np.subtract(columns[0], center[0], out=d2)
            np.square(d2, out=d2)
            for c in range(1, columns.shape[0]):
                np.subtract(columns[c], center[c], out=diff)
                np.square(diff, out=diff)
                d2 += diff
            nearer = d2 < best
            best[nearer] = d2[nearer]
            best_label[nearer] = j
    if fit.sample_idx is not None:
        idx, own = fit.sample_idx, fit.sample_labels
        labels[idx] = own
        sq_dist[idx] = ((X[idx] - centers[own]) ** 2).sum(axis=1)
    return labels, sq_dist


def _fit_kmeans(
    X: np.ndarray,
    ks: list[int],
    kmeans_sample_size: int | None,
    n_init: int,
    random_seed: int,
    notes: list[str],
) -> dict[int, _Fit]:
    fit_idx = _sample_indices(len(X), kmeans_sample_size, random_seed, _KMEANS_STREAM)
    X_fit = X[fit_idx]
    sample_distinct = (
        _count_distinct(X_fit, enough=ks[-1]) if len(fit_idx) < len(X) else len(X)
    )
    fits: dict[int, _Fit] = {}
    for k in ks:
        # A sample with fewer distinct rows than k would give duplicate centres.
        data = X_fit if sample_distinct >= k else X
        if data is X and len(fit_idx) < len(X):
            notes.append(f"k={k}: k-means sample too uniform, fitted on all rows")
        model = KMeans(n_clusters=k, n_init=n_init, random_state=random_seed)
        fits[k] = _Fit(centers=model.fit(data).cluster_centers_.astype("float64"))
    return fits


def _fit_ward(X: np.ndarray, ks: list[int], sample_idx: np.ndarray) -> dict[int, _Fit]:
    X_sample = X[sample_idx]
    tree = ward(X_sample)  # same merges as AgglomerativeClustering(linkage="ward")
    cuts = cut_tree(tree, n_clusters=ks)
    fits: dict[int, _Fit] = {}
    for j, k in enumerate(ks):
        own = cuts[:, j].astype("int64")
        counts = np.bincount(own, minlength=k)
        if (counts == 0).any() or len(counts) != k:
            raise RuntimeError(f"Ward cut gave {len(counts)} clusters, expected {k}")
        sums = np.vstack(
            [
                np.bincount(own, weights=X_sample[:, c], minlength=k)
                for c in range(X.shape[1])
            ]
        ).T
        fits[k] = _Fit(
            centers=sums / counts[:, None], sample_idx=sample_idx, sample_labels=own
        )
    return fits

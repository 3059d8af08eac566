"""Fit, score and choose k: silhouette, Davies-Bouldin, Calinski-Harabasz."""

import numpy as np
import pandas as pd
from sklearn.metrics import (
    calinski_harabasz_score,
    davies_bouldin_score,
    pairwise_distances_chunked,
)
from threadpoolctl import threadpool_limits  # a scikit-learn dependency

from python_udfs.clustering.features import _count_distinct
from python_udfs.clustering.fit import (
    _assign,
    _Fit,
    _fit_kmeans,
    _fit_ward,
    _sample_indices,
)

_WORKING_MEMORY_MB = 8  # MB per chunk of silhouette distances (8 was fastest)
# OpenMP/BLAS threads while fitting and scoring. One thread makes floating-point
# sums, hence results, identical on every machine, and on the 2-vCPU dev box it
# was faster than two (two KMeans fits on 100,000 rows: 1.0 s against 7.0 s).
_N_THREADS = 1
_SILHOUETTE_TOL = 1e-12  # silhouettes within this of the best are ties
# Sample stream of the evaluation sample (the k-means sample has its own).
_EVAL_STREAM = 0

_DIAGNOSTIC_COLUMNS = [
    "method",
    "k",
    "inertia",
    "silhouette",
    "davies_bouldin",
    "calinski_harabasz",
    "chosen",
]


def _silhouettes(X_eval: np.ndarray, label_sets: list[np.ndarray]) -> list[float]:
    """Mean silhouette of each labelling of the rows ``X_eval``.

    The same numbers as ``sklearn.metrics.silhouette_score(X_eval, labels)``
    (Euclidean; a point alone in its cluster, or at distance 0 from both,
    scores 0), up to the order of floating-point sums, but the pairwise
    distances are computed once for all labellings, in chunks of at most
    ``_WORKING_MEMORY_MB`` (scikit-learn's own chunked routine), and each
    chunk's distance sums per cluster are one matrix product per labelling
    instead of a ``bincount`` per row and labelling.
    """
    codes = [np.unique(labels, return_inverse=True)[1] for labels in label_sets]
    sizes = [np.bincount(code).astype("float64") for code in codes]
    members = [np.eye(len(size))[code] for code, size in zip(codes, sizes, strict=True)]
    scores = np.empty((len(label_sets), len(X_eval)))
    start = 0
    for distances in pairwise_distances_chunked(
        X_eval, working_memory=_WORKING_MEMORY_MB
    ):
        stop = start + len(distances)
        rows = np.arange(len(distances))
        for j, (code, size, member) in enumerate(
            zip(codes, sizes, members, strict=True)
        ):
            own = code[start:stop]
            sums = distances @ member  # distance to every member of each cluster
            intra = sums[rows, own]
            sums[rows, own] = np.inf
            inter = (sums / size).min(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                intra = intra / (size[own] - 1)
                score = (inter - intra) / np.maximum(intra, inter)
            scores[j, start:stop] = np.nan_to_num(score)
        start = stop
    return [float(row.mean()) for row in scores]


def _quality(X_eval: np.ndarray, label_sets: list[np.ndarray]) -> list[tuple]:
    """(silhouette, Davies-Bouldin, Calinski-Harabasz) of each labelling.

    NaNs where a labelling has fewer than 2 or more than n - 1 clusters.
    """
    valid = [2 <= np.unique(labels).size <= len(X_eval) - 1 for labels in label_sets]
    silhouettes = iter(
        _silhouettes(
            X_eval, [labels for labels, ok in zip(label_sets, valid, strict=True) if ok]
        )
    )
    return [
        (
            next(silhouettes),
            float(davies_bouldin_score(X_eval, labels)),
            float(calinski_harabasz_score(X_eval, labels)),
        )
        if ok
        else (np.nan, np.nan, np.nan)
        for labels, ok in zip(label_sets, valid, strict=True)
    ]


def _evaluate(
    X: np.ndarray,
    ks: list[int],
    method: str,
    sample_size: int,
    kmeans_sample_size: int | None,
    n_init: int,
    random_seed: int,
    warned: list[str],
    notes: list[str],
) -> tuple[pd.DataFrame, dict[int, _Fit]]:
    """Fit and score every ``k``; return diagnostics and the fits."""
    with threadpool_limits(limits=_N_THREADS):
        eval_idx = _sample_indices(len(X), sample_size, random_seed, _EVAL_STREAM)
        if len(eval_idx) < len(X):
            notes.append(
                f"quality scores computed on a seeded sample of {len(eval_idx)}"
            )
        if method == "kmeans" and kmeans_sample_size is not None:
            if kmeans_sample_size < len(X):
                notes.append(
                    f"KMeans fitted on a seeded sample of {kmeans_sample_size}"
                )
        if method == "kmeans":
            fits = _fit_kmeans(X, ks, kmeans_sample_size, n_init, random_seed, notes)
        else:
            if ks[-1] > len(eval_idx):
                raise ValueError(
                    f"hierarchical needs sample_size >= k, got {sample_size} < {ks[-1]}"
                )
            if len(eval_idx) < len(X):
                notes.append(
                    f"Ward fitted on a seeded sample of {len(eval_idx)}; other "
                    "customers assigned to the nearest centroid"
                )
            if _count_distinct(X[eval_idx], enough=ks[-1]) < ks[-1]:
                notes.append(
                    "Ward sample has fewer distinct customers than k: some clusters "
                    "split identical customers"
                )
            fits = _fit_ward(X, ks, eval_idx)
        inertias, eval_labels = [], []
        for k in ks:
            labels, sq_dist = _assign(X, fits[k])
            inertias.append(float(sq_dist.sum()))
            eval_labels.append(labels[eval_idx])
        rows = [
            (method, k, inertia, *quality)
            for k, inertia, quality in zip(
                ks, inertias, _quality(X[eval_idx], eval_labels), strict=True
            )
        ]
        diagnostics = pd.DataFrame(rows, columns=_DIAGNOSTIC_COLUMNS[:-1])
        silhouette = diagnostics["silhouette"].to_numpy()
        if np.isfinite(silhouette).any():
            best = np.nanmax(silhouette)
            chosen = int(np.flatnonzero(silhouette >= best - _SILHOUETTE_TOL)[0])
        else:
            chosen = 0
            if len(ks) > 1:
                warned.append(
                    f"silhouette undefined for every k in {ks}; chose k={ks[0]}"
                )
        diagnostics["chosen"] = np.arange(len(ks)) == chosen
        return _diagnostics_dtypes(diagnostics), fits


def _diagnostics_dtypes(diagnostics: pd.DataFrame) -> pd.DataFrame:
    return diagnostics.astype(
        {
            "method": "str",
            "k": "int64",
            "inertia": "float64",
            "silhouette": "float64",
            "davies_bouldin": "float64",
            "calinski_harabasz": "float64",
            "chosen": "bool",
        }
    )[_DIAGNOSTIC_COLUMNS]

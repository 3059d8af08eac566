"""Entry points: :func:`cluster_customers`, :func:`choose_k`, :func:`select_k`."""

import inspect
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from python_udfs.clustering.features import (
    CUSTOMER_ID,
    FEATURE_COLUMNS,
    ClusteringWarning,
    TooFewCustomersError,
    _as_int,
    _check_customer_ids,
    _check_k,
    _check_k_range,
    _check_matrix,
    _check_method,
    _check_sizes,
    _count_distinct,
    _feasible_ks,
    _prepare_features,
    _require_columns,
)
from python_udfs.clustering.fit import _assign, _Fit
from python_udfs.clustering.profiles import (
    _cluster_names,
    _order_by_value,
    _profile_z,
    _profiles,
)
from python_udfs.clustering.quality import _evaluate

__all__ = ["ClusteringResult", "choose_k", "cluster_customers", "select_k"]

_DEFAULT_SAMPLE_SIZE = 10_000
_DEFAULT_KMEANS_SAMPLE_SIZE = 100_000
_DEFAULT_N_INIT = 10
_DEFAULT_SEED = 42


@dataclass(frozen=True)
class ClusteringResult:
    """Output of :func:`cluster_customers`.

    Attributes
    ----------
    assignments : pandas.DataFrame
        One row per customer, sorted by ``customer_id``: ``customer_id``
        (input dtype), ``cluster_id`` (int64, ``1..k``), ``cluster_name``
        (str), ``method`` (str), ``k`` (int64, final number of clusters),
        ``distance_to_centroid`` (float64, Euclidean, in the clustering
        feature space, which is standardized by default).
    profiles : pandas.DataFrame
        One row per cluster, sorted by ``cluster_id``: ``cluster_id`` (int64),
        ``cluster_name`` (str), ``customers`` (int64), ``customer_share``,
        ``centroid_recency_days``, ``centroid_frequency``,
        ``centroid_monetary`` (means of the members' original values),
        ``median_recency_days``, ``median_frequency``, ``median_monetary``,
        ``revenue_share`` (cluster's sum of ``monetary`` over the total; NaN
        if the total is 0) and ``value_score`` (all float64).
    diagnostics : pandas.DataFrame
        One row per ``k`` tried, see :func:`select_k`.
    method : str
        Clustering method used.
    k : int
        Final number of clusters.
    features : list of str
        Features actually used (constant ones dropped).
    warnings : list of str
        Messages of every :class:`ClusteringWarning` raised.
    notes : list of str
        Informational messages (negative values clipped, sampling used, ...).
    """

    assignments: pd.DataFrame
    profiles: pd.DataFrame
    diagnostics: pd.DataFrame
    method: str
    k: int
    features: list[str]
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def select_k(
    X: np.ndarray,
    k_range: Iterable[int] = range(2, 11),
    method: str = "kmeans",
    sample_size: int = _DEFAULT_SAMPLE_SIZE,
    kmeans_sample_size: int | None = _DEFAULT_KMEANS_SAMPLE_SIZE,
    n_init: int = _DEFAULT_N_INIT,
    random_seed: int = _DEFAULT_SEED,
) -> pd.DataFrame:
    """Fit every ``k`` in ``k_range`` and score it; choose by silhouette.

    All three quality scores are computed on the same seeded sample of
    ``sample_size`` rows (all rows if fewer). The chosen ``k`` has the highest
    silhouette; silhouettes within 1e-12 of the best are ties, won by the
    smaller ``k``. A ``k`` whose sample holds fewer than 2 or more than
    ``sample_size - 1`` clusters gets NaN scores; if every ``k`` does, the
    smallest is chosen with a :class:`ClusteringWarning`. Values of ``k``
    above the number of distinct rows of ``X`` are dropped with a
    :class:`ClusteringWarning`.

    Parameters
    ----------
    X : numpy.ndarray
        Finite feature matrix, e.g. from :func:`prepare_features`, with rows
        in a fixed order (sorted by ``customer_id``).
    k_range : iterable of int
        Numbers of clusters to try, each at least 2.
    method : {"kmeans", "hierarchical"}
        ``kmeans``: ``KMeans(n_init=n_init, random_state=random_seed)`` on a
        seeded sample of ``kmeans_sample_size`` rows (``None``: all rows);
        every row is then assigned to its nearest centre. ``hierarchical``:
        Ward linkage (as ``AgglomerativeClustering(linkage="ward")``) on the
        seeded sample of ``sample_size`` rows, cut at each ``k``; sample rows
        keep their Ward cluster, other rows go to the nearest centroid.
    sample_size : int
        Rows used for the quality scores and for the Ward fit.
    kmeans_sample_size : int or None
        Rows ``KMeans`` is fitted on.
    n_init : int
        k-means++ initialisations per ``k``.
    random_seed : int
        Seed for the samples and ``KMeans``, in ``[0, 2**32)``.

    Returns
    -------
    pandas.DataFrame
        One row per ``k`` tried, ascending: ``method`` (str), ``k`` (int64),
        ``inertia`` (sum over all rows of the squared distance to the assigned
        centre: k-means inertia, or Ward's within-cluster sum of squares),
        ``silhouette``, ``davies_bouldin``, ``calinski_harabasz`` (float64, on
        the sample) and ``chosen`` (bool, exactly one True).

    Raises
    ------
    ClusteringError
        ``X`` not finite or 2-D, or fewer than 2 distinct rows.
    ValueError
        Invalid ``k_range``, method, sample sizes, ``n_init`` or seed.

    References
    ----------
    .. [1] Rousseeuw, P. J. (1987). "Silhouettes: a graphical aid to the
       interpretation and validation of cluster analysis". Journal of
       Computational and Applied Mathematics 20, 53-65.
    .. [2] Davies, D. L. & Bouldin, D. W. (1979). "A cluster separation
       measure". IEEE TPAMI 1(2), 224-227.
    .. [3] Caliński, T. & Harabasz, J. (1974). "A dendrite method for cluster
       analysis". Communications in Statistics 3(1), 1-27.
    """
    ks = _check_k_range(k_range)
    _check_method(method)
    _check_sizes(sample_size, kmeans_sample_size, n_init, random_seed)
    X = _check_matrix(X)
    warned: list[str] = []
    ks = _feasible_ks(ks, _count_distinct(X, enough=ks[-1]), warned)
    diagnostics, _ = _evaluate(
        X, ks, method, sample_size, kmeans_sample_size, n_init, random_seed, warned, []
    )
    for message in warned:
        warnings.warn(message, ClusteringWarning, stacklevel=2)
    return diagnostics


def cluster_customers(
    df: pd.DataFrame,
    method: str = "kmeans",
    k: int | str = "auto",
    features: Sequence[str] = FEATURE_COLUMNS,
    transform: str = "log1p",
    scaling: str = "standard",
    k_min: int = 2,
    k_max: int = 10,
    sample_size: int = _DEFAULT_SAMPLE_SIZE,
    kmeans_sample_size: int | None = _DEFAULT_KMEANS_SAMPLE_SIZE,
    n_init: int = _DEFAULT_N_INIT,
    random_seed: int = _DEFAULT_SEED,
) -> ClusteringResult:
    r"""Cluster customers on RFM features, number and name the clusters.

    See the package docstring for the pipeline, the value score that orders
    cluster ids, the naming rule and the handling of bad input.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per customer with ``customer_id`` (unique, non-null),
        ``recency_days``, ``frequency`` and ``monetary`` (all three are needed
        for the profiles and names even if ``features`` is a subset). Not
        modified; row order does not matter.
    method : {"kmeans", "hierarchical"}
        Clustering method, see :func:`select_k`.
    k : int or "auto"
        Number of clusters (at least 2), or ``"auto"`` to try
        ``k_min..k_max`` and keep the best silhouette.
    features : sequence of str
        Features to cluster on, see :func:`prepare_features`.
    transform : {"log1p", "none"}
        See :func:`prepare_features`.
    scaling : {"standard", "none"}
        See :func:`prepare_features`.
    k_min, k_max : int
        Range tried when ``k="auto"`` (``2 <= k_min <= k_max``).
    sample_size : int
        Seeded sample for the quality scores and the Ward fit.
    kmeans_sample_size : int or None
        Seeded sample ``KMeans`` is fitted on (``None``: all rows).
    n_init : int
        k-means++ initialisations per fit.
    random_seed : int
        Seed for every random step, in ``[0, 2**32)``.

    Returns
    -------
    ClusteringResult
        ``assignments`` (``customer_id``, ``cluster_id``, ``cluster_name``,
        ``method``, ``k``, ``distance_to_centroid``), ``profiles``
        (``cluster_id``, ``cluster_name``, ``customers``, ``customer_share``,
        ``centroid_recency_days``, ``centroid_frequency``,
        ``centroid_monetary``, ``median_recency_days``, ``median_frequency``,
        ``median_monetary``, ``revenue_share``, ``value_score``),
        ``diagnostics`` (as :func:`select_k`; one row with ``chosen=True``
        when ``k`` is fixed), plus ``warnings`` and ``notes``.

    Raises
    ------
    ClusteringError
        Bad input data (see the package docstring).
    ValueError
        Invalid parameters.

    References
    ----------
    .. [1] Arthur, D. & Vassilvitskii, S. (2007). "k-means++: the advantages
       of careful seeding". Proceedings of SODA 2007, 1027-1035.
    .. [2] Ward, J. H. (1963). "Hierarchical grouping to optimize an objective
       function". JASA 58(301), 236-244.
    """
    data, X, ks, used, notes, warned, diagnostics, fits = _prepare_and_evaluate(
        df,
        method,
        k,
        features,
        transform,
        scaling,
        k_min,
        k_max,
        sample_size,
        kmeans_sample_size,
        n_init,
        random_seed,
    )
    if _check_k(k) is not None:
        notes.append(f"k fixed at {ks[0]}")
    chosen_k = int(diagnostics.loc[diagnostics["chosen"], "k"].iloc[0])
    labels, sq_dist = _assign(X, fits[chosen_k])

    z = _profile_z(data)
    cluster_id, scores = _order_by_value(labels, z)
    if cluster_id.max() < chosen_k:
        warned.append(
            f"{chosen_k - int(cluster_id.max())} of {chosen_k} clusters ended up "
            "empty after assigning all customers; they were dropped"
        )
    k_final = int(cluster_id.max())
    names = _cluster_names(cluster_id, z)

    assignments = pd.DataFrame(
        {
            CUSTOMER_ID: data[CUSTOMER_ID],
            "cluster_id": cluster_id.astype("int64"),
            "cluster_name": pd.Series(names[cluster_id - 1], dtype="str"),
            "method": pd.Series([method] * len(data), dtype="str"),
            "k": np.full(len(data), k_final, dtype="int64"),
            "distance_to_centroid": np.sqrt(sq_dist).astype("float64"),
        }
    )
    profiles = _profiles(data, cluster_id, names, scores)

    for message in warned:
        warnings.warn(message, ClusteringWarning, stacklevel=2)
    return ClusteringResult(
        assignments=assignments,
        profiles=profiles,
        diagnostics=diagnostics,
        method=method,
        k=k_final,
        features=used,
        warnings=warned,
        notes=notes,
    )


def choose_k(df: pd.DataFrame, *args: Any, **kwargs: Any) -> pd.DataFrame:
    """Diagnostics of every k tried, as :func:`cluster_customers` chooses.

    Runs the same validation, ordering, feature preparation and k range as
    :func:`cluster_customers`, so that a dbt model can record the choice and
    a second model can cluster with the chosen k fixed, without fitting the
    whole range twice.

    Parameters
    ----------
    df : pandas.DataFrame
        As for :func:`cluster_customers`.
    *args, **kwargs
        The other parameters of :func:`cluster_customers` (``method``,
        ``k``, ``features``, ``transform``, ``scaling``, ``k_min``,
        ``k_max``, ``sample_size``, ``kmeans_sample_size``, ``n_init``,
        ``random_seed``), in the same order and with the same defaults.

    Returns
    -------
    pandas.DataFrame
        ``method``, ``k``, ``inertia``, ``silhouette``, ``davies_bouldin``,
        ``calinski_harabasz``, ``chosen`` (exactly one row True).
    """
    # cluster_customers's signature is the one list of the parameters.
    arguments = inspect.signature(cluster_customers).bind(df, *args, **kwargs)
    arguments.apply_defaults()
    *_, warned, diagnostics, _ = _prepare_and_evaluate(*arguments.args)
    for message in warned:
        warnings.warn(message, ClusteringWarning, stacklevel=2)
    return diagnostics


def _prepare_and_evaluate(
    df: pd.DataFrame,
    method: str,
    k: int | str,
    features: Sequence[str],
    transform: str,
    scaling: str,
    k_min: int,
    k_max: int,
    sample_size: int,
    kmeans_sample_size: int | None,
    n_init: int,
    random_seed: int,
) -> tuple[
    pd.DataFrame,
    np.ndarray,
    list[int],
    list[str],
    list[str],
    list[str],
    pd.DataFrame,
    dict[int, _Fit],
]:
    """Validate, order by customer id, build features, fit and score every k.

    Returns the ordered data, the feature matrix, the feasible ks, the
    features used, the notes and warnings so far, the diagnostics and the
    fit of every k.
    """
    _check_method(method)
    fixed_k = _check_k(k)
    if fixed_k is None:
        if not 2 <= _as_int(k_min, "k_min") <= _as_int(k_max, "k_max"):
            raise ValueError(
                f"need 2 <= k_min <= k_max, got k_min={k_min}, k_max={k_max}"
            )
        ks = list(range(k_min, k_max + 1))
    else:
        ks = [fixed_k]
    _check_sizes(sample_size, kmeans_sample_size, n_init, random_seed)
    _require_columns(df, [CUSTOMER_ID, *FEATURE_COLUMNS])
    if len(df) < 2:
        raise TooFewCustomersError(
            f"need at least 2 customers to cluster, got {len(df)}"
        )
    already_sorted = _check_customer_ids(df[CUSTOMER_ID])

    data = df[[CUSTOMER_ID, *FEATURE_COLUMNS]]
    # Sorted by the warehouse (ORDER BY customer_id), the rows need no sort.
    data = (
        data.reset_index(drop=True)
        if already_sorted
        else data.sort_values(CUSTOMER_ID, kind="mergesort", ignore_index=True)
    )
    warned: list[str] = []
    X, used, notes = _prepare_features(data, features, transform, scaling, warned)
    ks = _feasible_ks(ks, _count_distinct(X, enough=ks[-1]), warned)
    diagnostics, fits = _evaluate(
        X,
        ks,
        method,
        sample_size,
        kmeans_sample_size,
        n_init,
        random_seed,
        warned,
        notes,
    )
    return data, X, ks, used, notes, warned, diagnostics, fits

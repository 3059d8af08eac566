"""Clustering as warehouse tables: what the dbt Python models return.

``int_customers_cluster_k_chosen`` returns :func:`choose_k_table` and
``int_customers_clustered`` returns :func:`cluster_with_chosen_k`. Unlike
:func:`~python_udfs.clustering.choose_k` and
:func:`~python_udfs.clustering.cluster_customers`, they do not raise when
the data cannot support clustering (fewer than 2 customers, or fewer than 2
distinct ones in feature space: :class:`TooFewCustomersError`): the
diagnostics say why in one ``not_clustered`` row and the assignments are
empty, so that a production build goes on and the data test
``tests/degraded/fewer_distinct_customers_than_clusters`` warns. Bad input
(missing columns or ids, non-finite values) still raises.
"""

import inspect
import warnings

import numpy as np
import pandas as pd

from python_udfs._threads import pin_one_native_thread
from python_udfs.clustering.api import choose_k, cluster_customers
from python_udfs.clustering.features import (
    CUSTOMER_ID,
    ClusteringWarning,
    TooFewCustomersError,
    _check_k,
)

__all__ = ["CLUSTERING_STATUSES", "choose_k_table", "cluster_with_chosen_k"]

#: ``clustering_status`` of :func:`choose_k_table`: every k as asked;
#: fewer distinct customers than the smallest k asked, so k is that number;
#: fewer than 2 (distinct) customers, so no clusters.
CLUSTERING_STATUSES = ("clustered", "k_reduced", "not_clustered")


def choose_k_table(df: pd.DataFrame, *args: object, **kwargs: object) -> pd.DataFrame:
    """Return the diagnostics of :func:`choose_k` with what the data allowed.

    Parameters
    ----------
    df : pandas.DataFrame
        As for :func:`~python_udfs.clustering.cluster_customers`.
    *args, **kwargs
        The other parameters of
        :func:`~python_udfs.clustering.cluster_customers`, as
        :func:`choose_k` takes them.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`choose_k` (``method``, ``k``, ``inertia``,
        ``silhouette``, ``davies_bouldin``, ``calinski_harabasz``,
        ``chosen``) plus ``clustering_status`` (one of
        :data:`CLUSTERING_STATUSES`, the same on every row) and ``message``
        (the :class:`ClusteringWarning` messages, e.g. ``k`` reduced; for
        ``not_clustered`` the reason). ``not_clustered`` is one row with a
        null ``k`` (nullable ``Int64``), NaN scores and ``chosen`` False.

    Raises
    ------
    ClusteringError
        Bad input other than too few customers.
    """
    pin_one_native_thread()  # dbt runs two Python models at once (_threads)
    arguments = inspect.signature(cluster_customers).bind(df, *args, **kwargs)
    arguments.apply_defaults()
    options = arguments.arguments
    fixed_k = _check_k(options["k"])
    smallest_asked = fixed_k if fixed_k is not None else int(options["k_min"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ClusteringWarning)
        try:
            diagnostics = choose_k(*arguments.args)
        except TooFewCustomersError as error:
            return _not_clustered(str(options["method"]), str(error))
    messages = []
    for warning in caught:
        if issubclass(warning.category, ClusteringWarning):
            messages.append(str(warning.message))
        warnings.warn(warning.message, stacklevel=2)
    reduced = int(diagnostics["k"].min()) < smallest_asked
    diagnostics = diagnostics.copy()
    diagnostics["clustering_status"] = pd.Series(
        ["k_reduced" if reduced else "clustered"] * len(diagnostics), dtype="str"
    )
    diagnostics["message"] = pd.Series(
        ["; ".join(messages)] * len(diagnostics), dtype="str"
    )
    return diagnostics


def _not_clustered(method: str, reason: str) -> pd.DataFrame:
    """Return the one diagnostics row of data that cannot be clustered."""
    return pd.DataFrame(
        {
            "method": pd.Series([method], dtype="str"),
            "k": pd.array([pd.NA], dtype="Int64"),
            "inertia": np.array([np.nan]),
            "silhouette": np.array([np.nan]),
            "davies_bouldin": np.array([np.nan]),
            "calinski_harabasz": np.array([np.nan]),
            "chosen": np.array([False]),
            "clustering_status": pd.Series(["not_clustered"], dtype="str"),
            "message": pd.Series([reason], dtype="str"),
        }
    )


def cluster_with_chosen_k(
    df: pd.DataFrame, diagnostics: pd.DataFrame, **kwargs: object
) -> pd.DataFrame:
    """Return the assignments with the k that ``diagnostics`` chose, or none.

    Parameters
    ----------
    df : pandas.DataFrame
        As for :func:`~python_udfs.clustering.cluster_customers`.
    diagnostics : pandas.DataFrame
        :func:`choose_k_table` of the same data (``k``, ``chosen``).
    **kwargs
        The other parameters of
        :func:`~python_udfs.clustering.cluster_customers` except ``k``.

    Returns
    -------
    pandas.DataFrame
        ``ClusteringResult.assignments`` of ``cluster_customers`` with the
        chosen ``k`` (``customer_id``, ``cluster_id``, ``cluster_name``,
        ``method``, ``k``, ``distance_to_centroid``); no rows, with those
        columns and types (``customer_id`` as text when the input's ids are
        objects), when no k was chosen (``not_clustered``).
    """
    pin_one_native_thread()  # dbt runs two Python models at once (_threads)
    chosen = diagnostics.loc[diagnostics["chosen"].astype(bool), "k"]
    if chosen.empty:
        # An empty object column would reach the warehouse untyped.
        id_dtype = df[CUSTOMER_ID].dtype
        return pd.DataFrame(
            {
                CUSTOMER_ID: pd.Series(
                    [],
                    dtype="str" if pd.api.types.is_object_dtype(id_dtype) else id_dtype,
                ),
                "cluster_id": pd.Series([], dtype="int64"),
                "cluster_name": pd.Series([], dtype="str"),
                "method": pd.Series([], dtype="str"),
                "k": pd.Series([], dtype="int64"),
                "distance_to_centroid": pd.Series([], dtype="float64"),
            }
        )
    return cluster_customers(df, k=int(chosen.iloc[0]), **kwargs).assignments

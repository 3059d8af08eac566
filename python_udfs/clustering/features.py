"""Warehouse names, input checks and the clustering feature matrix."""

import warnings
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "CUSTOMER_ID",
    "FEATURE_COLUMNS",
    "METHODS",
    "SCALINGS",
    "TRANSFORMS",
    "ClusteringError",
    "ClusteringWarning",
    "TooFewCustomersError",
    "input_columns",
    "parse_features",
    "prepare_features",
]

# --- Warehouse names: the only place they are spelled out. -------------------
CUSTOMER_ID = "customer_id"
_WAREHOUSE_NAMES: dict[str, str] = {
    "recency": "recency_days",
    "frequency": "frequency",
    "monetary": "monetary",
}
FEATURE_COLUMNS: tuple[str, ...] = tuple(_WAREHOUSE_NAMES.values())

METHODS: tuple[str, ...] = ("kmeans", "hierarchical")
TRANSFORMS: tuple[str, ...] = ("log1p", "none")
SCALINGS: tuple[str, ...] = ("standard", "none")

_DISTINCT_PROBE_ROWS = 4096  # rows looked at first when enough distinct ones will do


class ClusteringError(ValueError):
    """Input data that cannot be clustered (see the package docstring)."""


class TooFewCustomersError(ClusteringError):
    """Fewer than 2 customers, or fewer than 2 distinct ones in feature space.

    The data cannot support clustering (a production build leaves the
    clusters empty instead of failing, see
    :func:`python_udfs.clustering.tables.choose_k_table`); the other
    :class:`ClusteringError` cases are bad input.
    """


class ClusteringWarning(UserWarning):
    """Input was adjusted (feature dropped, ``k`` reduced) before clustering."""


def prepare_features(
    df: pd.DataFrame,
    features: Sequence[str] = FEATURE_COLUMNS,
    transform: str = "log1p",
    scaling: str = "standard",
) -> tuple[np.ndarray, list[str], list[str]]:
    r"""Build the clustering feature matrix from warehouse RFM columns.

    With ``transform="log1p"`` each feature is clipped at 0 and log-transformed,
    :math:`x \mapsto \log(1 + \max(x, 0))`. Only ``monetary`` is expected to be
    negative (customers who returned everything), so those customers get the
    same value as customers with zero net revenue; the count is reported in
    ``notes``. With ``transform="none"`` values are used as they are. A feature
    that is constant after the transform is dropped with a
    :class:`ClusteringWarning`. ``scaling="standard"`` then centres each
    feature and divides it by its standard deviation (``ddof=0``).

    Rows are used in the order given; sort by ``customer_id`` first if the
    result must not depend on row order (:func:`cluster_customers` does).

    Parameters
    ----------
    df : pandas.DataFrame
        Must contain every column in ``features``; it is not modified.
    features : sequence of str
        Non-empty subset of ``recency_days``, ``frequency``, ``monetary``.
    transform : {"log1p", "none"}
        Transform applied to each feature.
    scaling : {"standard", "none"}
        Scaling applied after the transform.

    Returns
    -------
    X : numpy.ndarray
        float64 array of shape ``(len(df), len(used_features))``, one column
        per used feature, in ``used_features`` order.
    used_features : list of str
        Features kept (constant ones dropped), in the order given.
    notes : list of str
        Clipping counts and dropped features.

    Raises
    ------
    ClusteringError
        Missing columns, fewer than 2 rows, non-numeric, missing or infinite
        values, or every feature constant.
    ValueError
        Unknown feature, transform or scaling.

    References
    ----------
    .. [1] Hughes, A. M. (1994). *Strategic Database Marketing*. Probus.
    """
    warned: list[str] = []
    X, used, notes = _prepare_features(df, features, transform, scaling, warned)
    for message in warned:
        warnings.warn(message, ClusteringWarning, stacklevel=2)
    return X, used, notes


def parse_features(value: str | Sequence[str]) -> list[str]:
    """Feature names from a list, or from text as dbt renders a var.

    Parameters
    ----------
    value : str or sequence of str
        ``["recency_days", "frequency"]``, ``"recency_days,frequency"`` or
        the text of a list, ``"['recency_days', 'frequency']"``.

    Returns
    -------
    list of str
        The names, stripped of blanks, brackets and quotes.
    """
    if isinstance(value, str):
        parts = value.strip().strip("[]").split(",")
        names = [part.strip().strip("'\"") for part in parts]
    else:
        names = [str(part).strip() for part in value]
    return [name for name in names if name]


def input_columns(features: Sequence[str] = FEATURE_COLUMNS) -> list[str]:
    """Columns :func:`choose_k` and :func:`cluster_customers` read.

    The customer id, the profile measures (recency, frequency, monetary) and
    the clustering ``features``, each once, so a caller can load just
    these from a wide table.
    """
    return list(dict.fromkeys([CUSTOMER_ID, *FEATURE_COLUMNS, *features]))


# --- Validation helpers -----------------------------------------------------------


def _as_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an int, got {value!r}")
    return int(value)


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def _check_k(k: int | str) -> int | None:
    if isinstance(k, str) and k.strip().isdigit():
        k = int(k)  # dbt renders vars as text
    if isinstance(k, str):
        if k != "auto":
            raise ValueError(f'k must be an int >= 2 or "auto", got {k!r}')
        return None
    k = _as_int(k, "k")
    if k < 2:
        raise ValueError(f"k must be >= 2, got {k}")
    return k


def _check_k_range(k_range: Iterable[int]) -> list[int]:
    ks = sorted({_as_int(k, "each k in k_range") for k in k_range})
    if not ks or ks[0] < 2:
        raise ValueError(f"k_range must be non-empty with every k >= 2, got {ks}")
    return ks


def _check_sizes(
    sample_size: int, kmeans_sample_size: int | None, n_init: int, random_seed: int
) -> None:
    if _as_int(sample_size, "sample_size") < 3:
        raise ValueError(f"sample_size must be >= 3, got {sample_size}")
    if kmeans_sample_size is not None and (
        _as_int(kmeans_sample_size, "kmeans_sample_size") < 2
    ):
        raise ValueError(f"kmeans_sample_size must be >= 2, got {kmeans_sample_size}")
    if _as_int(n_init, "n_init") < 1:
        raise ValueError(f"n_init must be >= 1, got {n_init}")
    if not 0 <= _as_int(random_seed, "random_seed") < 2**32:
        raise ValueError(f"random_seed must be in [0, 2**32), got {random_seed}")


def _require_columns(df: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ClusteringError(
            f"missing required column(s) {missing}; got {list(df.columns)}"
        )


def _check_customer_ids(ids: pd.Series) -> bool:
    """Raise on missing or repeated ids; return whether they are sorted."""
    n_null = int(ids.isna().sum())
    if n_null:
        raise ClusteringError(f"column {CUSTOMER_ID!r} has {n_null} missing value(s)")
    already_sorted = bool(ids.is_monotonic_increasing)
    if already_sorted:  # repeats are neighbours: no hashing of millions of ids
        values = ids.to_numpy()
        n_dup = int(np.count_nonzero(values[1:] == values[:-1]))
    else:
        n_dup = int(ids.duplicated().sum())
    if n_dup:
        raise ClusteringError(
            f"column {CUSTOMER_ID!r} has {n_dup} duplicated value(s); "
            "expected one row per customer"
        )
    return already_sorted


def _check_matrix(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype="float64")
    if X.ndim != 2 or X.shape[1] == 0:
        raise ClusteringError(f"X must be 2-D with at least one column, got {X.shape}")
    n_bad = int((~np.isfinite(X)).sum())
    if n_bad:
        raise ClusteringError(f"X has {n_bad} missing or infinite value(s)")
    return X


def _finite_column(df: pd.DataFrame, column: str) -> np.ndarray:
    series = df[column]
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        raise ClusteringError(
            f"column {column!r} must be numeric, got dtype {series.dtype}"
        )
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    n_missing = int(np.isnan(values).sum())
    n_infinite = int(np.isinf(values).sum())
    if n_missing or n_infinite:
        raise ClusteringError(
            f"column {column!r} has {n_missing} missing and {n_infinite} infinite "
            f"value(s) out of {len(values)}; fix them upstream (no imputation)"
        )
    return values


# --- Features -------------------------------------------------------------------


def _prepare_features(
    df: pd.DataFrame,
    features: Sequence[str],
    transform: str,
    scaling: str,
    warned: list[str],
) -> tuple[np.ndarray, list[str], list[str]]:
    """Do the work of :func:`prepare_features`, appending warnings to ``warned``."""
    if isinstance(features, str):
        features = [features]
    features = list(features)
    unknown = [f for f in features if f not in FEATURE_COLUMNS]
    if not features or unknown or len(set(features)) != len(features):
        raise ValueError(
            f"features must be distinct names from {FEATURE_COLUMNS}, got {features}"
        )
    if transform not in TRANSFORMS:
        raise ValueError(f"transform must be one of {TRANSFORMS}, got {transform!r}")
    if scaling not in SCALINGS:
        raise ValueError(f"scaling must be one of {SCALINGS}, got {scaling!r}")
    _require_columns(df, features)
    if len(df) < 2:
        raise TooFewCustomersError(
            f"need at least 2 customers to cluster, got {len(df)}"
        )

    notes: list[str] = []
    columns: list[np.ndarray] = []
    used: list[str] = []
    for column in features:
        values = _finite_column(df, column)
        if transform == "log1p":
            n_negative = int((values < 0).sum())
            if n_negative:
                notes.append(
                    f"{column}: {n_negative} negative value(s) clipped to 0 "
                    "before log1p"
                )
            values = np.log1p(np.clip(values, 0.0, None))
        if values.min() == values.max():
            message = (
                f"feature {column!r} is constant ({values[0]:g} after "
                f"transform={transform!r}) and was dropped"
            )
            warned.append(message)
            notes.append(message)
            continue
        columns.append(values)
        used.append(column)
    if not used:
        raise TooFewCustomersError(
            f"every feature in {features} is constant: all customers are the same "
            "point, nothing to cluster"
        )
    X = np.column_stack(columns)
    if scaling == "standard":
        X = (X - X.mean(axis=0)) / X.std(axis=0)
    return np.ascontiguousarray(X, dtype="float64"), used, notes


def _count_distinct(X: np.ndarray, enough: int | None = None) -> int:
    """Count the distinct rows of ``X``.

    With ``enough``, a number of at least ``enough`` may be returned as soon
    as the first ``_DISTINCT_PROBE_ROWS`` rows hold that many distinct ones
    (every caller only compares the count with a k it needs), so millions
    of customers are not hashed to learn that there are more than 8.
    """
    if enough is not None and len(X) > _DISTINCT_PROBE_ROWS:
        head = X[:_DISTINCT_PROBE_ROWS]
        found = int(len(head) - pd.DataFrame(head).duplicated().sum())
        if found >= enough:
            return found
    return int(len(X) - pd.DataFrame(X).duplicated().sum())


def _feasible_ks(ks: list[int], n_distinct: int, warned: list[str]) -> list[int]:
    if n_distinct < 2:
        raise TooFewCustomersError(
            f"need at least 2 distinct customers in feature space, got {n_distinct}"
        )
    if ks[-1] <= n_distinct:
        return ks
    feasible = [k for k in ks if k <= n_distinct] or [n_distinct]
    warned.append(
        f"only {n_distinct} distinct customer(s) in feature space: k reduced from "
        f"{ks if len(ks) > 1 else ks[0]} to {feasible if len(ks) > 1 else feasible[0]}"
    )
    return feasible

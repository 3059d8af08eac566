r"""The CLV fit as a warehouse table: what the dbt Python models return.

:func:`fit_clv_params_table` fits the transaction model named by
``clv_model`` (looked up in :mod:`python_udfs.clv.registry`) on the distinct
(frequency, recency, T) triples and Gamma-Gamma on the repeat customers, and
returns one row per parameter, plus the frequency-monetary correlation
(:func:`frequency_monetary_correlation`) that Gamma-Gamma assumes to be
near 0 (see :mod:`python_udfs.clv.gamma_gamma`).
:func:`fit_clv_params_from_config` is what the models
``int_clv_params_fitted`` and ``int_clv_calibration_params_fitted`` call
with the frame they loaded and their config values.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from . import registry
from .fitting import ClvFitError, FitResult, FloatArray, _arrays, _dot, group_triples

__all__ = [
    "FIT_INPUT_COLUMNS",
    "fit_clv_params_from_config",
    "fit_clv_params_table",
    "frequency_monetary_correlation",
]


#: Warehouse column -> literature name: the one place they are mapped.
_WAREHOUSE_COLUMNS = {
    "frequency": "frequency",
    "recency": "recency",
    "T": "T",
    "monetary_value": "monetary_value",
}
#: The columns :func:`fit_clv_params_table` reads.
FIT_INPUT_COLUMNS: tuple[str, ...] = tuple(_WAREHOUSE_COLUMNS)
_PARAMS_TABLE_COLUMNS = [
    "model",
    "parameter",
    "value",
    "standard_error",
    "customers_fitted",
    "log_likelihood",
    "mean_neg_log_likelihood",
    "converged",
    "iterations",
    "message",
]


def _is_lexsorted(keys: Sequence[FloatArray]) -> bool:
    """Whether the rows are in ascending order of ``keys`` (first key first)."""
    if len(keys[0]) < 2:
        return True
    tied = np.ones(len(keys[0]) - 1, dtype=bool)
    for key in keys:
        before, after = key[:-1], key[1:]
        if np.any(tied & ~(before <= after)):  # also False for NaN
            return False
        tied &= before == after
    return True


def fit_clv_params_table(
    customers: pd.DataFrame,
    model: str = "bgnbd",
    penalizer: float = 0.0,
) -> pd.DataFrame:
    r"""Fit a transaction model and Gamma-Gamma; return one row per parameter.

    The transaction model is fitted on the distinct
    (frequency, recency, T) triples with their counts as weights (the same
    maximum-likelihood estimate as fitting every customer,
    :func:`group_triples`); Gamma-Gamma on the customers with
    ``frequency > 0`` and ``monetary_value > 0``. A last row records the
    Pearson correlation between frequency and monetary value among those
    repeat customers (model ``diagnostics``), since Gamma-Gamma assumes
    they are independent.

    Parameters
    ----------
    customers : pandas.DataFrame
        One row per customer with ``frequency``, ``recency``, ``T`` and
        ``monetary_value`` as ``summary_data_from_transaction_data`` defines
        them. Not modified.
    model : {"bgnbd", "mbgnbd", "pareto_nbd"}
        Transaction model.
    penalizer : float
        L2 penalizer of both fits (lifetimes' ``penalizer_coef``).

    Returns
    -------
    pandas.DataFrame
        ``model``, ``parameter``, ``value``, ``standard_error``,
        ``customers_fitted``, ``log_likelihood``, ``mean_neg_log_likelihood``,
        ``converged``, ``iterations``, ``message``.

    Raises
    ------
    ClvFitError
        When a fit cannot work; the message names the cause and what to
        change.
    """
    if model not in registry.TRANSACTION_MODELS:
        raise ValueError(
            f"unknown CLV model {model!r}: use one of "
            + ", ".join(sorted(registry.TRANSACTION_MODELS))
        )
    missing = [c for c in _WAREHOUSE_COLUMNS if c not in customers.columns]
    if missing:
        raise ClvFitError(f"CLV inputs lack columns: {', '.join(missing)}")
    data = {
        name: customers[column].to_numpy(dtype=np.float64)
        for column, name in _WAREHOUSE_COLUMNS.items()
    }
    # Sort, so that sums, and so the fitted values, do not depend on the
    # order the warehouse returned the rows in (rows the warehouse already
    # sorted, ORDER BY these four columns, are only checked).
    keys = [data[name] for name in ("frequency", "recency", "T", "monetary_value")]
    if not _is_lexsorted(keys):
        order = np.lexsort(keys[::-1])
        data = {name: values[order] for name, values in data.items()}
    try:
        transaction, spend = _fit_both(data, model, float(penalizer))
    except ClvFitError as error:
        raise ClvFitError(
            f"{error} To build everything else without CLV, set the dbt var "
            "clv_enabled: false."
        ) from error
    repeat = (data["frequency"] > 0) & (data["monetary_value"] > 0)
    parameters = (
        (transaction, registry.TRANSACTION_MODELS[model].parameters),
        (spend, registry.GAMMA_GAMMA.parameters),
    )
    rows = [
        {
            "model": fit.model,
            "parameter": name,
            "value": fit.params[name],
            "standard_error": (fit.standard_errors or {}).get(name, np.nan),
            "customers_fitted": fit.n_customers,
            "log_likelihood": fit.log_likelihood,
            "mean_neg_log_likelihood": fit.mean_neg_log_likelihood,
            "converged": fit.converged,
            "iterations": fit.iterations,
            "message": fit.message,
        }
        for fit, names in parameters
        for name in names
    ]
    rows.append(
        {
            "model": "diagnostics",
            "parameter": "frequency_monetary_correlation",
            "value": frequency_monetary_correlation(
                data["frequency"][repeat], data["monetary_value"][repeat]
            ),
            "standard_error": np.nan,
            "customers_fitted": float(repeat.sum()),
            "log_likelihood": np.nan,
            "mean_neg_log_likelihood": np.nan,
            "converged": True,
            "iterations": 0,
            "message": "Pearson correlation among repeat customers",
        }
    )
    table = pd.DataFrame(rows, columns=_PARAMS_TABLE_COLUMNS)
    return table.astype(
        {
            "model": "str",
            "parameter": "str",
            "value": "float64",
            "standard_error": "float64",
            "customers_fitted": "float64",
            "log_likelihood": "float64",
            "mean_neg_log_likelihood": "float64",
            "converged": "bool",
            "iterations": "int64",
            "message": "str",
        }
    )


def _fit_both(
    data: dict[str, FloatArray], model: str, penalizer: float
) -> tuple[FitResult, FitResult]:
    """Transaction model on weighted triples, Gamma-Gamma on repeat spend."""
    x, tx, age, weights = group_triples(data["frequency"], data["recency"], data["T"])
    fit_transaction = registry.TRANSACTION_MODELS[model].function("fit")
    transaction = fit_transaction(x, tx, age, weights=weights, penalizer=penalizer)
    repeat = (data["frequency"] > 0) & (data["monetary_value"] > 0)
    spend = registry.GAMMA_GAMMA.function("fit")(
        data["frequency"][repeat], data["monetary_value"][repeat], penalizer=penalizer
    )
    return transaction, spend


def fit_clv_params_from_config(
    customers: pd.DataFrame, clv_model: str, clv_penalizer: str | float
) -> pd.DataFrame:
    """Return the table of a dbt CLV fit model from its input and config values.

    ``int_clv_params_fitted`` and ``int_clv_calibration_params_fitted``
    load :data:`FIT_INPUT_COLUMNS` of their input, sorted by those columns
    (``python_udfs.relations.load_columns``), read their ``clv_model`` and
    ``clv_penalizer`` configs and return this. The configs come from YAML
    (``"{{ var('clv_penalizer') }}"``), so they may arrive as strings;
    they are cast here.

    Parameters
    ----------
    customers : pandas.DataFrame
        The loaded CLV inputs, as :func:`fit_clv_params_table` takes them.
    clv_model : str
        The ``clv_model`` config: a name in
        :data:`python_udfs.clv.registry.TRANSACTION_MODELS`.
    clv_penalizer : str or float
        The ``clv_penalizer`` config.

    Returns
    -------
    pandas.DataFrame
        :func:`fit_clv_params_table` of ``customers``.
    """
    return fit_clv_params_table(
        customers, model=str(clv_model), penalizer=float(clv_penalizer)
    )


def frequency_monetary_correlation(
    frequency: ArrayLike, monetary_value: ArrayLike
) -> float:
    r"""Pearson correlation of frequency and mean spend among repeat customers.

    The Gamma-Gamma model assumes spend is independent of purchase frequency
    ([5]_); a correlation far from 0 argues against it. Rows with
    :math:`x = 0` or a non-finite value are ignored.

    Parameters
    ----------
    frequency : array_like
        Repeat purchase count.
    monetary_value : array_like
        Mean repeat spend.

    Returns
    -------
    float
        Correlation coefficient, NaN with fewer than two usable rows or a
        constant column.

    References
    ----------
    .. [5] Fader & Hardie (2013), note 025, section 2.
    """
    x, m = _arrays(frequency, monetary_value)
    keep = np.isfinite(x) & np.isfinite(m) & (x > 0)
    x, m = x[keep], m[keep]
    if x.size < 2:
        return float("nan")
    dx, dm = x - x.mean(), m - m.mean()
    denom = np.sqrt(_dot(dx, dx) * _dot(dm, dm))
    return _dot(dx, dm) / denom if denom > 0 else float("nan")

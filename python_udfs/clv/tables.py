r"""The CLV fit as a warehouse table: what the dbt Python models return.

:func:`fit_clv_params_table` fits the transaction model named by
``clv_model`` (looked up in :mod:`python_udfs.clv.registry`) on the distinct
(frequency, recency, T) triples and Gamma-Gamma on the repeat customers, and
returns one row per parameter, plus the frequency-monetary correlation
(:func:`frequency_monetary_correlation`) that Gamma-Gamma assumes to be
near 0 (see :mod:`python_udfs.clv.gamma_gamma`), each with its
``fit_status`` (converged, on a parameter boundary, or not fitted).
:func:`fit_clv_params_from_config` is what the models
``int_clv_params_fitted`` and ``int_clv_calibration_params_fitted`` call
with the frame they loaded and their config values: it records a fit the
data cannot support (no customers, too few, no repeat customers, no
convergence) as ``not_fitted`` rows instead of raising, so that the build
goes on without CLV and the data tests of ``tests/degraded/`` say why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from python_udfs._threads import pin_one_native_thread

from . import registry
from .fitting import (
    DATA_REASONS,
    ClvFitError,
    FitResult,
    FloatArray,
    _arrays,
    _dot,
    group_triples,
)

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
    "fit_status",
    "is_at_boundary",
    "failure_reason",
]
_PARAMS_TABLE_TYPES = {
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
    "fit_status": "str",
    "is_at_boundary": "bool",
    "failure_reason": "str",
}


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
    on_failure: str = "raise",
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
    on_failure : {"raise", "record"}
        What a fit that the data cannot support does (a
        :class:`ClvFitError` whose ``reason`` is one of
        :data:`~python_udfs.clv.fitting.DATA_REASONS`: no customers, too
        few, no repeat customers, no convergence): raise, or give rows
        with ``fit_status`` ``not_fitted``, null values and the cause in
        ``message`` (what a production build publishes; the other fit is
        still made). Other errors (inputs that break the model's
        assumptions) always raise.

    Returns
    -------
    pandas.DataFrame
        ``model``, ``parameter``, ``value``, ``standard_error``,
        ``customers_fitted``, ``log_likelihood``, ``mean_neg_log_likelihood``,
        ``converged``, ``iterations``, ``message``, ``fit_status``
        (``converged``; ``boundary``: a parameter on a flat boundary of the
        parameter space, see :mod:`python_udfs.clv._boundary`, the
        published point is the best one, ``converged`` says whether the
        optimiser reported convergence; ``not_fitted``), ``is_at_boundary``
        (this parameter is one of the boundary ones) and ``failure_reason``
        (the :class:`ClvFitError` reason of a ``not_fitted`` row, else
        null).

    Raises
    ------
    ClvFitError
        When a fit cannot work and ``on_failure`` is ``"raise"`` (or the
        inputs are invalid); the message names the cause and what to
        change.
    """
    if model not in registry.TRANSACTION_MODELS:
        raise ValueError(
            f"unknown CLV model {model!r}: use one of "
            + ", ".join(sorted(registry.TRANSACTION_MODELS))
        )
    if on_failure not in ("raise", "record"):
        raise ValueError(f"on_failure must be 'raise' or 'record', got {on_failure!r}")
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
    repeat = (data["frequency"] > 0) & (data["monetary_value"] > 0)
    fits = _fit_both(data, repeat, model, float(penalizer), on_failure)
    parameters = zip(
        fits,
        (
            registry.TRANSACTION_MODELS[model].parameters,
            registry.GAMMA_GAMMA.parameters,
        ),
        strict=True,
    )
    rows = [_parameter_row(fit, name) for fit, names in parameters for name in names]
    rows.append(_correlation_row(data, repeat))
    table = pd.DataFrame(rows, columns=_PARAMS_TABLE_COLUMNS)
    return table.astype(_PARAMS_TABLE_TYPES)


@dataclass(frozen=True)
class _NotFitted:
    """A fit the data could not support (``on_failure="record"``)."""

    model: str
    n_customers: float
    error: ClvFitError


def _fit_both(
    data: dict[str, FloatArray],
    repeat: NDArray[np.bool_],
    model: str,
    penalizer: float,
    on_failure: str,
) -> tuple[FitResult | _NotFitted, FitResult | _NotFitted]:
    """Transaction model on weighted triples, Gamma-Gamma on repeat spend."""

    def transaction() -> FitResult:
        x, tx, age, weights = group_triples(
            data["frequency"], data["recency"], data["T"]
        )
        fit = registry.TRANSACTION_MODELS[model].function("fit")
        return fit(x, tx, age, weights=weights, penalizer=penalizer)

    def spend() -> FitResult:
        fit = registry.GAMMA_GAMMA.function("fit")
        if not repeat.any() and repeat.size:
            # Gamma-Gamma's own message for "no repeat customers" (it keeps
            # the same customers: frequency > 0 and monetary value > 0).
            return fit(data["frequency"], np.zeros(repeat.size), penalizer=penalizer)
        return fit(
            data["frequency"][repeat],
            data["monetary_value"][repeat],
            penalizer=penalizer,
        )

    return (
        _attempt(transaction, model, float(repeat.size), on_failure),
        _attempt(spend, "gamma_gamma", float(repeat.sum()), on_failure),
    )


def _attempt(
    fit: Callable[[], FitResult], model: str, n_customers: float, on_failure: str
) -> FitResult | _NotFitted:
    """Run ``fit``; a data failure raises (with the dbt hint) or is recorded."""
    try:
        return fit()
    except ClvFitError as error:
        if on_failure == "record" and error.reason in DATA_REASONS:
            return _NotFitted(model, n_customers, error)
        raise ClvFitError(
            f"{error} To build everything else without CLV, set the dbt var "
            "clv_enabled: false.",
            reason=error.reason,
        ) from error


def _parameter_row(fit: FitResult | _NotFitted, name: str) -> dict[str, object]:
    """Return the table row of parameter ``name`` of a fit or a failed one."""
    if isinstance(fit, _NotFitted):
        return {
            "model": fit.model,
            "parameter": name,
            "value": np.nan,
            "standard_error": np.nan,
            "customers_fitted": fit.n_customers,
            "log_likelihood": np.nan,
            "mean_neg_log_likelihood": np.nan,
            "converged": False,
            "iterations": 0,
            "message": str(fit.error),
            "fit_status": "not_fitted",
            "is_at_boundary": False,
            "failure_reason": fit.error.reason,
        }
    return {
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
        "fit_status": "boundary" if fit.at_boundary else "converged",
        "is_at_boundary": name in fit.at_boundary,
        "failure_reason": None,
    }


def _correlation_row(
    data: dict[str, FloatArray], repeat: NDArray[np.bool_]
) -> dict[str, object]:
    """Return the ``diagnostics`` row: frequency-monetary correlation."""
    value = frequency_monetary_correlation(
        data["frequency"][repeat], data["monetary_value"][repeat]
    )
    known = bool(np.isfinite(value))
    return {
        "model": "diagnostics",
        "parameter": "frequency_monetary_correlation",
        "value": value,
        "standard_error": np.nan,
        "customers_fitted": float(repeat.sum()),
        "log_likelihood": np.nan,
        "mean_neg_log_likelihood": np.nan,
        "converged": known,
        "iterations": 0,
        "message": "Pearson correlation among repeat customers"
        + (
            ""
            if known
            else ": undefined with fewer than 2 repeat customers with positive "
            "spend, or a constant frequency or spend"
        ),
        "fit_status": "converged" if known else "not_fitted",
        "is_at_boundary": False,
        "failure_reason": None if known else "too_few_customers",
    }


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
        :func:`fit_clv_params_table` of ``customers`` with
        ``on_failure="record"``: a fit the data cannot support gives
        ``not_fitted`` rows, so the dbt model never raises for it.
    """
    pin_one_native_thread()  # dbt runs two Python models at once (_threads)
    return fit_clv_params_table(
        customers,
        model=str(clv_model),
        penalizer=float(clv_penalizer),
        on_failure="record",
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

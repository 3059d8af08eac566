r"""CLV forecasts: expected and discounted purchases over monthly horizons.

:func:`forecast_horizons` evaluates one monthly grid of a transaction
model's conditional forecast for several horizons at once;
:func:`discounted_clv` is lifetimes' ``customer_lifetime_value`` on top of
it. The transaction model is looked up in :mod:`python_udfs.clv.registry`,
whose entry names the module computing its P(alive) and forecast.

References
----------
.. [5] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "RFM and CLV:
   Using Iso-Value Curves for Customer Base Analysis", JMR 42(4), 415-430.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from . import registry
from .fitting import FloatArray, _arrays
from .registry import PERIODS_PER_MONTH

__all__ = ["PERIODS_PER_MONTH", "Forecast", "discounted_clv", "forecast_horizons"]


def _forecaster(
    model: str,
    x: FloatArray,
    tx: FloatArray,
    age: FloatArray,
    *params: FloatArray,
) -> tuple[FloatArray, Callable[[ArrayLike], FloatArray]]:
    r"""Return P(alive) and :math:`t \mapsto E[Y(t)|x, t_x, T]` (t-free parts once).

    Dispatches to the ``_forecaster`` of the model's module (named in
    :data:`python_udfs.clv.registry.TRANSACTION_MODELS`), which the public
    conditional forecasts also use; :func:`forecast_horizons` evaluates the
    returned function once per month.
    """
    forecaster = registry.TRANSACTION_MODELS[model].function("forecaster")
    return forecaster(x, tx, age, *params)


def _periods_per_month(periods_per_month: float | str) -> float:
    """Model time units per month from a number or a lifetimes ``freq`` letter."""
    if isinstance(periods_per_month, str):
        if periods_per_month not in PERIODS_PER_MONTH:
            raise ValueError(
                f"periods_per_month must be a number or one of "
                f"{sorted(PERIODS_PER_MONTH)}, got {periods_per_month!r}."
            )
        return PERIODS_PER_MONTH[periods_per_month]
    return float(periods_per_month)


@dataclass(frozen=True)
class Forecast:
    r"""Per-customer forecasts at several horizons (see :func:`forecast_horizons`).

    Attributes
    ----------
    p_alive : numpy.ndarray
        Probability that each customer is alive, shape ``(n,)``.
    expected_purchases : numpy.ndarray
        :math:`E[Y(m u)]` for each horizon ``m`` (rows) and customer
        (columns), shape ``(len(months), n)``.
    discounted_purchases : numpy.ndarray
        :math:`\sum_{k=1}^{K_m} (E[Y(k u)] - E[Y((k-1) u)]) / (1+d)^k`, the
        CLV per unit of expected spend, shape ``(len(months), n)``.
    """

    p_alive: FloatArray
    expected_purchases: FloatArray
    discounted_purchases: FloatArray


def forecast_horizons(
    model: str,
    params: Mapping[str, ArrayLike],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    months: Sequence[float] = (12,),
    discount_rate: ArrayLike = 0.01,
    periods_per_month: float | str = "W",
) -> Forecast:
    r"""P(alive), expected and discounted purchases at several horizons in one pass.

    The monthly grid of :func:`discounted_clv` (lifetimes'
    ``customer_lifetime_value``) is evaluated once, up to the longest
    horizon, and every shorter horizon reads its prefix: a 3- and a
    12-month CLV cost 12 forecasts, not 15, and the expected purchases at
    ``m`` months (:math:`t = m u`) are the grid's value at that point,
    evaluated separately only when ``m u`` is not on the grid. The CLV of a
    horizon is ``expected_spend * discounted_purchases[i]``.

    Parameters
    ----------
    model : {"bgnbd", "mbgnbd", "pareto_nbd"}
        Transaction model.
    params : mapping
        Its parameters (``r, alpha, a, b`` or ``r, alpha, s, beta``); extra
        keys are ignored.
    frequency, recency, T : array_like
        Customer summaries in the model time unit.
    months : sequence of float, default (12,)
        Horizons in months.
    discount_rate : array_like, default 0.01
        Monthly discount rate :math:`d`.
    periods_per_month : float or {"W", "M", "D", "H"}, default "W"
        Model time units per month :math:`u`.

    Returns
    -------
    Forecast
        ``p_alive``, ``expected_purchases`` and ``discounted_purchases``.

    References
    ----------
    .. [5] Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves
       for Customer Base Analysis", JMR 42(4), 415-430.
    """
    if model not in registry.TRANSACTION_MODELS:
        raise ValueError(
            f"model must be one of {sorted(registry.TRANSACTION_MODELS)}, "
            f"got {model!r}."
        )
    names = registry.TRANSACTION_MODELS[model].parameters
    missing = [n for n in names if n not in params]
    if missing:
        raise ValueError(f"params for {model} lack {missing}.")
    factor = _periods_per_month(periods_per_month)
    horizons = [float(m) for m in months]
    x, tx, age, rate, *model_params = _arrays(
        frequency, recency, T, discount_rate, *(params[n] for n in names)
    )
    alive, forecast = _forecaster(model, x, tx, age, *model_params)
    # lifetimes: for i in arange(1, time + 1) * factor, discount (1+d)^(i/factor)
    grids = [np.arange(1, m + 1) * factor for m in horizons]
    longest = max(grids, key=len) if grids else np.zeros(0)
    steps = {len(grid) for grid in grids}
    expected = np.zeros((len(horizons), *x.shape))
    discounted = np.zeros((len(horizons), *x.shape))
    cumulative = np.zeros(x.shape)
    previous = np.zeros(x.shape)
    on_grid: dict[float, FloatArray] = {}
    for step, horizon in enumerate(longest, start=1):
        current = forecast(horizon)
        cumulative = cumulative + (current - previous) / (1.0 + rate) ** (
            horizon / factor
        )
        previous = current
        on_grid[float(horizon)] = current
        if step in steps:
            for i, grid in enumerate(grids):
                if len(grid) == step:
                    discounted[i] = cumulative
    for i, m in enumerate(horizons):
        t = m * factor
        expected[i] = on_grid[t] if t in on_grid else forecast(t)
    return Forecast(alive, expected, discounted)


def discounted_clv(
    model: str,
    params: Mapping[str, ArrayLike],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    expected_spend: ArrayLike,
    months: float = 12,
    discount_rate: ArrayLike = 0.01,
    periods_per_month: float | str = "W",
) -> FloatArray:
    r"""Discounted customer lifetime value, as lifetimes computes it ([5]_).

    Replicates ``GammaGammaFitter.customer_lifetime_value`` /
    ``lifetimes.utils._customer_lifetime_value``: with :math:`u` model time
    units per month and monthly, end-of-month discounting,

    .. math::

        \mathrm{CLV} = E[M] \sum_{k=1}^{K} \frac{E[Y(k u)] -
        E[Y((k-1) u)]}{(1+d)^{k}},\qquad K = \lceil
        \text{months}\rceil

    (``np.arange(1, months + 1)`` steps, as lifetimes; :math:`E[M]` is
    factored out of the sum, which changes the result only in the last
    bits).

    Parameters
    ----------
    model : {"bgnbd", "mbgnbd", "pareto_nbd"}
        Transaction model whose conditional forecast is used.
    params : mapping
        Its parameters (``r, alpha, a, b`` or ``r, alpha, s, beta``); extra
        keys are ignored.
    frequency, recency, T : array_like
        Customer summaries in the model time unit.
    expected_spend : array_like
        :math:`E[M]`, e.g. from :func:`gamma_gamma_expected_spend`.
    months : float, default 12
        Horizon in months.
    discount_rate : array_like, default 0.01
        Monthly discount rate :math:`d`.
    periods_per_month : float or {"W", "M", "D", "H"}, default "W"
        Model time units per month :math:`u` (lifetimes' ``freq``: W 4.345,
        M 1, D 30, H 720). A weekly model needs ``"W"``.

    Returns
    -------
    numpy.ndarray
        CLV per customer, in the currency of ``expected_spend``.

    References
    ----------
    .. [5] Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves
       for Customer Base Analysis", JMR 42(4), 415-430.
    """
    forecast = forecast_horizons(
        model,
        params,
        frequency,
        recency,
        T,
        (months,),
        discount_rate,
        periods_per_month,
    )
    (spend,) = _arrays(expected_spend)
    return spend * forecast.discounted_purchases[0]

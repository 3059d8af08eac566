"""Tests of the closed forms of every model and of python_udfs.clv.forecast
(expected purchases, discounted CLV) against lifetimes 0.11.3 and the sheet.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import logsumexp

from python_udfs import clv

lifetimes = pytest.importorskip("lifetimes")

from clv_helpers import _assert_rel, _params, _printed  # noqa: E402
from conftest import BG_KEYS, GG_KEYS, PARETO_KEYS  # noqa: E402

# ---------------------------------------------------------------------------
# Closed forms against lifetimes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("t", [1.0, 39.0, 520.0])
def test_closed_forms_match_lifetimes(
    cdnow: pd.DataFrame, lt_models: dict, t: float
) -> None:
    x, tx, age, m = (cdnow[c] for c in ("frequency", "recency", "T", "monetary_value"))
    bg, mbg, pnbd, gg = (
        lt_models[k] for k in ("bgnbd", "mbgnbd", "pareto_nbd", "gamma_gamma")
    )
    pb, pm, pp = _params(bg, BG_KEYS), _params(mbg, BG_KEYS), _params(pnbd, PARETO_KEYS)
    rtol = 1e-8
    _assert_rel(
        clv.bgnbd_p_alive(x, tx, age, **pb),
        bg.conditional_probability_alive(x, tx, age),
        rtol,
    )
    _assert_rel(
        clv.mbgnbd_p_alive(x, tx, age, **pm),
        mbg.conditional_probability_alive(x, tx, age),
        rtol,
    )
    _assert_rel(
        clv.pareto_nbd_p_alive(x, tx, age, **pp),
        pnbd.conditional_probability_alive(x, tx, age),
        rtol,
    )
    for ours, fitter, params in [
        (clv.bgnbd_conditional_expected_purchases, bg, pb),
        (clv.mbgnbd_conditional_expected_purchases, mbg, pm),
        (clv.pareto_nbd_conditional_expected_purchases, pnbd, pp),
    ]:
        expected = fitter.conditional_expected_number_of_purchases_up_to_time(
            t, x, tx, age
        )
        _assert_rel(ours(t, x, tx, age, **params), expected, rtol)
    for ours, fitter, params in [
        (clv.bgnbd_expected_purchases_new, bg, pb),
        (clv.mbgnbd_expected_purchases_new, mbg, pm),
        (clv.pareto_nbd_expected_purchases_new, pnbd, pp),
    ]:
        expected = fitter.expected_number_of_purchases_up_to_time(t)
        _assert_rel(ours(t, **params), expected, rtol)
    _assert_rel(
        clv.gamma_gamma_expected_spend(x, m, **_params(gg, GG_KEYS)),
        gg.conditional_expected_average_profit(x, m),
        rtol,
    )


@pytest.mark.parametrize("model", ["bgnbd", "mbgnbd", "pareto_nbd"])
@pytest.mark.parametrize(
    ("months", "freq"), [(3, "W"), (12, "W"), (2.5, "W"), (12, "M"), (6, "D")]
)
def test_discounted_clv_matches_lifetimes(
    cdnow: pd.DataFrame, lt_models: dict, model: str, months: float, freq: str
) -> None:
    x, tx, age, m = (cdnow[c] for c in ("frequency", "recency", "T", "monetary_value"))
    keys = PARETO_KEYS if model == "pareto_nbd" else BG_KEYS
    gg = lt_models["gamma_gamma"]
    spend = clv.gamma_gamma_expected_spend(x, m, **_params(gg, GG_KEYS))
    ours = clv.discounted_clv(
        model, _params(lt_models[model], keys), x, tx, age, spend, months, 0.01, freq
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifetimes' Pareto log(0) warnings
        theirs = gg.customer_lifetime_value(
            lt_models[model], x, tx, age, m, time=months, discount_rate=0.01, freq=freq
        )
    _assert_rel(ours, theirs.to_numpy(), 1e-8)
    # Numeric periods_per_month is the same as the lifetimes code letter.
    numeric = clv.discounted_clv(
        model,
        _params(lt_models[model], keys),
        x,
        tx,
        age,
        spend,
        months,
        0.01,
        clv.PERIODS_PER_MONTH[freq],
    )
    np.testing.assert_array_equal(ours, numeric)


def test_per_customer_table_matches_sheet(cdnow: pd.DataFrame, lt_models: dict) -> None:
    table = {  # id: P(alive), E[Y(39)], E[M], CLV 3m, CLV 12m
        4: ("0.726620", "1.225994", "24.6539", "11.0810", "36.2740"),
        18: ("1", "0.196549", "35.1704", "2.4370", "8.4180"),
        111: ("0.641835", "3.337572", "71.4647", "89.8840", "283.5581"),
        1760: ("0.969221", "20.055250", "26.3943", "203.4117", "625.4293"),
    }
    sub = cdnow.loc[list(table)]
    x, tx, age, m = (sub[c] for c in ("frequency", "recency", "T", "monetary_value"))
    pb = _params(lt_models["bgnbd"], BG_KEYS)
    spend = clv.gamma_gamma_expected_spend(
        x, m, **_params(lt_models["gamma_gamma"], GG_KEYS)
    )
    columns = [
        clv.bgnbd_p_alive(x, tx, age, **pb),
        clv.bgnbd_conditional_expected_purchases(39, x, tx, age, **pb),
        spend,
        clv.discounted_clv("bgnbd", pb, x, tx, age, spend, 3, 0.01, "W"),
        clv.discounted_clv("bgnbd", pb, x, tx, age, spend, 12, 0.01, "W"),
    ]
    for row, printed_row in enumerate(table.values()):
        for column, printed in zip(columns, printed_row, strict=True):
            assert _printed(float(column[row]), printed), (row, printed, column[row])
    # The sheet's single-customer example (x=2, t_x=30.43, T=38.86).
    assert _printed(float(clv.bgnbd_p_alive(2, 30.43, 38.86, **pb)), "0.726609")
    assert _printed(
        float(clv.bgnbd_conditional_expected_purchases(39, 2, 30.43, 38.86, **pb)),
        "1.225907",
    )


def test_per_customer_table_with_our_fits(cdnow: pd.DataFrame, lt_models: dict) -> None:
    """Scores from our fitted params agree with lifetimes' to ~1e-5."""
    x, tx, age, m = (cdnow[c] for c in ("frequency", "recency", "T", "monetary_value"))
    ours_bg = clv.fit_bgnbd(x, tx, age).params
    ours_gg = clv.fit_gamma_gamma(x, m).params
    spend = clv.gamma_gamma_expected_spend(x, m, **ours_gg)
    ours = clv.discounted_clv("bgnbd", ours_bg, x, tx, age, spend, 12, 0.01, "W")
    gg = lt_models["gamma_gamma"]
    theirs = gg.customer_lifetime_value(
        lt_models["bgnbd"], x, tx, age, m, time=12, discount_rate=0.01, freq="W"
    )
    _assert_rel(ours, theirs.to_numpy(), 1e-5)


# ---------------------------------------------------------------------------
# Numerical stability
# ---------------------------------------------------------------------------


def _series_bracket(
    a_: float, b_: float, c_: float, z: float, lead: float, n_terms: int = 200_000
) -> float:
    """1 - exp(lead) * 2F1(a_, b_; c_; z) by a positive-term log-space series."""
    n = np.arange(n_terms - 1, dtype=float)
    steps = np.log(a_ + n) + np.log(b_ + n) - np.log(c_ + n) - np.log1p(n) + np.log(z)
    log_terms = np.concatenate([[0.0], np.cumsum(steps)])
    return float(-np.expm1(lead + logsumexp(log_terms)))


@pytest.mark.parametrize(
    ("x", "tx", "age", "t"),
    [(200, 38.0, 39.0, 1e4), (200, 20.0, 39.0, 1e4), (1000, 38.0, 39.0, 260.0)],
)
def test_stable_at_large_frequency_and_horizon(
    x: float, tx: float, age: float, t: float
) -> None:
    pb = {"r": 0.242595, "alpha": 4.413603, "a": 0.792922, "b": 2.425906}
    pp = {"r": 0.55328, "alpha": 10.5777, "s": 0.60621, "beta": 11.6677}
    r, alpha, a, b = pb.values()
    z = t / (alpha + age + t)
    lead = (r + x) * np.log((alpha + age) / (alpha + age + t))
    # Independent reference: the original (non-Euler) series, all terms > 0.
    ref_bg = (
        (a + b + x - 1)
        / (a - 1)
        * _series_bracket(r + x, b + x, a + b + x - 1, z, lead)
    ) * clv.bgnbd_p_alive(x, tx, age, **pb)
    ref_mbg = (
        (a + b + x) / (a - 1) * _series_bracket(r + x, b + x + 1, a + b + x, z, lead)
    ) * clv.mbgnbd_p_alive(x, tx, age, **pb)
    ours_bg = clv.bgnbd_conditional_expected_purchases(t, x, tx, age, **pb)
    ours_mbg = clv.mbgnbd_conditional_expected_purchases(t, x, tx, age, **pb)
    np.testing.assert_allclose(ours_bg, ref_bg, rtol=1e-8)
    np.testing.assert_allclose(ours_mbg, ref_mbg, rtol=1e-8)
    # lifetimes' BG/NBD falls back to the Euler form here; its MBG/NBD is NaN.
    bg = lifetimes.BetaGeoFitter()
    bg.params_ = pd.Series(pb)
    mbg = lifetimes.ModifiedBetaGeoFitter()
    mbg.params_ = pd.Series(pb)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs_bg = bg.conditional_expected_number_of_purchases_up_to_time(
            t, x, tx, age
        )
        theirs_mbg = mbg.conditional_expected_number_of_purchases_up_to_time(
            t, x, tx, age
        )
    np.testing.assert_allclose(ours_bg, theirs_bg, rtol=1e-8)
    if x == 200:  # lifetimes' direct MBG/NBD form breaks down; ours does not
        assert np.isnan(theirs_mbg)
    ours_pn = clv.pareto_nbd_conditional_expected_purchases(t, x, tx, age, **pp)
    p_alive = [
        clv.bgnbd_p_alive(x, tx, age, **pb),
        clv.mbgnbd_p_alive(x, tx, age, **pb),
        clv.pareto_nbd_p_alive(x, tx, age, **pp),
    ]
    for value in [ours_bg, ours_mbg, ours_pn, *p_alive]:
        assert np.isfinite(value) and value >= 0
    for value in p_alive:
        assert value <= 1


def test_forecasts_finite_and_monotone_over_long_horizons() -> None:
    pb = {"r": 0.242595, "alpha": 4.413603, "a": 0.792922, "b": 2.425906}
    pp = {"r": 0.55328, "alpha": 10.5777, "s": 0.60621, "beta": 11.6677}
    t = np.geomspace(0.1, 1e4, 60)
    for x, tx in [(0, 0.0), (1, 5.0), (50, 37.0), (200, 38.5)]:
        for values in [
            clv.bgnbd_conditional_expected_purchases(t, x, tx, 39.0, **pb),
            clv.mbgnbd_conditional_expected_purchases(t, x, tx, 39.0, **pb),
            clv.pareto_nbd_conditional_expected_purchases(t, x, tx, 39.0, **pp),
        ]:
            assert np.all(np.isfinite(values))
            assert np.all(np.diff(values) >= -1e-12 * np.abs(values[1:]))
    for values in [
        clv.bgnbd_expected_purchases_new(t, **pb),
        clv.mbgnbd_expected_purchases_new(t, **pb),
        clv.pareto_nbd_expected_purchases_new(t, **pp),
    ]:
        assert np.all(np.isfinite(values)) and np.all(np.diff(values) > 0)
    # s = 1 is a removable singularity of the Pareto/NBD forecast.
    near = clv.pareto_nbd_expected_purchases_new(52.0, 0.5, 10.0, 1.0 + 1e-9, 12.0)
    at = clv.pareto_nbd_expected_purchases_new(52.0, 0.5, 10.0, 1.0, 12.0)
    assert at == pytest.approx(near, rel=1e-6)


# ---------------------------------------------------------------------------
# Horizons and arguments
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["bgnbd", "mbgnbd", "pareto_nbd"])
def test_forecast_horizons_share_one_grid(
    cdnow: pd.DataFrame, lt_models: dict, model: str
) -> None:
    """Every horizon of forecast_horizons equals its own discounted_clv
    (spend 1) and conditional forecast, bit for bit, including a horizon
    off the monthly grid (2.5 months: t = 2.5 u is evaluated on its own)."""
    x, tx, age = (cdnow[c] for c in ("frequency", "recency", "T"))
    keys = PARETO_KEYS if model == "pareto_nbd" else BG_KEYS
    params = _params(lt_models[model], keys)
    conditional = {
        "bgnbd": clv.bgnbd_conditional_expected_purchases,
        "mbgnbd": clv.mbgnbd_conditional_expected_purchases,
        "pareto_nbd": clv.pareto_nbd_conditional_expected_purchases,
    }[model]
    alive = {
        "bgnbd": clv.bgnbd_p_alive,
        "mbgnbd": clv.mbgnbd_p_alive,
        "pareto_nbd": clv.pareto_nbd_p_alive,
    }[model]
    months = (3, 12, 2.5)
    forecast = clv.forecast_horizons(model, params, x, tx, age, months, 0.01, "W")
    np.testing.assert_array_equal(forecast.p_alive, alive(x, tx, age, **params))
    for i, m in enumerate(months):
        np.testing.assert_array_equal(
            forecast.discounted_purchases[i],
            clv.discounted_clv(model, params, x, tx, age, 1.0, m, 0.01, "W"),
        )
        np.testing.assert_array_equal(
            forecast.expected_purchases[i],
            conditional(m * 4.345, x, tx, age, **params),
        )
    assert forecast.expected_purchases.shape == (3, len(x))


def test_discounted_clv_rejects_bad_arguments() -> None:
    params = {"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.4}
    with pytest.raises(ValueError, match="model"):
        clv.discounted_clv("bg", params, 1, 1, 2, 10)
    with pytest.raises(ValueError, match="lack"):
        clv.discounted_clv("pareto_nbd", params, 1, 1, 2, 10)
    with pytest.raises(ValueError, match="periods_per_month"):
        clv.discounted_clv("bgnbd", params, 1, 1, 2, 10, periods_per_month="Q")

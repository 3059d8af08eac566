"""Tests of python_udfs.clv against lifetimes 0.11.3 and the formula sheet.

Reference numbers come from /work/shared/CLV_FORMULAS.md (section 5, CDNOW
sample); everything else is compared with lifetimes computed in the test.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import logsumexp

from python_udfs import clv

lifetimes = pytest.importorskip("lifetimes")

from conftest import BG_KEYS, GG_KEYS, PARETO_KEYS, cdnow_sample_summary  # noqa: E402

# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    """CDNOW_sample summary in weeks (days / 7), as in the formula sheet §5."""
    return cdnow_sample_summary()


@pytest.fixture(scope="module")
def lt_models(cdnow: pd.DataFrame) -> dict[str, object]:
    """lifetimes fits on CDNOW (penalizer 0)."""
    x, tx, age = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    repeat = cdnow[cdnow["frequency"] > 0]
    np.random.seed(0)  # noqa: NPY002 -- lifetimes Pareto starts from np.random
    return {
        "bgnbd": lifetimes.BetaGeoFitter().fit(x, tx, age),
        "mbgnbd": lifetimes.ModifiedBetaGeoFitter().fit(x, tx, age),
        "pareto_nbd": lifetimes.ParetoNBDFitter().fit(x, tx, age),
        "gamma_gamma": lifetimes.GammaGammaFitter().fit(
            repeat["frequency"], repeat["monetary_value"]
        ),
    }


def _params(fitter: object, keys: tuple[str, ...]) -> dict[str, float]:
    return {k: float(fitter.params_[k]) for k in keys}


def _max_rel(ours: dict[str, float], theirs: dict[str, float]) -> float:
    return max(abs(ours[k] / theirs[k] - 1.0) for k in theirs)


def _printed(value: float, printed: str) -> bool:
    """Whether ``value`` rounds to the sheet's printed number."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return abs(value - float(printed)) <= 0.5 * 10.0**-decimals + 1e-12


def _assert_rel(ours: np.ndarray, theirs: np.ndarray, rtol: float) -> None:
    ours, theirs = np.asarray(ours, float), np.asarray(theirs, float)
    assert ours.shape == theirs.shape
    assert np.all(np.isfinite(ours))
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=0)


# ---------------------------------------------------------------------------
# Data and grouping
# ---------------------------------------------------------------------------


def test_cdnow_summary_matches_sheet(cdnow: pd.DataFrame) -> None:
    assert len(cdnow) == 2357
    assert cdnow["frequency"].sum() == 2457
    assert (cdnow["frequency"] > 0).sum() == 946
    x, _, _, w = clv.group_triples(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert len(x) == 1016
    assert w.sum() == 2357


def test_group_triples_is_deterministic_and_lossless() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(0, 4, 500).astype(float)
    tx = np.where(x > 0, rng.integers(0, 5, 500), 0).astype(float)
    age = tx + rng.integers(0, 3, 500)
    gx, gtx, gage, w = clv.group_triples(x, tx, age)
    order = np.lexsort((gage, gtx, gx))
    assert np.array_equal(order, np.arange(len(gx)))  # sorted by (x, tx, T)
    assert w.dtype == np.int64
    assert w.sum() == 500
    expanded = sorted(
        zip(np.repeat(gx, w), np.repeat(gtx, w), np.repeat(gage, w), strict=True)
    )
    assert expanded == sorted(zip(x, tx, age, strict=True))
    perm = rng.permutation(500)
    again = clv.group_triples(x[perm], tx[perm], age[perm])
    for left, right in zip((gx, gtx, gage, w), again, strict=True):
        assert np.array_equal(left, right)


# ---------------------------------------------------------------------------
# Fits against lifetimes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("penalizer", [0.0, 0.001])
@pytest.mark.parametrize(
    ("fit", "fitter_cls", "rtol"),
    [
        (clv.fit_bgnbd, "BetaGeoFitter", 2e-6),
        (clv.fit_mbgnbd, "ModifiedBetaGeoFitter", 4e-6),
    ],
)
def test_beta_geo_fits_match_lifetimes(
    cdnow: pd.DataFrame, fit, fitter_cls: str, rtol: float, penalizer: float
) -> None:
    x, tx, age = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    theirs = getattr(lifetimes, fitter_cls)(penalizer_coef=penalizer).fit(x, tx, age)
    ours = fit(x, tx, age, penalizer=penalizer)
    assert ours.converged
    assert ours.n_customers == 2357
    assert _max_rel(ours.params, _params(theirs, BG_KEYS)) < rtol
    # Same objective, and our optimum is at least as good as lifetimes' BFGS.
    assert ours.mean_neg_log_likelihood <= theirs._negative_log_likelihood_ + 1e-12
    assert ours.mean_neg_log_likelihood == pytest.approx(
        theirs._negative_log_likelihood_, rel=1e-9
    )
    theirs_se = theirs.standard_errors_.to_dict()
    assert _max_rel(ours.standard_errors, theirs_se) < 1e-4


def test_bgnbd_fit_reproduces_sheet_numbers(cdnow: pd.DataFrame) -> None:
    res = clv.fit_bgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    sheet = {"r": "0.242595", "alpha": "4.413603", "a": "0.792922", "b": "2.425906"}
    # The sheet prints lifetimes' BFGS stop (~5e-7 from the optimum).
    for key, printed in sheet.items():
        assert res.params[key] == pytest.approx(float(printed), rel=2e-6), key
    assert _printed(res.mean_neg_log_likelihood, "0.2503499")
    assert _printed(res.log_likelihood, "-9582.429")
    assert _printed(
        float(clv.bgnbd_expected_purchases_new(39, **res.params)), "1.195010"
    )


def test_mbgnbd_fit_reproduces_sheet_numbers(cdnow: pd.DataFrame) -> None:
    res = clv.fit_mbgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    sheet = {"r": "0.524843", "alpha": "6.183082", "a": "0.891360", "b": "1.614003"}
    for key, printed in sheet.items():
        assert res.params[key] == pytest.approx(float(printed), rel=4e-6), key
    assert _printed(res.mean_neg_log_likelihood, "0.2502254")


@pytest.mark.parametrize("penalizer", [0.0, 0.001])
def test_gamma_gamma_fit_matches_lifetimes(
    cdnow: pd.DataFrame, penalizer: float
) -> None:
    repeat = cdnow[cdnow["frequency"] > 0]
    theirs = lifetimes.GammaGammaFitter(penalizer_coef=penalizer).fit(
        repeat["frequency"], repeat["monetary_value"]
    )
    # All customers passed: x == 0 rows are dropped inside.
    ours = clv.fit_gamma_gamma(
        cdnow["frequency"], cdnow["monetary_value"], penalizer=penalizer
    )
    assert ours.n_customers == 946
    assert _max_rel(ours.params, _params(theirs, GG_KEYS)) < 1e-6
    assert ours.mean_neg_log_likelihood <= theirs._negative_log_likelihood_ + 1e-12
    assert _max_rel(ours.standard_errors, theirs.standard_errors_.to_dict()) < 1e-4
    if penalizer == 0.0:
        sheet = {"p": "6.249572", "q": "3.744225", "v": "15.443521"}
        for key, printed in sheet.items():
            assert ours.params[key] == pytest.approx(float(printed), rel=1e-6), key
        assert _printed(ours.mean_neg_log_likelihood, "4.287439")
        spend0 = clv.gamma_gamma_expected_spend(0, 0, **ours.params)
        assert _printed(float(spend0), "35.1704")


@pytest.mark.parametrize("penalizer", [0.0, 0.001])
def test_pareto_nbd_fit_matches_lifetimes(
    cdnow: pd.DataFrame, penalizer: float
) -> None:
    x, tx, age = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    np.random.seed(0)  # noqa: NPY002 -- lifetimes Pareto starts from np.random
    theirs = lifetimes.ParetoNBDFitter(penalizer_coef=penalizer).fit(x, tx, age)
    ours = clv.fit_pareto_nbd(x, tx, age, penalizer=penalizer)
    assert ours.standard_errors is None
    # lifetimes' Nelder-Mead moves ~5e-4 with its seed: 1e-3 is the contract.
    assert _max_rel(ours.params, _params(theirs, PARETO_KEYS)) < 1e-3
    # lifetimes reports a total: n_rows * (mean - penalty) + penalty.
    penalty = penalizer * (
        ours.params["r"] ** 2
        + (ours.params["alpha"] / age.max()) ** 2
        + ours.params["s"] ** 2
        + (ours.params["beta"] / age.max()) ** 2
    )
    total = len(cdnow) * (ours.mean_neg_log_likelihood - penalty) + penalty
    assert total <= theirs._negative_log_likelihood_ + 1e-9
    assert total == pytest.approx(theirs._negative_log_likelihood_, rel=1e-7)
    if penalizer == 0.0:
        sheet = {"r": "0.55328", "alpha": "10.5777", "s": "0.60621", "beta": "11.6677"}
        for key, printed in sheet.items():
            assert ours.params[key] == pytest.approx(float(printed), rel=1e-3)
        assert _printed(total, "602.622")
        assert _printed(ours.log_likelihood, "-9594.976")


@pytest.mark.parametrize("fit", [clv.fit_bgnbd, clv.fit_mbgnbd, clv.fit_pareto_nbd])
def test_weighted_triples_fit_equals_unweighted_fit(cdnow: pd.DataFrame, fit) -> None:
    x, tx, age = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    raw = fit(x, tx, age)
    gx, gtx, gage, w = clv.group_triples(x, tx, age)
    grouped = fit(gx, gtx, gage, weights=w)
    assert grouped.n_customers == raw.n_customers
    assert _max_rel(grouped.params, raw.params) < 1e-6
    assert grouped.log_likelihood == pytest.approx(raw.log_likelihood, rel=1e-10)
    assert grouped.mean_neg_log_likelihood == pytest.approx(
        raw.mean_neg_log_likelihood, rel=1e-10
    )


def test_weighted_gamma_gamma_equals_repeated_rows() -> None:
    rng = np.random.default_rng(5)
    x = rng.integers(1, 6, 60).astype(float)
    m = rng.gamma(4.0, 8.0, 60).round(1)
    w = rng.integers(1, 4, 60)
    weighted = clv.fit_gamma_gamma(x, m, weights=w)
    repeated = clv.fit_gamma_gamma(np.repeat(x, w), np.repeat(m, w))
    assert weighted.n_customers == repeated.n_customers == w.sum()
    assert _max_rel(weighted.params, repeated.params) < 1e-6


def test_fit_result_is_frozen(cdnow: pd.DataFrame) -> None:
    res = clv.fit_bgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.model = "other"  # type: ignore[misc]
    assert res.model == "bgnbd"
    assert set(res.params) == set(BG_KEYS)
    assert res.iterations > 0


def test_fits_do_not_modify_inputs(cdnow: pd.DataFrame) -> None:
    frame = cdnow.copy()
    arrays = [frame[c].to_numpy().copy() for c in ("frequency", "recency", "T")]
    weights = np.ones(len(frame))
    clv.fit_bgnbd(*arrays, weights=weights)
    clv.fit_gamma_gamma(frame["frequency"], frame["monetary_value"])
    pd.testing.assert_frame_equal(frame, cdnow)
    for column, array in zip(("frequency", "recency", "T"), arrays, strict=True):
        assert np.array_equal(array, cdnow[column].to_numpy())
    assert np.all(weights == 1.0)


@pytest.mark.parametrize(
    ("objective", "theta"),
    [
        (clv._bgnbd_objective, np.log([0.3, 0.2, 0.9, 2.0])),
        (clv._mbgnbd_objective, np.log([0.5, 0.15, 0.8, 1.5])),
    ],
)
@pytest.mark.parametrize("penalizer", [0.0, 0.1])
def test_analytic_gradient_matches_finite_differences(
    cdnow: pd.DataFrame, objective, theta: np.ndarray, penalizer: float
) -> None:
    x, tx, age = (cdnow[c].to_numpy() for c in ("frequency", "recency", "T"))
    f = objective(clv._prepare(x, tx, age, np.ones(len(x))), penalizer)
    _, grad = f(theta)
    numeric = np.empty(4)
    for k in range(4):
        step = np.zeros(4)
        step[k] = 1e-6
        numeric[k] = (f(theta + step)[0] - f(theta - step)[0]) / 2e-6
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------------------
# Simulation and parameter recovery
# ---------------------------------------------------------------------------


def test_simulate_bgnbd_is_deterministic_and_consistent() -> None:
    first = clv.simulate_bgnbd(2000, 0.25, 4.0, 0.8, 2.4, 20, 104, seed=7)
    second = clv.simulate_bgnbd(2000, 0.25, 4.0, 0.8, 2.4, 20, 104, seed=7)
    other = clv.simulate_bgnbd(2000, 0.25, 4.0, 0.8, 2.4, 20, 104, seed=8)
    for left, right in zip(first, second, strict=True):
        assert np.array_equal(left, right)
    assert not np.array_equal(first[0], other[0])
    x, tx, age = first
    assert np.all((age >= 20) & (age <= 104))
    assert np.all(tx <= age) and np.all(tx >= 0)
    assert np.all(tx[x == 0] == 0) and np.all(tx[x > 0] > 0)
    assert np.array_equal(x, np.floor(x))
    # Day-floored variant: whole periods, same-period purchases merged.
    x, tx, age = clv.simulate_bgnbd(2000, 0.25, 28.0, 0.8, 2.4, 140, 728, 7, period=1.0)
    assert np.array_equal(age, np.floor(age)) and np.array_equal(tx, np.floor(tx))
    assert np.all(tx <= age) and np.all(tx[x == 0] == 0)
    assert np.all(x <= tx)  # at most one purchase per later day


@pytest.mark.parametrize("period", [None, 1.0])
def test_bgnbd_parameter_recovery(period: float | None) -> None:
    true = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.4}
    if period is None:
        data = clv.simulate_bgnbd(50_000, **true, T_min=20, T_max=104, seed=11)
    else:  # alpha per day, ages 20-104 weeks in days
        true = {**true, "alpha": 28.0}
        data = clv.simulate_bgnbd(
            50_000, **true, T_min=140, T_max=728, seed=11, period=period
        )
    res = clv.fit_bgnbd(*data)
    for key, value in true.items():
        assert res.params[key] == pytest.approx(value, rel=0.10), key
    if period is None:  # exact model: the truth is within ~4 standard errors
        for key, value in true.items():
            assert abs(res.params[key] - value) < 4.5 * res.standard_errors[key], key


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
# Errors
# ---------------------------------------------------------------------------


def _rfm(n: int = 30, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    age = rng.uniform(20, 50, n)
    x = rng.integers(0, 5, n).astype(float)
    tx = np.where(x > 0, age * rng.uniform(0.1, 0.9, n), 0.0)
    return x, tx, age


def _with(values: np.ndarray, index: int, value: float) -> np.ndarray:
    out = values.copy()
    out[index] = value
    return out


@pytest.mark.parametrize("fit", [clv.fit_bgnbd, clv.fit_mbgnbd, clv.fit_pareto_nbd])
@pytest.mark.parametrize(
    ("case", "match"),
    [
        ("empty", "Empty input"),
        ("no_repeat", "No repeat customers"),
        ("few", "fewer than min_customers"),
        ("negative", "negative"),
        ("nan", "NaN"),
        ("recency_gt_T", "recency > T"),
        ("recency_without_repeat", "recency must be 0"),
        ("non_integer", "non-integer"),
        ("length", "equal length"),
        ("negative_weight", "negative"),
    ],
)
def test_fit_errors_name_the_cause(fit, case: str, match: str) -> None:
    x, tx, age = _rfm()
    first_zero = int(np.flatnonzero(x == 0)[0])
    first_pos = int(np.flatnonzero(x > 0)[0])
    kwargs: dict = {}
    if case == "empty":
        x, tx, age = np.array([]), np.array([]), np.array([])
    elif case == "no_repeat":
        x, tx = np.zeros_like(x), np.zeros_like(tx)
    elif case == "few":
        x, tx, age = x[:5], tx[:5], age[:5]
    elif case == "negative":
        age = _with(age, 3, -1.0)
    elif case == "nan":
        tx = _with(tx, first_pos, np.nan)
    elif case == "recency_gt_T":
        tx = _with(tx, first_pos, age[first_pos] + 1.0)
    elif case == "recency_without_repeat":
        tx = _with(tx, first_zero, 1.0)
    elif case == "non_integer":
        x = _with(x, first_pos, 1.5)
    elif case == "length":
        age = age[:-1]
    elif case == "negative_weight":
        kwargs["weights"] = _with(np.ones_like(x), 0, -1.0)
    with pytest.raises(clv.ClvFitError, match=match):
        fit(x, tx, age, **kwargs)


def test_min_customers_is_a_parameter() -> None:
    x, tx, age = clv.simulate_bgnbd(300, 0.25, 4.0, 0.8, 2.4, 20, 104, seed=2)
    with pytest.raises(clv.ClvFitError, match="min_customers=1000"):
        clv.fit_bgnbd(x, tx, age, min_customers=1000)
    # Weights count customers: 300 rows x weight 4 = 1200 customers.
    res = clv.fit_bgnbd(x, tx, age, weights=np.full(300, 4.0), min_customers=1000)
    assert res.n_customers == pytest.approx(1200)


@pytest.mark.parametrize("fit", [clv.fit_bgnbd, clv.fit_mbgnbd])
def test_non_convergence_suggests_penalizer(cdnow: pd.DataFrame, fit) -> None:
    x, tx, age = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    with pytest.raises(clv.ClvFitError, match="did not converge") as info:
        fit(x, tx, age, max_iterations=2)
    assert "penalizer" in str(info.value)
    assert "clv_time_unit" in str(info.value)


def test_pareto_non_convergence(cdnow: pd.DataFrame) -> None:
    with pytest.raises(clv.ClvFitError, match="did not converge"):
        clv.fit_pareto_nbd(
            cdnow["frequency"], cdnow["recency"], cdnow["T"], max_iterations=2
        )


def test_gamma_gamma_errors() -> None:
    x = np.array([0.0] * 20 + [2.0] * 20)
    m = np.array([0.0] * 20 + [10.0, 12.0] * 10)
    with pytest.raises(clv.ClvFitError, match="frequency > 0 and monetary_value > 0"):
        clv.fit_gamma_gamma(x[:20], m[:20])
    with pytest.raises(clv.ClvFitError, match="frequency > 0 and monetary_value > 0"):
        clv.fit_gamma_gamma(x, np.zeros_like(m))
    with pytest.raises(clv.ClvFitError, match="Empty input"):
        clv.fit_gamma_gamma([], [])
    with pytest.raises(clv.ClvFitError, match="negative"):
        clv.fit_gamma_gamma(x, _with(m, 25, -3.0))
    with pytest.raises(clv.ClvFitError, match="NaN"):
        clv.fit_gamma_gamma(x, _with(m, 25, np.nan))
    with pytest.raises(clv.ClvFitError, match="min_customers"):
        clv.fit_gamma_gamma(x, m, min_customers=21)
    with pytest.raises(clv.ClvFitError, match="did not converge"):
        clv.fit_gamma_gamma(x, m, max_iterations=1)
    # Identical spend: v and q run off to infinity and the objective to NaN.
    with pytest.raises(clv.ClvFitError, match="non-finite") as info:
        clv.fit_gamma_gamma(x, np.where(x > 0, 10.0, 0.0))
    assert "penalizer" in str(info.value)


def test_clv_error_is_a_value_error() -> None:
    assert issubclass(clv.ClvFitError, ValueError)


def test_discounted_clv_rejects_bad_arguments() -> None:
    params = {"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.4}
    with pytest.raises(ValueError, match="model"):
        clv.discounted_clv("bg", params, 1, 1, 2, 10)
    with pytest.raises(ValueError, match="lack"):
        clv.discounted_clv("pareto_nbd", params, 1, 1, 2, 10)
    with pytest.raises(ValueError, match="periods_per_month"):
        clv.discounted_clv("bgnbd", params, 1, 1, 2, 10, periods_per_month="Q")


# ---------------------------------------------------------------------------
# Frequency / monetary correlation
# ---------------------------------------------------------------------------


def test_frequency_monetary_correlation(cdnow: pd.DataFrame) -> None:
    repeat = cdnow[cdnow["frequency"] > 0]
    expected = np.corrcoef(repeat["frequency"], repeat["monetary_value"])[0, 1]
    got = clv.frequency_monetary_correlation(
        cdnow["frequency"], cdnow["monetary_value"]
    )
    assert got == pytest.approx(expected, rel=1e-12)
    x = np.r_[cdnow["frequency"].to_numpy(), np.nan, 3.0]
    m = np.r_[cdnow["monetary_value"].to_numpy(), 5.0, np.nan]
    assert clv.frequency_monetary_correlation(x, m) == pytest.approx(got, rel=1e-12)
    assert np.isnan(clv.frequency_monetary_correlation([0, 1], [0, 5.0]))
    assert np.isnan(clv.frequency_monetary_correlation([1, 2, 3], [5.0, 5.0, 5.0]))
    assert clv.frequency_monetary_correlation([1, 2, 3], [1.0, 2.0, 3.0]) == (
        pytest.approx(1.0)
    )


def test_pareto_penalty_follows_lifetimes_row_count_quirk(cdnow: pd.DataFrame) -> None:
    """lifetimes divides the Pareto/NBD likelihood by the *mean* row weight.

    So with a penalizer the raw-row and grouped-triple fits differ; ours must
    follow lifetimes on both inputs.
    """
    x, tx, age = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    gx, gtx, gage, w = clv.group_triples(x, tx, age)
    penalizer = 0.1
    np.random.seed(0)  # noqa: NPY002 -- lifetimes Pareto starts from np.random
    theirs_raw = lifetimes.ParetoNBDFitter(penalizer).fit(x, tx, age)
    np.random.seed(0)  # noqa: NPY002
    theirs_grouped = lifetimes.ParetoNBDFitter(penalizer).fit(gx, gtx, gage, weights=w)
    ours_raw = clv.fit_pareto_nbd(x, tx, age, penalizer=penalizer)
    ours_grouped = clv.fit_pareto_nbd(gx, gtx, gage, weights=w, penalizer=penalizer)
    assert _max_rel(ours_raw.params, _params(theirs_raw, PARETO_KEYS)) < 1e-3
    assert _max_rel(ours_grouped.params, _params(theirs_grouped, PARETO_KEYS)) < 1e-3
    assert _max_rel(ours_grouped.params, ours_raw.params) > 1e-2


def test_params_table_does_not_depend_on_row_order(cdnow: pd.DataFrame) -> None:
    """Rows the warehouse sorted are only checked, others sorted first: the
    fitted values are identical either way, to the last bit."""
    customers = cdnow.reset_index(drop=True)
    columns = ["frequency", "recency", "T", "monetary_value"]
    ordered = customers.sort_values(columns, ignore_index=True)
    shuffled = customers.sample(frac=1.0, random_state=3).reset_index(drop=True)
    assert clv._is_lexsorted([ordered[c].to_numpy(float) for c in columns])
    assert not clv._is_lexsorted([shuffled[c].to_numpy(float) for c in columns])
    pd.testing.assert_frame_equal(
        clv.fit_clv_params_table(ordered),
        clv.fit_clv_params_table(shuffled),
        check_exact=True,
    )


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

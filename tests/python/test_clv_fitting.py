"""Tests of python_udfs.clv.fitting: grouping, input checks and fit results
(shared by every model; run here on all three transaction models).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from clv_helpers import _max_rel, _with
from conftest import BG_KEYS
from simulate import simulate_bgnbd

from python_udfs import clv

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
# Fit results
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


def _rfm(n: int = 30, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    age = rng.uniform(20, 50, n)
    x = rng.integers(0, 5, n).astype(float)
    tx = np.where(x > 0, age * rng.uniform(0.1, 0.9, n), 0.0)
    return x, tx, age


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
    x, tx, age = simulate_bgnbd(300, 0.25, 4.0, 0.8, 2.4, 20, 104, seed=2)
    with pytest.raises(clv.ClvFitError, match="min_customers=1000"):
        clv.fit_bgnbd(x, tx, age, min_customers=1000)
    # Weights count customers: 300 rows x weight 4 = 1200 customers.
    res = clv.fit_bgnbd(x, tx, age, weights=np.full(300, 4.0), min_customers=1000)
    assert res.n_customers == pytest.approx(1200)


def test_clv_error_is_a_value_error() -> None:
    assert issubclass(clv.ClvFitError, ValueError)

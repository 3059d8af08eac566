"""Tests of python_udfs.clv.gamma_gamma against lifetimes 0.11.3 and the sheet."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from python_udfs import clv

lifetimes = pytest.importorskip("lifetimes")

from clv_helpers import _max_rel, _params, _printed, _with  # noqa: E402
from conftest import GG_KEYS  # noqa: E402


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


def test_weighted_gamma_gamma_equals_repeated_rows() -> None:
    rng = np.random.default_rng(5)
    x = rng.integers(1, 6, 60).astype(float)
    m = rng.gamma(4.0, 8.0, 60).round(1)
    w = rng.integers(1, 4, 60)
    weighted = clv.fit_gamma_gamma(x, m, weights=w)
    repeated = clv.fit_gamma_gamma(np.repeat(x, w), np.repeat(m, w))
    assert weighted.n_customers == repeated.n_customers == w.sum()
    assert _max_rel(weighted.params, repeated.params) < 1e-6


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

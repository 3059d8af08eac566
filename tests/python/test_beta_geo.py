"""Tests of the BG/NBD and MBG/NBD fits together (python_udfs.clv._beta_geo):
both against lifetimes 0.11.3, their analytic gradients, non-convergence.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from python_udfs import clv
from python_udfs.clv._beta_geo import _prepare
from python_udfs.clv.bgnbd import _bgnbd_objective
from python_udfs.clv.mbgnbd import _mbgnbd_objective

lifetimes = pytest.importorskip("lifetimes")

from clv_helpers import _max_rel, _params  # noqa: E402
from conftest import BG_KEYS  # noqa: E402


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


@pytest.mark.parametrize(
    ("objective", "theta"),
    [
        (_bgnbd_objective, np.log([0.3, 0.2, 0.9, 2.0])),
        (_mbgnbd_objective, np.log([0.5, 0.15, 0.8, 1.5])),
    ],
)
@pytest.mark.parametrize("penalizer", [0.0, 0.1])
def test_analytic_gradient_matches_finite_differences(
    cdnow: pd.DataFrame, objective, theta: np.ndarray, penalizer: float
) -> None:
    x, tx, age = (cdnow[c].to_numpy() for c in ("frequency", "recency", "T"))
    f = objective(_prepare(x, tx, age, np.ones(len(x))), penalizer)
    _, grad = f(theta)
    numeric = np.empty(4)
    for k in range(4):
        step = np.zeros(4)
        step[k] = 1e-6
        numeric[k] = (f(theta + step)[0] - f(theta - step)[0]) / 2e-6
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("fit", [clv.fit_bgnbd, clv.fit_mbgnbd])
def test_non_convergence_suggests_penalizer(cdnow: pd.DataFrame, fit) -> None:
    x, tx, age = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    with pytest.raises(clv.ClvFitError, match="did not converge") as info:
        fit(x, tx, age, max_iterations=2)
    assert "penalizer" in str(info.value)
    assert "clv_time_unit" in str(info.value)

"""Tests of python_udfs.clv.pareto_nbd against lifetimes 0.11.3 and the sheet."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from python_udfs import clv

lifetimes = pytest.importorskip("lifetimes")

from clv_helpers import _max_rel, _params, _printed  # noqa: E402
from conftest import PARETO_KEYS  # noqa: E402


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


def test_pareto_non_convergence(cdnow: pd.DataFrame) -> None:
    with pytest.raises(clv.ClvFitError, match="did not converge"):
        clv.fit_pareto_nbd(
            cdnow["frequency"], cdnow["recency"], cdnow["T"], max_iterations=2
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

"""Tests of python_udfs.clv.bgnbd: the formula sheet's CDNOW numbers and
parameter recovery from simulated data (tests/python/simulate.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from clv_helpers import _printed
from simulate import simulate_bgnbd

from python_udfs import clv


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


# ---------------------------------------------------------------------------
# Simulation and parameter recovery
# ---------------------------------------------------------------------------


def test_simulate_bgnbd_is_deterministic_and_consistent() -> None:
    first = simulate_bgnbd(2000, 0.25, 4.0, 0.8, 2.4, 20, 104, seed=7)
    second = simulate_bgnbd(2000, 0.25, 4.0, 0.8, 2.4, 20, 104, seed=7)
    other = simulate_bgnbd(2000, 0.25, 4.0, 0.8, 2.4, 20, 104, seed=8)
    for left, right in zip(first, second, strict=True):
        assert np.array_equal(left, right)
    assert not np.array_equal(first[0], other[0])
    x, tx, age = first
    assert np.all((age >= 20) & (age <= 104))
    assert np.all(tx <= age) and np.all(tx >= 0)
    assert np.all(tx[x == 0] == 0) and np.all(tx[x > 0] > 0)
    assert np.array_equal(x, np.floor(x))
    # Day-floored variant: whole periods, same-period purchases merged.
    x, tx, age = simulate_bgnbd(2000, 0.25, 28.0, 0.8, 2.4, 140, 728, 7, period=1.0)
    assert np.array_equal(age, np.floor(age)) and np.array_equal(tx, np.floor(tx))
    assert np.all(tx <= age) and np.all(tx[x == 0] == 0)
    assert np.all(x <= tx)  # at most one purchase per later day


@pytest.mark.parametrize("period", [None, 1.0])
def test_bgnbd_parameter_recovery(period: float | None) -> None:
    true = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.4}
    if period is None:
        data = simulate_bgnbd(50_000, **true, T_min=20, T_max=104, seed=11)
    else:  # alpha per day, ages 20-104 weeks in days
        true = {**true, "alpha": 28.0}
        data = simulate_bgnbd(
            50_000, **true, T_min=140, T_max=728, seed=11, period=period
        )
    res = clv.fit_bgnbd(*data)
    for key, value in true.items():
        assert res.params[key] == pytest.approx(value, rel=0.10), key
    if period is None:  # exact model: the truth is within ~4 standard errors
        for key, value in true.items():
            assert abs(res.params[key] - value) < 4.5 * res.standard_errors[key], key

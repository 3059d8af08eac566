"""CLV fits the data cannot support: boundary optima
(python_udfs.clv._boundary), failure reasons, and the parameter table's
record mode (python_udfs.clv.tables, what the dbt models publish)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import OptimizeResult
from simulate import simulate_bgnbd

from python_udfs import clv
from python_udfs.clv._boundary import _flat_limits, _settle

NAMES = ("p", "q")


def _objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
    """(theta_0 - 1)^2 + e^theta_1: its infimum is theta_1 -> -infinity."""
    value = (theta[0] - 1.0) ** 2 + np.exp(theta[1])
    return float(value), np.array([2.0 * (theta[0] - 1.0), np.exp(theta[1])])


def _stopped(theta, status: int, nit: int = 7) -> OptimizeResult:
    value, grad = _objective(np.asarray(theta, dtype=float))
    return OptimizeResult(
        x=np.asarray(theta, dtype=float),
        fun=value,
        jac=grad,
        status=status,
        nit=nit,
        message="ABNORMAL: " if status == 2 else "STOP: TOTAL NO. OF ITERATIONS",
    )


def test_flat_limits_are_parameters_run_off_where_the_objective_is_flat():
    assert _flat_limits(_objective, np.array([1.0, -25.0]), 0.0) == [1]
    # Not run off (|log| below ln 1e4), or run off but not flat there.
    assert _flat_limits(_objective, np.array([1.0, -2.0]), _objective([1, -2])[0]) == []
    far = np.array([12.0, -25.0])
    assert _flat_limits(_objective, far, _objective(far)[0]) == [1]


def test_an_abnormal_stop_on_a_boundary_refits_the_free_parameters():
    end = _settle("toy", _objective, (_stopped([0.7, -25.0], 2), False), 100, NAMES)
    assert end.boundary == [1]
    assert not end.converged
    assert end.theta[0] == pytest.approx(1.0, abs=1e-6)
    assert end.theta[1] == -25.0
    assert end.iterations > 7
    assert end.message.startswith(
        "On a boundary of the parameter space, where the likelihood is flat: q -> 0."
    )
    assert "Optimizer: ABNORMAL" in end.message


def test_the_iteration_cap_is_no_boundary():
    with pytest.raises(clv.ClvFitError, match="did not converge") as info:
        _settle("toy", _objective, (_stopped([0.7, -25.0], 1), False), 7, NAMES)
    assert info.value.reason == "not_converged"


def test_a_converged_fit_on_a_boundary_is_kept_and_named():
    res = _stopped([1.0, -25.0], 0)
    end = _settle("toy", _objective, (res, True), 100, NAMES, limits={("q", "0"): "x"})
    assert end.converged and end.boundary == [1]
    np.testing.assert_array_equal(end.theta, res.x)
    assert "q -> 0 (x)." in end.message


def test_failure_reasons():
    x, tx, age = simulate_bgnbd(300, 0.25, 4.0, 0.8, 2.4, 20, 104, seed=2)
    cases = {
        "no_customers": lambda: clv.fit_bgnbd([], [], []),
        "too_few_customers": lambda: clv.fit_bgnbd(x[:5], tx[:5], age[:5]),
        "no_repeat_customers": lambda: clv.fit_bgnbd(x * 0, tx * 0, age),
        "not_converged": lambda: clv.fit_bgnbd(x, tx, age, max_iterations=2),
        "invalid_input": lambda: clv.fit_bgnbd(x, age + 1, age),
    }
    for reason, fit in cases.items():
        with pytest.raises(clv.ClvFitError) as info:
            fit()
        assert info.value.reason == reason, str(info.value)
    with pytest.raises(clv.ClvFitError) as info:
        clv.fit_gamma_gamma([0.0, 0.0], [0.0, 0.0])
    assert info.value.reason == "no_repeat_customers"
    with pytest.raises(ValueError, match="unknown ClvFitError reason"):
        clv.ClvFitError("message", reason="bogus")


def test_no_dropout_data_fit_on_the_boundary_with_p_alive_near_one():
    x, tx, age = simulate_bgnbd(2000, 0.5, 8.0, 1e-9, 1.0, 20, 104, seed=0)
    fit = clv.fit_bgnbd(
        *clv.group_triples(x, tx, age)[:3], clv.group_triples(x, tx, age)[3]
    )
    assert fit.at_boundary == ("a", "b")
    assert fit.params["a"] < 1e-4 < 1e4 < fit.params["b"]
    assert fit.params["r"] == pytest.approx(0.5, rel=0.15)
    assert np.isnan(fit.standard_errors["a"]) and np.isfinite(fit.standard_errors["r"])
    params = [fit.params[k] for k in ("r", "alpha", "a", "b")]
    alive = clv.bgnbd_p_alive(x, tx, age, *params)
    expected = clv.bgnbd_conditional_expected_purchases(52.0, x, tx, age, *params)
    assert np.all(np.isfinite(alive)) and alive.min() > 0.99
    assert np.all(np.isfinite(expected)) and expected.min() > 0


def _customers(x, tx, age, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    spend = np.where(x > 0, rng.gamma(4.0, 10.0, len(x)), 0.0)
    return pd.DataFrame(
        {"frequency": x, "recency": tx, "T": age, "monetary_value": spend}
    )


def test_the_params_table_records_what_the_data_cannot_support():
    x, tx, age = simulate_bgnbd(300, 0.25, 4.0, 0.8, 2.4, 20, 104, seed=2)
    customers = _customers(x, tx, age)
    cases = {
        "none": (customers.head(0), "no_customers", "no_customers"),
        "one": (customers.head(1), "too_few_customers", None),
        "no repeat": (
            customers.assign(frequency=0.0, recency=0.0, monetary_value=0.0),
            "no_repeat_customers",
            "no_repeat_customers",
        ),
    }
    for name, (frame, reason, spend_reason) in cases.items():
        table = clv.fit_clv_params_from_config(frame, "bgnbd", "0")
        transaction = table[table["model"] == "bgnbd"]
        assert set(transaction["fit_status"]) == {"not_fitted"}, name
        assert set(transaction["failure_reason"]) == {reason}, name
        assert transaction["value"].isna().all() and not transaction["converged"].any()
        assert (transaction["customers_fitted"] == len(frame)).all()
        spend = table[table["model"] == "gamma_gamma"]
        if spend_reason:
            assert set(spend["failure_reason"]) == {spend_reason}, name
        if spend_reason == "no_repeat_customers":
            assert spend["message"].str.contains("Gamma-Gamma needs repeat").all()
        diagnostics = table[table["model"] == "diagnostics"].iloc[0]
        assert diagnostics["fit_status"] == "not_fitted"
        assert "undefined" in diagnostics["message"]
    with pytest.raises(clv.ClvFitError, match="clv_enabled: false"):
        clv.fit_clv_params_table(customers.head(1))


def test_invalid_inputs_raise_even_when_recording():
    x, tx, age = simulate_bgnbd(300, 0.25, 4.0, 0.8, 2.4, 20, 104, seed=2)
    customers = _customers(x, age + 1.0, age)
    with pytest.raises(clv.ClvFitError, match="recency > T") as info:
        clv.fit_clv_params_from_config(customers, "bgnbd", 0)
    assert info.value.reason == "invalid_input"


def test_the_params_table_marks_a_boundary_fit():
    x, tx, age = simulate_bgnbd(2000, 0.5, 8.0, 1e-9, 1.0, 20, 104, seed=0)
    table = clv.fit_clv_params_from_config(_customers(x, tx, age), "bgnbd", 0)
    transaction = table[table["model"] == "bgnbd"].set_index("parameter")
    assert set(transaction["fit_status"]) == {"boundary"}
    assert transaction["is_at_boundary"].to_dict() == {
        "r": False,
        "alpha": False,
        "a": True,
        "b": True,
    }
    assert transaction["value"].notna().all()
    assert transaction["failure_reason"].isna().all()
    spend = table[table["model"] == "gamma_gamma"]
    assert (
        set(spend["fit_status"]) == {"converged"} and not spend["is_at_boundary"].any()
    )


def test_an_interior_fit_is_converged_and_nowhere_at_a_boundary(cdnow):
    table = clv.fit_clv_params_from_config(cdnow, "bgnbd", 0)
    assert set(table["fit_status"]) == {"converged"}
    assert not table["is_at_boundary"].any() and table["converged"].all()
    assert table["failure_reason"].isna().all()

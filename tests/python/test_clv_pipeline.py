"""End-to-end CLV: SQL inputs equal lifetimes, fits match lifetimes, known
parameters are recovered, and a fit that cannot work fails with a message."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import ONLINE_RETAIL, lifetimes_dataset, make_dbt_runner, require

CLV_MODELS = [
    "--select",
    "+fct_clv_model_params",
    "+fct_clv_validation",
    "+fct_clv_summary",
    "--indirect-selection",
    "cautious",
    "--exclude",
    "test_type:unit",
]


def _lifetimes():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import lifetimes
        from lifetimes.utils import summary_data_from_transaction_data
    return lifetimes, summary_data_from_transaction_data


def _table(result, sql: str) -> pd.DataFrame:
    import duckdb

    with duckdb.connect(str(result.warehouse), read_only=True) as conn:
        return conn.execute(sql).df()


def _params(result, model: str) -> dict[str, float]:
    table = _table(
        result,
        f"select parameter, value from fct_clv_model_params where model = '{model}'",
    )
    return dict(zip(table["parameter"], table["value"], strict=True))


@pytest.mark.parametrize(("unit", "multiplier"), [("day", 1), ("week", 7)])
def test_clv_inputs_equal_lifetimes_summary_on_online_retail(run_dbt, unit, multiplier):
    path = require(ONLINE_RETAIL)
    result = run_dbt(
        ["run", "--select", "+int_customer_clv_inputs"],
        {
            "input_format": "online_retail",
            "input_path": str(path),
            "clv_time_unit": unit,
        },
    )
    assert result.returncode == 0, result.output
    orders = _table(
        result,
        "select customer_id, cast(ordered_at_local as date) as purchase_date, "
        "net_revenue from int_orders_aggregated where is_sale",
    )
    ours = _table(result, "select * from int_customer_clv_inputs")
    end = ours["observation_end"].iloc[0]
    _, summary_data_from_transaction_data = _lifetimes()
    expected = summary_data_from_transaction_data(
        orders,
        "customer_id",
        "purchase_date",
        monetary_value_col="net_revenue",
        observation_period_end=pd.Timestamp(end),
        freq="D",
        freq_multiplier=multiplier,
    )
    merged = ours.set_index("customer_id").join(
        expected.add_suffix("_lifetimes"), how="outer"
    )
    assert len(merged) == len(expected) == len(ours) == 4_338
    for column in ["frequency", "recency", "T", "monetary_value"]:
        np.testing.assert_allclose(
            merged[column].to_numpy(dtype=float),
            merged[f"{column}_lifetimes"].to_numpy(dtype=float),
            rtol=1e-9,
            atol=1e-9,
            err_msg=column,
        )


def test_cdnow_pipeline_gives_lifetimes_parameters(run_dbt):
    path = require(lifetimes_dataset("CDNOW_master.txt"))
    result = run_dbt(
        ["build", *CLV_MODELS],
        {
            "input_format": "cdnow",
            "input_path": str(path),
            "clv_time_unit": "week",
            "clv_observation_end": "1997-09-30",
            "clv_calibration_end": "1997-06-30",
        },
    )
    assert result.returncode == 0, result.output
    lines = _table(
        result,
        "select customer_id, cast(ordered_at as date) as purchase_date, "
        "line_amount from stg_input__order_lines",
    )
    lifetimes, summary_data_from_transaction_data = _lifetimes()
    summary = summary_data_from_transaction_data(
        lines,
        "customer_id",
        "purchase_date",
        monetary_value_col="line_amount",
        observation_period_end="1997-09-30",
        freq="D",
        freq_multiplier=7,
    )
    bgf = lifetimes.BetaGeoFitter(penalizer_coef=0.0).fit(
        summary["frequency"], summary["recency"], summary["T"]
    )
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    ggf = lifetimes.GammaGammaFitter(penalizer_coef=0.0).fit(
        repeat["frequency"], repeat["monetary_value"]
    )
    ours_bg, ours_gg = _params(result, "bgnbd"), _params(result, "gamma_gamma")
    for name in ["r", "alpha", "a", "b"]:
        assert ours_bg[name] == pytest.approx(bgf.params_[name], rel=1e-5), name
    for name in ["p", "q", "v"]:
        assert ours_gg[name] == pytest.approx(ggf.params_[name], rel=1e-5), name
    # Scoring in SQL equals lifetimes' 12-month CLV for every customer, to
    # within what the ~1e-6 difference of the fitted parameters allows (with
    # equal parameters the functions agree to 1e-9: test_duckdb_plugin.py).
    scored = _table(
        result, "select customer_id, p_alive, clv_long from fct_customer_clv"
    ).set_index("customer_id")
    expected_clv = ggf.customer_lifetime_value(
        bgf,
        summary["frequency"],
        summary["recency"],
        summary["T"],
        summary["monetary_value"].clip(lower=0),
        time=12,
        discount_rate=0.01,
        freq="W",
    )
    joined = scored.join(expected_clv.rename("lifetimes_clv"))
    np.testing.assert_allclose(joined["clv_long"], joined["lifetimes_clv"], rtol=2e-5)
    np.testing.assert_allclose(
        scored.loc[summary.index, "p_alive"],
        bgf.conditional_probability_alive(
            summary["frequency"], summary["recency"], summary["T"]
        ),
        rtol=2e-5,
    )


@pytest.fixture(scope="module")
def generated_build(tmp_path_factory):
    """A clean generated sample with known BG/NBD and Gamma-Gamma parameters."""
    from python_udfs.generator import DIRTY_KINDS, GeneratorConfig, generate

    tmp = tmp_path_factory.mktemp("clv_generated")
    config = GeneratorConfig(
        seed=11, alpha=20.0, dirty_shares=dict.fromkeys(DIRTY_KINDS, 0.0)
    )
    generate(tmp / "data", customers=20_000, fmt="parquet", config=config)
    params = json.loads((tmp / "data" / "params.json").read_text())
    result = make_dbt_runner(tmp)(
        ["build", *CLV_MODELS],
        {
            "input_path": str(tmp / "data" / "order_lines.parquet"),
            "clv_time_unit": "day",
        },
    )
    assert result.returncode == 0, result.output
    return result, params["parameters"]


def test_known_parameters_are_recovered(generated_build):
    result, truth = generated_build
    fitted_bg, fitted_gg = _params(result, "bgnbd"), _params(result, "gamma_gamma")
    for name in ["r", "alpha", "a", "b"]:
        assert fitted_bg[name] == pytest.approx(truth["bgnbd"][name], rel=0.15), name
    for name in ["p", "q", "v"]:
        assert fitted_gg[name] == pytest.approx(truth["gamma_gamma"][name], rel=0.15), (
            name
        )


def test_validation_shows_small_aggregate_error(generated_build):
    result, _ = generated_build
    overall = _table(
        result, "select * from fct_clv_validation where group_name = 'all'"
    ).iloc[0]
    assert abs(overall["error_pct"]) < 10
    assert overall["correlation"] > 0.5
    assert overall["predicted_mean_order_value"] == pytest.approx(
        overall["actual_mean_order_value"], rel=0.1
    )


def test_clv_is_ranked_and_summarised(generated_build):
    result, _ = generated_build
    clv = _table(result, "select * from fct_customer_clv")
    assert (clv["clv_long"] >= clv["clv_short"] - 1e-9).all()
    assert clv["clv_rank"].is_unique
    top = clv.sort_values("clv_rank").head(len(clv) // 10)
    summary = _table(result, "select * from fct_clv_summary order by clv_decile")
    assert summary["predicted_clv_share"].iloc[0] == pytest.approx(
        top["clv_long"].sum() / clv["clv_long"].sum(), rel=0.01
    )


def test_no_repeat_customers_fails_with_cause_and_fix(run_dbt, tmp_path):
    path = tmp_path / "one_order_each.csv"
    rows = [f"O{i},C{i},2024-01-{1 + i % 28:02d} 10:00:00,P1,1,9.99" for i in range(40)]
    path.write_text(
        "order_id,customer_id,ordered_at,product_id,quantity,unit_price\n"
        + "\n".join(rows)
        + "\n"
    )
    # A production build degrades instead (tests/python/test_degraded_builds.py);
    # clv_required makes it fail, from the fit's warning test.
    result = run_dbt(
        ["build", "--select", "+int_clv_params_fitted"],
        {"input_path": str(path), "clv_required": True},
    )
    assert result.returncode != 0
    assert "no repeat customers" in result.output
    assert "clv_enabled: false" in result.output
    assert "int_clv_params_fitted" in result.output
    assert "Traceback" not in result.output

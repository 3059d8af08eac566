"""Builds on data that cannot support every model: they degrade, warn with
the cause and the fix, and exit 0; with clv_required they fail with the
project's one-line message instead. Never a Python traceback.

Each test writes its input under tmp_path (generated, or sliced from a
shared data file, skipping when that file is absent) and builds it twice
into the same warehouse: as a production run, then with clv_required.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest
from conftest import EVENTS_SAMPLE, ONLINE_RETAIL, DbtResult, require

from python_udfs import report
from python_udfs.serving import serving_path

_WARNING = re.compile(r"\[WARNING\] (\w+): (.*)")


def _warnings(result: DbtResult) -> dict[str, str]:
    """The project's warnings of a dbt run: test name -> message."""
    return dict(_WARNING.findall(result.output))


def _build_degraded(run_dbt, dbt_vars: dict, expected: set[str]) -> DbtResult:
    """Build; it must pass with exactly the `expected` warnings, each with a
    fix, and no traceback. Then build with clv_required: it must fail with
    the first of them, without a traceback."""
    result = run_dbt(["build"], dbt_vars)
    assert result.returncode == 0, result.output[-5000:]
    assert "Traceback" not in result.output
    warned = _warnings(result)
    assert set(warned) == expected, warned
    for name, message in warned.items():
        assert "Fix" in message, (name, message)
        assert f"WARN 1 {name} " in result.output
    # The report renders from what the build published, without a traceback.
    served = serving_path(result.warehouse)
    out = result.warehouse.parent / "report.html"
    assert report.main(["--warehouse", str(served), "--out", str(out)]) == 0
    required = run_dbt(["build"], {**dbt_vars, "clv_required": True})
    assert required.returncode != 0
    assert "Traceback" not in required.output
    assert "clv_required is true, so the build stops here" in required.output
    assert any(message in required.output for message in warned.values())
    return result


def _write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def _slice_online_retail(path: Path, keep) -> Path:
    """Write the Online Retail rows for which keep(index, row) holds."""
    source = require(ONLINE_RETAIL)
    with source.open(newline="") as raw, path.open("w", newline="") as out:
        rows = csv.reader(raw)
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(next(rows))
        writer.writerows(row for index, row in enumerate(rows) if keep(index, row))
    return path


def _scalar(result: DbtResult, sql: str):
    return result.scalar(sql)


def test_rees46_sample_builds_funnel_revenue_and_rfm_without_clv(run_dbt, tmp_path):
    path = shutil.copy(require(EVENTS_SAMPLE), tmp_path / "events.csv")
    result = _build_degraded(
        run_dbt,
        {"input_format": "events", "input_path": str(path)},
        {"clv_too_few_customers_to_fit", "clv_history_shorter_than_holdout"},
    )
    warned = _warnings(result)
    assert "no repeat customers" in warned["clv_too_few_customers_to_fit"]
    assert "clv_holdout_days" in warned["clv_history_shorter_than_holdout"]
    assert _scalar(result, "select sum(users) from fct_funnel_daily") == 4_504
    assert _scalar(result, "select count(*) from fct_funnel_by_category") > 0
    assert _scalar(result, "select sum(orders) from fct_revenue_monthly") > 0
    customers = _scalar(result, "select count(*) from dim_customers")
    assert customers == _scalar(result, "select count(*) from fct_customer_rfm") > 100
    assert _scalar(result, "select count(*) from fct_customer_clusters") == customers
    for mart in ("fct_customer_clv", "fct_clv_summary", "fct_clv_validation"):
        assert _scalar(result, f"select count(*) from {mart}") == 0, mart
    assert result.query(
        "select distinct fit_status, converged from fct_clv_model_params"
    ) == [("not_fitted", False)]
    assert (
        _scalar(
            result,
            "select count(*) from dim_customers where p_alive is not null "
            "or predicted_clv is not null",
        )
        == 0
    )
    # Lifecycle from the RFM segment (seed fallback_lifecycle_stage).
    assert (
        _scalar(
            result,
            "select count(*) from dim_customers "
            "inner join rfm_segment_map on rfm_segment = segment "
            "where lifecycle_stage = fallback_lifecycle_stage",
        )
        == customers
    )


def test_ten_days_of_online_retail_build_without_validation(run_dbt, tmp_path):
    path = _slice_online_retail(
        tmp_path / "ten_days.csv", lambda _, row: row[4] < "2010-12-11" and row[6]
    )
    result = _build_degraded(
        run_dbt,
        {"input_format": "online_retail", "input_path": str(path)},
        {"clv_history_shorter_than_holdout", "clv_fit_on_parameter_boundary"},
    )
    message = _warnings(result)["clv_history_shorter_than_holdout"]
    assert "first purchase was on 2010-12-01 (10 day(s) of history)" in message
    assert "clv_holdout_days of at most 10" in message
    assert _scalar(result, "select count(*) from fct_clv_validation") == 0
    assert _scalar(result, "select count(*) from int_customer_clv_calibration") == 0
    # Scored from the boundary fit (kept by the clv_required run, which
    # fails before replacing the marts).
    assert _scalar(result, "select count(*) from fct_customer_clv") == _scalar(
        result, "select count(*) from int_customer_clv_inputs"
    )
    # A holdout inside the history gives a validation (no history warning).
    shorter = run_dbt(
        ["build"],
        {
            "input_format": "online_retail",
            "input_path": str(path),
            "clv_holdout_days": 5,
        },
    )
    assert shorter.returncode == 0, shorter.output[-3000:]
    assert "clv_history_shorter_than_holdout" not in _warnings(shorter)
    assert _scalar(shorter, "select count(*) from fct_clv_validation") > 0


def test_one_customer_builds_without_clv_and_clusters(run_dbt, tmp_path):
    rows = [f"O{i},C1,2024-0{i}-10 10:00:00,P1,2,9.99" for i in range(1, 6)]
    path = _write(
        tmp_path / "one.csv",
        "order_id,customer_id,ordered_at,product_id,quantity,unit_price",
        rows,
    )
    result = _build_degraded(
        run_dbt,
        {"input_path": str(path)},
        {
            "clv_too_few_customers_to_fit",
            "clv_history_shorter_than_holdout",
            "fewer_distinct_customers_than_clusters",
        },
    )
    assert (
        "too few customers to fit bgnbd (1,"
        in (_warnings(result)["clv_too_few_customers_to_fit"])
    )
    assert "got 1" in _warnings(result)["fewer_distinct_customers_than_clusters"]
    for mart in (
        "fct_customer_clv",
        "fct_clv_summary",
        "fct_customer_clusters",
        "dim_cluster_profiles",
        "fct_clustering_diagnostics",
    ):
        assert _scalar(result, f"select count(*) from {mart}") == 0, mart
    assert result.query(
        "select customer_id, rfm_segment is not null, cluster_id, p_alive, "
        "lifecycle_stage is not null from dim_customers"
    ) == [("C1", True, None, None, True)]
    assert result.query(
        "select distinct clustering_status from int_customers_cluster_k_chosen"
    ) == [("not_clustered",)]


def test_two_distinct_customers_get_two_clusters(run_dbt, tmp_path):
    rows = [
        f"O{i},C{i % 2},2024-0{i}-10 10:00:00,P1,{1 + 4 * (i % 2)},9.99"
        for i in range(1, 9)
    ]
    path = _write(
        tmp_path / "two.csv",
        "order_id,customer_id,ordered_at,product_id,quantity,unit_price",
        rows,
    )
    result = run_dbt(["build"], {"input_path": str(path)})
    assert result.returncode == 0, result.output[-3000:]
    message = _warnings(result)["fewer_distinct_customers_than_clusters"]
    assert "k reduced" in message and "only 2 distinct customer(s)" in message
    assert result.query("select distinct k from fct_customer_clusters") == [(2,)]


def test_only_returns_build_without_rfm_clv_and_clusters(run_dbt, tmp_path):
    rows = [
        f"R{i},C{i % 5},2024-01-{i + 5:02d} 10:00:00,P{i % 3},-{1 + i % 2},4.50"
        for i in range(1, 21)
    ]
    path = _write(
        tmp_path / "returns.csv",
        "order_id,customer_id,ordered_at,product_id,quantity,unit_price",
        rows,
    )
    result = _build_degraded(
        run_dbt,
        {"input_path": str(path)},
        {"clv_too_few_customers_to_fit", "fewer_distinct_customers_than_clusters"},
    )
    assert (
        "no customer with a purchase"
        in (_warnings(result)["clv_too_few_customers_to_fit"])
    )
    # Staging keeps every line as a return; nothing is rejected.
    assert result.query(
        "select count(*), count(*) filter (where line_amount < 0) "
        "from stg_input__order_lines"
    ) == [(20, 20)]
    assert _scalar(result, "select count(*) from stg_input__rejected_rows") == 0
    assert result.query(
        "select count(*), sum(orders), sum(net_revenue) < 0, "
        "count(rfm_segment), count(lifecycle_stage) from dim_customers"
    ) == [(5, 0, True, 0, 0)]
    for mart in ("fct_customer_rfm", "fct_customer_clv", "fct_customer_clusters"):
        assert _scalar(result, f"select count(*) from {mart}") == 0, mart


def test_every_20th_line_of_online_retail_fits_on_the_no_dropout_boundary(
    run_dbt, tmp_path
):
    path = _slice_online_retail(tmp_path / "every_20th.csv", lambda i, _: i % 20 == 0)
    result = _build_degraded(
        run_dbt,
        {"input_format": "online_retail", "input_path": str(path)},
        {"clv_fit_on_parameter_boundary", "clv_calibration_fit_on_parameter_boundary"},
    )
    message = _warnings(result)["clv_fit_on_parameter_boundary"]
    assert "converged = false" in message and "no-dropout limit" in message
    params = {
        row[0]: row[1:]
        for row in result.query(
            "select parameter, value, converged, fit_status, is_at_boundary "
            "from fct_clv_model_params where model = 'bgnbd'"
        )
    }
    assert {name: row[1:] for name, row in params.items()} == {
        "r": (False, "boundary", False),
        "alpha": (False, "boundary", False),
        "a": (False, "boundary", True),
        "b": (False, "boundary", True),
    }
    # lifetimes' point: r 0.820, alpha 12.25, a 0.0, b large (flat in b).
    assert params["r"][0] == pytest.approx(0.820, rel=2e-3)
    assert params["alpha"][0] == pytest.approx(12.25, rel=2e-3)
    assert params["a"][0] < 1e-4 and params["b"][0] > 1e3
    assert (
        _scalar(result, "select customers_fitted from fct_clv_model_params limit 1")
        == 3_639
    )
    customers, finite, low_p_alive = result.query(
        "select count(*), count(*) filter (where isfinite(p_alive) and "
        "isfinite(clv_long) and isfinite(expected_purchases_long)), "
        "min(p_alive) from fct_customer_clv"
    )[0]
    assert customers == finite == 3_639
    assert low_p_alive > 0.999
    assert _scalar(result, "select sum(clv_long) from fct_customer_clv") > 0
    assert _scalar(result, "select count(*) from fct_clv_validation") > 0

"""End-to-end: the KPI marts on real data, with every dbt test and contract."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
import yaml
from conftest import (
    EVENTS_SAMPLE,
    FIXTURES,
    ONLINE_RETAIL,
    PROJECT_DIR,
    make_dbt_runner,
    require,
    tampered_data_test,
)

FIXTURE_INPUTS = FIXTURES / "inputs"

# Distinct customers per month after the usual cleaning, as published for the
# UCI Online Retail data (see shared/data/online_retail/SOURCE.md).
PUBLISHED_ACTIVE_CUSTOMERS = {
    "2010-12": 885,
    "2011-01": 741,
    "2011-02": 758,
    "2011-03": 974,
    "2011-04": 856,
    "2011-05": 1056,
    "2011-06": 991,
    "2011-07": 949,
    "2011-08": 935,
    "2011-09": 1266,
    "2011-10": 1364,
    "2011-11": 1664,
    "2011-12": 615,
}


@pytest.fixture(scope="module")
def online_retail_build(tmp_path_factory):
    """One full `dbt build` on the real Online Retail file, with Parquet export."""
    path = require(ONLINE_RETAIL)
    tmp = tmp_path_factory.mktemp("online_retail")
    result = make_dbt_runner(tmp)(
        ["build"],
        {
            "input_format": "online_retail",
            "input_path": str(path),
            "export_marts_parquet": True,
            "export_path": str(tmp),
        },
    )
    assert result.returncode == 0, result.output
    return result, tmp


def test_online_retail_standard_cleaning_figures(online_retail_build):
    result, _ = online_retail_build
    buyers = result.scalar("select count(*) from dim_customers where orders > 0")
    assert buyers == 4_338
    # Gross revenue of kept sales, plus the exact duplicates we set aside,
    # equals the usual cleaned revenue to the cent.
    gross = result.scalar("select sum(gross_revenue) from fct_revenue_monthly")
    duplicates = result.scalar(
        "select coalesce(sum(quantity * unit_price), 0) "
        "from stg_input__rejected_rows where reject_reason = 'exact_duplicate' "
        "and quantity > 0 and unit_price > 0 and customer_id is not null"
    )
    assert round(gross + duplicates, 2) == pytest.approx(8_911_407.90, abs=0.001)


def test_online_retail_monthly_active_customers_match_published(
    online_retail_build,
):
    result, _ = online_retail_build
    active = {
        month.strftime("%Y-%m"): count
        for month, count in result.query(
            "select month, active_customers from fct_customers_monthly"
        )
    }
    assert active == PUBLISHED_ACTIVE_CUSTOMERS


def test_net_revenue_ties_back_and_rates_are_bounded(online_retail_build):
    result, _ = online_retail_build
    marts_net = result.scalar("select sum(net_revenue) from fct_revenue_monthly")
    staging_net = result.scalar("select sum(line_amount) from stg_input__order_lines")
    assert marts_net == pytest.approx(staging_net, abs=0.01)
    assert (
        result.scalar(
            "select count(*) from fct_customers_monthly "
            "where new_customer_ratio > 1 or retention_rate > 1"
        )
        == 0
    )


def test_marts_are_exported_to_parquet(online_retail_build):
    result, export_dir = online_retail_build
    exported = sorted(p.stem for p in export_dir.glob("*.parquet"))
    marts = [
        row[0]
        for row in result.query(
            "select table_name from information_schema.tables "
            "where table_name like 'fct_%' or table_name like 'dim_%' "
            "order by 1"
        )
    ]
    assert exported == marts
    import duckdb

    rows = duckdb.sql(
        f"select count(*) from '{export_dir / 'dim_customers.parquet'}'"
    ).fetchall()[0][0]
    assert rows == result.scalar("select count(*) from dim_customers")


def test_funnel_marts_on_the_rees46_sample(run_dbt):
    path = require(EVENTS_SAMPLE)
    # Under three hours of events hold no repeat purchases, so the CLV
    # models are switched off; everything else builds and tests.
    result = run_dbt(
        ["build"],
        {"input_format": "events", "input_path": str(path), "clv_enabled": False},
    )
    assert result.returncode == 0, result.output
    assert (
        result.scalar("select count(*) from dim_customers where p_alive is not null")
        == 0
    )
    day = result.query(
        "select event_date, users, users_viewed, purchases, revenue, "
        "view_to_purchase_rate from fct_funnel_daily"
    )
    assert len(day) == 1
    event_date, users, viewed, purchases, revenue, rate = day[0]
    assert event_date == dt.date(2019, 10, 1)
    assert users == 4_504
    assert purchases == result.scalar(
        "select count(*) from stg_input__events where event_type = 'purchase'"
    )
    assert revenue == pytest.approx(
        result.scalar("select sum(line_amount) from stg_input__order_lines")
    )
    assert 0 < rate < 1
    assert (
        result.scalar("select sum(purchases) from fct_funnel_by_category") == purchases
    )


def test_funnel_marts_are_empty_without_events(online_retail_build):
    result, _ = online_retail_build
    assert result.scalar("select count(*) from fct_funnel_daily") == 0
    assert result.scalar("select count(*) from fct_funnel_by_category") == 0


def _declared_not_null_columns() -> dict[str, set[str]]:
    """Contracted models' columns declared `constraints: [type: not_null]`."""
    declared: dict[str, set[str]] = {}
    for path in (PROJECT_DIR / "models").rglob("*.yml"):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            contract = (model.get("config") or {}).get("contract") or {}
            if not contract.get("enforced"):
                continue
            declared[model["name"]] = {
                column["name"]
                for column in model.get("columns") or []
                if any(
                    c.get("type") == "not_null" for c in column.get("constraints") or []
                )
            }
    return declared


def test_not_null_constraints_are_enforced_by_the_warehouse(online_retail_build):
    """Mart columns that must not be null are NOT NULL in DuckDB (the contract
    replaces not_null data tests): a null fails the build at insert time."""
    result, _ = online_retail_build
    declared = _declared_not_null_columns()
    assert sum(len(columns) for columns in declared.values()) > 100
    with duckdb.connect(str(result.warehouse), read_only=True) as conn:
        rows = conn.sql(
            "select table_name, unnest(constraint_column_names) "
            "from duckdb_constraints() where constraint_type = 'NOT NULL'"
        ).fetchall()
        enforced: dict[str, set[str]] = {}
        for table, column in rows:
            enforced.setdefault(table, set()).add(column)
    for model, columns in declared.items():
        assert columns <= enforced.get(model, set()), model


def test_revenue_marts_reconcile_test_names_the_mart_that_does_not(run_dbt):
    """assert_revenue_marts_reconcile passes on a build and fails, naming
    the mart, when one mart's net revenue drifts from the order lines."""
    dbt_vars = {
        "input_format": "transactions",
        "input_path": str(FIXTURE_INPUTS / "every_reject_reason.csv"),
        "max_rejected_share": 1,
    }
    marts = ["monthly", "by_store_monthly", "by_weekday_hour"]
    built = run_dbt(
        ["run", "--select", *(f"+fct_revenue_{m}" for m in marts)], dbt_vars
    )
    assert built.returncode == 0, built.output
    broken = tampered_data_test(
        run_dbt,
        dbt_vars,
        "assert_revenue_marts_reconcile",
        "assert_revenue_marts_reconcile",
        "update fct_revenue_by_store_monthly set net_revenue = net_revenue + 0.01 "
        "where month = (select min(month) from fct_revenue_by_store_monthly)",
    )
    assert "Got 1 result" in broken.output, broken.output
    assert broken.query(
        "select mart from main_dbt_test__audit.assert_revenue_marts_reconcile"
    ) == [("fct_revenue_by_store_monthly",)]

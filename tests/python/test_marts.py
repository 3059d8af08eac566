"""End-to-end: the KPI marts on real data, with every dbt test and contract."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pytest
import yaml
from conftest import (
    EVENTS_SAMPLE,
    FIXTURES,
    ONLINE_RETAIL,
    PROJECT_DIR,
    declared_check_constraints,
    make_dbt_runner,
    require,
    tampered_data_test,
)
from mart_checksums import differences, expected_checksums, mart_checksums

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


@pytest.fixture(scope="module")
def generated_marts_build(tmp_path_factory):
    """A full `dbt build` on a small generated sample, dirty rows included;
    it needs no data file, so it always runs."""
    from python_udfs.generator import GeneratorConfig, generate

    tmp = tmp_path_factory.mktemp("generated_marts")
    generate(tmp / "data", customers=2_000, fmt="csv", config=GeneratorConfig(seed=7))
    dbt_vars = {
        "input_format": "transactions",
        "input_path": str(tmp / "data" / "order_lines.csv"),
    }
    result = make_dbt_runner(tmp)(["build"], dbt_vars)
    assert result.returncode == 0, result.output
    return result, dbt_vars


def _enforced_checks(conn, table: str) -> list[str]:
    return sorted(
        row[0]
        for row in conn.execute(
            "select expression from duckdb_constraints() "
            "where constraint_type = 'CHECK' and table_name = ?",
            [table],
        ).fetchall()
    )


def _as_duckdb_writes_them(conn, table: str, expressions: list[str]) -> list[str]:
    """The check expressions as DuckDB stores them (it normalises the text),
    from a scratch table with the columns of `table`."""
    columns = conn.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_name = ? order by ordinal_position",
        [table],
    ).fetchall()
    definitions = [f'"{name}" {data_type}' for name, data_type in columns]
    definitions += [f"check ({expression})" for expression in expressions]
    with duckdb.connect() as scratch:
        scratch.execute(f"create table scratch ({', '.join(definitions)})")
        return _enforced_checks(scratch, "scratch")


def test_check_constraints_are_enforced_by_the_warehouse(
    generated_marts_build, tmp_path
):
    """Row-level rules of the marts (ranges, accepted values) are CHECK
    constraints in DuckDB (the contract replaces those data tests), and a
    row that breaks one cannot be written."""
    result, _ = generated_marts_build
    declared = declared_check_constraints(PROJECT_DIR / "models" / "marts")
    assert sum(len(expressions) for expressions in declared.values()) > 30
    with duckdb.connect(str(result.warehouse), read_only=True) as conn:
        for model, expressions in declared.items():
            enforced = _enforced_checks(conn, model)
            for expression in _as_duckdb_writes_them(conn, model, expressions):
                assert expression in enforced, (model, expression)

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(result.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as conn:
        for table, bad in [
            ("fct_customers_monthly", "2 as retention_rate"),
            ("fct_customer_rfm", "'Gold' as value_tier"),
            ("fct_customer_clv", "1.5 as p_alive"),
        ]:
            with pytest.raises(duckdb.ConstraintException, match="CHECK"):
                conn.execute(
                    f"insert into {table} select * replace ({bad}) from {table} limit 1"
                )
        # Like the range test it replaces, a range check lets a null pass.
        conn.execute(
            "insert into fct_customers_monthly "
            "select * replace (null as retention_rate) "
            "from fct_customers_monthly limit 1"
        )


def test_a_row_breaking_a_check_fails_the_build_and_keeps_the_mart(
    generated_marts_build, tmp_path
):
    """A bad value from upstream fails the mart's build at insert time with
    DuckDB's message, and the mart built before stays as it was."""
    result, dbt_vars = generated_marts_build
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(result.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as conn:
        before = conn.execute(
            "select method, count(*) from fct_customer_clusters group by 1"
        ).fetchall()
        conn.execute(
            "update int_customers_clustered set method = 'kmeanz' "
            "where customer_id = (select min(customer_id) "
            "from int_customers_clustered)"
        )
    broken = make_dbt_runner(tmp_path)(
        ["run", "--select", "fct_customer_clusters"], dbt_vars, warehouse=warehouse
    )
    assert broken.returncode != 0, broken.output
    assert "CHECK constraint failed" in broken.output, broken.output
    assert "'kmeans', 'hierarchical'" in broken.output, broken.output
    assert (
        broken.query("select method, count(*) from fct_customer_clusters group by 1")
        == before
    )
    assert (
        broken.query(
            "select table_name from duckdb_tables() where table_name like '%dbt_tmp%'"
        )
        == []
    )


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


@pytest.mark.parametrize("build", ["fixture", "online_retail"])
def test_marts_equal_the_committed_checksums(build, generated_marts_build, request):
    """Every mart is bit-identical to the committed checksums of the same
    build (tests/fixtures/mart_checksums.json): a change that is not meant
    to change any output (a refactoring) must pass this unchanged; one that
    is meant to rewrites the entry, see tests/python/mart_checksums.py."""
    if build == "fixture":
        result, _ = generated_marts_build
    else:
        result, _ = request.getfixturevalue("online_retail_build")
    actual = mart_checksums(result.warehouse)
    assert differences(actual, expected_checksums(build)) == []


def test_mart_checksums_see_one_bit_of_one_double(generated_marts_build, tmp_path):
    """The checksum of a mart changes when one double of one row moves by
    one unit in the last place, and only that mart's does; the order rows
    were written in does not count."""
    result, _ = generated_marts_build
    before = mart_checksums(result.warehouse)
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(result.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute(
            "create or replace table fct_customer_rfm as "
            "select * from fct_customer_rfm order by customer_id desc"
        )
        conn.execute(
            "update fct_clv_summary set avg_p_alive = nextafter(avg_p_alive, 2) "
            "where clv_decile = 1"
        )
    after = mart_checksums(warehouse)
    assert differences(after, before) == ["fct_clv_summary: md5 differ"]
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("alter table fct_clv_summary drop column avg_p_alive")
    assert differences(mart_checksums(warehouse), before) == [
        "fct_clv_summary: columns, md5 differ"
    ]

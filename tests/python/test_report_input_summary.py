"""fct_input_summary, the mart the report's header reads: built by dbt on a
small dirty input, its row counts add up to base_input__rows, its data tests
fail when they should, and a report rendered from the build says so."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import FIXTURES, make_dbt_runner, tampered_data_test
from report_warehouse import page_text

from python_udfs.report import render_report

INPUT = FIXTURES / "inputs" / "every_reject_reason.csv"
DBT_VARS = {
    "input_format": "transactions",
    "input_path": str(INPUT),
    "max_rejected_share": 1,
}
GRAIN_TEST = (
    "cv_unique_combination_fct_input_summary_source_file__row_status__reject_reason"
)


@pytest.fixture(scope="module")
def input_build(tmp_path_factory):
    """`dbt build` of fct_input_summary and its parents; returns the runner."""
    run_dbt = make_dbt_runner(tmp_path_factory.mktemp("input_summary"))
    result = run_dbt(
        ["build", "--select", "+fct_input_summary", "--indirect-selection", "cautious"],
        DBT_VARS,
    )
    assert result.returncode == 0, result.output
    assert "PASS assert_input_summary_reconciles" in result.output
    assert f"PASS {GRAIN_TEST}" in result.output
    return run_dbt, result


def test_input_summary_counts_the_rows_of_base_input__rows(input_build):
    _, result = input_build
    base = result.query(
        "select source_file, row_status, reject_reason, count(*) "
        "from base_input__rows group by all order by all"
    )
    summary = result.query(
        "select source_file, row_status, reject_reason, row_count "
        "from fct_input_summary order by all"
    )
    assert summary == base
    assert {row[1] for row in summary} == {"sale", "return", "rejected"}
    assert len({row[2] for row in summary}) > 5  # several reject reasons
    build = result.query(
        "select distinct input_format, input_path, input_timezone, "
        "reporting_timezone, as_of_date from fct_input_summary"
    )
    as_of = result.scalar(
        "select cast(max(ordered_at_local) as date) + 1 from int_orders_aggregated"
    )
    assert build == [("transactions", str(INPUT), "UTC", "UTC", as_of)]
    assert isinstance(as_of, dt.date)


def test_reconcile_test_fails_when_a_count_drifts(input_build):
    run_dbt, _ = input_build
    broken = tampered_data_test(
        run_dbt,
        DBT_VARS,
        "assert_input_summary_reconciles",
        "assert_input_summary_reconciles",
        "update fct_input_summary set row_count = row_count + 1 "
        "where row_status = 'return'",
    )
    assert "Got 1 result" in broken.output, broken.output
    assert broken.query(
        "select row_status, base_row_count + 1 = summary_row_count "
        "from main_dbt_test__audit.assert_input_summary_reconciles"
    ) == [("return", True)]
    # Back to the mart dbt built, for the next test.
    rebuilt = run_dbt(["run", "--select", "fct_input_summary"], DBT_VARS)
    assert rebuilt.returncode == 0, rebuilt.output


def test_grain_test_fails_on_a_repeated_combination(input_build):
    run_dbt, _ = input_build
    broken = tampered_data_test(
        run_dbt,
        DBT_VARS,
        GRAIN_TEST,
        GRAIN_TEST,
        "insert into fct_input_summary select * from fct_input_summary "
        "where row_status = 'sale'",
    )
    assert f"FAIL 1 {GRAIN_TEST}" in broken.output, broken.output
    rebuilt = run_dbt(["run", "--select", "fct_input_summary"], DBT_VARS)
    assert rebuilt.returncode == 0, rebuilt.output


def test_report_header_reads_the_input_summary(input_build, tmp_path):
    _, result = input_build
    total, sales, returns, rejected = result.query(
        "select count(*), count(*) filter (where row_status = 'sale'), "
        "count(*) filter (where row_status = 'return'), "
        "count(*) filter (where row_status = 'rejected') from base_input__rows"
    )[0]
    text = page_text(
        render_report(
            result.warehouse,
            tmp_path / "r.html",
            run_results_path=tmp_path / "absent.json",
        )
    )
    assert "Input format transactions (from fct_input_summary)" in text
    assert f"Input path {INPUT}" in text
    assert f"Files read {INPUT}" in text
    assert (total, sales, returns, rejected) == (20, 4, 1, 15)
    assert "20 read; 5 accepted (4 sales, 1 return); 15 rejected (75.0%)" in text
    # Without dim_customers and fct_customer_rfm, the as-of date of the build.
    as_of = result.scalar("select max(as_of_date) from fct_input_summary")
    assert f"As of {as_of:%Y-%m-%d}" in text
    assert "missing_customer_id : 1" in text

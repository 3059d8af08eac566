"""A nightly incremental run gives exactly the marts of a full refresh."""

from __future__ import annotations

import re
import shutil

import duckdb
import pandas as pd
import pytest
from conftest import make_dbt_runner

from python_udfs.relations import RUN_COLUMNS, table_names

BUILD = ["build", "--exclude", "test_type:unit"]


def _split_history_and_last_day(source, history_dir, day_file):
    """History = everything but the last day; the day file adds that day, an
    exact copy of an old line and a late line of an old order."""
    conn = duckdb.connect()
    last_day = conn.execute(
        f"select max(cast(ordered_at as date)) from '{source}' "
        "where ordered_at < timestamp '2099-01-01'"
    ).fetchall()[0][0]
    conn.execute(
        f"copy (select * from '{source}' where ordered_at is null "
        f"or cast(ordered_at as date) <> date '{last_day}') "
        f"to '{history_dir / 'part-1.parquet'}'"
    )
    conn.execute(
        f"""
        copy (
            select * from '{source}'
            where cast(ordered_at as date) = date '{last_day}'
            union all (
                select * from '{source}'
                where order_id = 'O000000010' order by product_id limit 1
            )
            union all (
                select order_id, customer_id, timestamp '{last_day} 12:00:00',
                    'P00001', 'late line', 'misc', 1, 5.0, store_id
                from '{source}' where order_id = 'O000000020' limit 1
            )
        ) to '{day_file}'
        """
    )


def _tables(warehouse) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        names = table_names(conn, ("fct", "dim", "int", "base"))
        tables = {}
        for name in names:
            df = conn.execute(f"select * from {name}").df()
            columns = [c for c in df.columns if c not in RUN_COLUMNS]
            tables[name] = df[columns].sort_values(columns, ignore_index=True)
        return tables


def test_incremental_run_equals_full_refresh(tmp_path):
    from python_udfs.generator import generate

    generate(tmp_path / "gen", customers=3_000, fmt="parquet")
    history, everything = tmp_path / "history", tmp_path / "everything"
    history.mkdir()
    everything.mkdir()
    day_file = tmp_path / "part-2.parquet"
    _split_history_and_last_day(
        tmp_path / "gen" / "order_lines.parquet", history, day_file
    )
    shutil.copy(history / "part-1.parquet", everything)
    shutil.copy(day_file, everything)

    incremental = make_dbt_runner(tmp_path / "incremental")
    (tmp_path / "incremental").mkdir()
    first = incremental(BUILD, {"input_path": str(history / "*.parquet")})
    assert first.returncode == 0, first.output
    shutil.copy(day_file, history)
    second = incremental(BUILD, {"input_path": str(history / "*.parquet")})
    assert second.returncode == 0, second.output
    assert "incremental model main.base_input__rows" in second.output

    (tmp_path / "full").mkdir()
    full = make_dbt_runner(tmp_path / "full")(
        [*BUILD, "--full-refresh"], {"input_path": str(everything / "*.parquet")}
    )
    assert full.returncode == 0, full.output

    # The day file's copy of an old line was caught against the history.
    assert (
        second.scalar(
            "select count(*) from base_input__rows where source_file like "
            "'%part-2%' and reject_reason = 'exact_duplicate'"
        )
        >= 1
    )
    expected = _tables(full.warehouse)
    _assert_same_tables(_tables(second.warehouse), expected)

    # A run with no new data rescores only the last month end of the RFM
    # transitions (its as_of_date could have moved) and the one before it,
    # so only the moves into the last month are recomputed.
    third = incremental(BUILD, {"input_path": str(history / "*.parquet")})
    assert third.returncode == 0, third.output
    _assert_same_tables(_tables(third.warehouse), expected)
    with duckdb.connect(str(third.warehouse), read_only=True) as conn:
        kept, rescored = conn.execute(
            "select count(distinct to_month) filter (where computed_at < run), "
            "count(distinct to_month) filter (where computed_at = run) "
            "from fct_rfm_segment_transitions, "
            "(select max(computed_at) as run from fct_rfm_segment_transitions)"
        ).fetchall()[0]
    assert (kept, rescored) == (11, 1)


def _assert_same_tables(got, expected):
    assert sorted(got) == sorted(expected)
    assert "fct_customer_clv" in got and "fct_rfm_segment_transitions" in got
    for name in expected:
        pd.testing.assert_frame_equal(
            got[name], expected[name], check_exact=True, obj=name
        )


def test_changed_input_asks_for_full_refresh(run_dbt, tmp_path):
    from python_udfs.generator import generate

    generate(tmp_path / "a", customers=300, fmt="parquet")
    generate(tmp_path / "b", customers=300, fmt="parquet")
    select = ["run", "--select", "base_input__rows"]
    first = run_dbt(select, {"input_path": str(tmp_path / "a" / "*.parquet")})
    assert first.returncode == 0, first.output
    second = run_dbt(select, {"input_path": str(tmp_path / "b" / "*.parquet")})
    assert second.returncode != 0
    assert "--full-refresh" in second.output


@pytest.mark.parametrize("fmt", ["csv"])
def test_no_new_files_adds_nothing(run_dbt, tmp_path, fmt):
    from python_udfs.generator import generate

    generate(tmp_path / "a", customers=300, fmt=fmt)
    select = ["run", "--select", "base_input__rows"]
    dbt_vars = {"input_path": str(tmp_path / "a" / f"*.{fmt}")}
    first = run_dbt(select, dbt_vars)
    assert first.returncode == 0, first.output
    rows = first.scalar("select count(*) from base_input__rows")
    second = run_dbt(select, dbt_vars)
    assert second.returncode == 0, second.output
    assert second.scalar("select count(*) from base_input__rows") == rows


def test_customer_tables_start_empty_then_fill_incrementally(tmp_path):
    """Events with no purchase yet leave the order and customer tables
    empty; when purchases arrive, an incremental run must still add every
    customer (an empty table compares with nothing), as a full refresh does."""
    from python_udfs.generator import generate

    generate(tmp_path / "gen", customers=400, fmt="parquet", events=True)
    source = tmp_path / "gen" / "events.parquet"
    live, everything = tmp_path / "live", tmp_path / "everything"
    live.mkdir()
    everything.mkdir()
    with duckdb.connect() as conn:
        conn.execute(
            f"copy (select * from '{source}' where event_type <> 'purchase') "
            f"to '{live / 'part-1.parquet'}'"
        )
        conn.execute(
            f"copy (select * from '{source}' where event_type = 'purchase') "
            f"to '{tmp_path / 'part-2.parquet'}'"
        )
    shutil.copy(live / "part-1.parquet", everything)
    shutil.copy(tmp_path / "part-2.parquet", everything)
    select = [
        "run",
        "--select",
        "base_input__rows stg_input__order_lines int_orders_aggregated "
        "int_orders_aggregated_to_customers int_customers_active_monthly",
    ]
    dbt_vars = {"input_format": "events", "clv_enabled": False}
    (tmp_path / "inc").mkdir()
    incremental = make_dbt_runner(tmp_path / "inc")
    first = incremental(select, {**dbt_vars, "input_path": str(live / "*.parquet")})
    assert first.returncode == 0, first.output
    assert first.scalar("select count(*) from int_orders_aggregated_to_customers") == 0
    shutil.copy(tmp_path / "part-2.parquet", live)
    second = incremental(select, {**dbt_vars, "input_path": str(live / "*.parquet")})
    assert second.returncode == 0, second.output
    (tmp_path / "full").mkdir()
    full = make_dbt_runner(tmp_path / "full")(
        [*select, "--full-refresh"],
        {**dbt_vars, "input_path": str(everything / "*.parquet")},
    )
    assert full.returncode == 0, full.output
    got, expected = _tables(second.warehouse), _tables(full.warehouse)
    assert expected["int_orders_aggregated_to_customers"].shape[0] > 100
    for name in ("int_orders_aggregated_to_customers", "int_customers_active_monthly"):
        pd.testing.assert_frame_equal(got[name], expected[name], obj=name)


def test_customer_totals_shortcut_equals_summing_the_orders(tmp_path):
    """Without an as_of_date, fct_customer_rfm and int_customer_clv_inputs
    read the incremental per-customer totals; with as_of_date set to the
    same day (the day after the data) they sum the orders. Both give the
    same tables, for the daily and the weekly CLV unit."""
    from python_udfs.generator import generate

    generate(tmp_path / "gen", customers=1_500, fmt="parquet")
    models = (
        "fct_customer_rfm",
        "int_customer_clv_inputs",
        "int_customer_clv_calibration",
        "fct_customer_clv",
    )
    select = [*BUILD, "--indirect-selection", "cautious", "--select"]
    select.append("+" + " +".join(models))
    dbt_vars = {"input_path": str(tmp_path / "gen" / "*.parquet")}
    for unit in ("week", "day"):
        (tmp_path / unit).mkdir()
        run = make_dbt_runner(tmp_path / unit)
        totals = run(select, {**dbt_vars, "clv_time_unit": unit})
        assert totals.returncode == 0, totals.output
        assert _reads_customer_totals(tmp_path / unit, models[:2]) == [True, True]
        as_of = totals.scalar("select max(as_of_date) from fct_customer_rfm")
        summed = run(
            select,
            {**dbt_vars, "clv_time_unit": unit, "as_of_date": str(as_of)},
            warehouse=tmp_path / unit / "summed.duckdb",
        )
        assert summed.returncode == 0, summed.output
        assert _reads_customer_totals(tmp_path / unit, models[:2]) == [False, False]
        got, expected = _tables(totals.warehouse), _tables(summed.warehouse)
        assert expected["fct_customer_rfm"].shape[0] > 1_000
        for name in models:
            pd.testing.assert_frame_equal(got[name], expected[name], obj=name)


def _reads_customer_totals(run_dir, models):
    """Whether each model's last compiled SQL selects from the totals table."""
    compiled = run_dir / "target" / "compiled" / "customer_value" / "models"
    reads = []
    for model in models:
        (path,) = compiled.rglob(f"{model}.sql")
        sql = path.read_text()
        reads.append(
            bool(re.search(r"from\s+\S*int_orders_aggregated_to_customers", sql))
        )
    return reads

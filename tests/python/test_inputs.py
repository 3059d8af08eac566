"""End-to-end: each input format and each kind of bad input through dbt."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import (
    EVENTS_SAMPLE,
    FIXTURES,
    ONLINE_RETAIL,
    PROJECT_DIR,
    declared_check_constraints,
    lifetimes_dataset,
    require,
    tampered_data_test,
)

INPUTS = FIXTURES / "inputs"
STAGING = [
    "--select",
    "staging",
    "tests/assert_input_rows_reconcile.sql",
    "--indirect-selection",
    "cautious",
]


def _build_staging(run_dbt, **dbt_vars):
    return run_dbt(["build", *STAGING], dbt_vars)


#: The transactions fixture with one row per reject reason.
EVERY_REJECT_REASON = {
    "input_format": "transactions",
    "input_path": str(INPUTS / "every_reject_reason.csv"),
    "max_rejected_share": 1,
}


def test_every_reject_reason_is_recorded_with_its_row(run_dbt):
    result = _build_staging(run_dbt, **EVERY_REJECT_REASON)
    assert result.returncode == 0, result.output
    rejected = dict(
        result.query(
            "select source_row_number, reject_reason from stg_input__rejected_rows"
        )
    )
    assert rejected == {
        3: "missing_customer_id",
        4: "missing_timestamp",
        5: "unparseable_timestamp",
        6: "future_timestamp",
        7: "missing_product_id",
        8: "missing_order_id",
        9: "missing_quantity",
        10: "unparseable_quantity",
        11: "zero_quantity",
        12: "missing_price",
        13: "unparseable_price",
        14: "non_positive_price",
        15: "non_positive_price",
        16: "exact_duplicate",
        20: "unparseable_quantity",
    }
    raw = result.scalar(
        "select raw_record from stg_input__rejected_rows where source_row_number = 5"
    )
    assert "ordered_at=not a date" in raw
    lines = {
        row[0]: row[1:]
        for row in result.query(
            "select order_line_id, customer_id, ordered_at, quantity, is_return,"
            " store_id from stg_input__order_lines"
        )
    }
    assert sorted(lines) == [1, 2, 17, 18, 19]
    assert lines[17][2:4] == (-1, True)
    # An explicit offset or Z is converted to UTC; float-like ids are cleaned.
    assert lines[18][1] == dt.datetime(2024, 2, 1, 8, 0)
    assert lines[18][4] == "unknown"
    assert lines[19][0] == "17850"
    assert lines[19][1] == dt.datetime(2024, 2, 1, 7, 0)
    assert lines[19][2] == 1


def test_input_timezone_converts_naive_timestamps_to_utc(run_dbt):
    result = _build_staging(
        run_dbt, **EVERY_REJECT_REASON, input_timezone="Europe/Berlin"
    )
    assert result.returncode == 0, result.output
    ordered_at = result.scalar(
        "select ordered_at from stg_input__order_lines where order_line_id = 1"
    )
    assert ordered_at == dt.datetime(2024, 1, 5, 9, 0)


def test_online_retail_ii_layout_with_month_first_dates(run_dbt):
    result = _build_staging(
        run_dbt,
        input_format="online_retail",
        input_path=str(INPUTS / "online_retail_ii.csv"),
        max_rejected_share=1,
    )
    assert result.returncode == 0, result.output
    rows = result.query(
        "select source_row_number, row_status, reject_reason, customer_id,"
        " ordered_at, store_id from base_input__rows order by 1"
    )
    assert rows == [
        (1, "sale", None, "13085", dt.datetime(2009, 12, 1, 7, 45), "United Kingdom"),
        (2, "sale", None, "13085", dt.datetime(2009, 12, 1, 7, 45), "United Kingdom"),
        (3, "return", None, "16321", dt.datetime(2009, 12, 1, 10, 33), "Australia"),
        (
            4,
            "rejected",
            "missing_customer_id",
            None,
            dt.datetime(2010, 6, 15, 23, 30),
            "United Kingdom",
        ),
        (
            5,
            "rejected",
            "cancellation_with_positive_quantity",
            "16321",
            dt.datetime(2009, 12, 1, 10, 33),
            "Australia",
        ),
    ]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("wrong_columns.csv", "Input columns missing"),
        ("empty.csv", "Input is empty"),
        ("header_only.csv", "Input is empty"),
        ("no_such_file_*.csv", "Input not found"),
    ],
)
def test_bad_files_fail_with_a_message_naming_file_and_columns(run_dbt, path, message):
    result = _build_staging(
        run_dbt, input_format="transactions", input_path=str(INPUTS / path)
    )
    assert result.returncode != 0
    assert message in result.output
    assert path in result.output
    if message != "Input not found":
        assert "order_id, customer_id, ordered_at" in result.output
    assert "Traceback" not in result.output


def test_unknown_format_is_named(run_dbt):
    result = _build_staging(
        run_dbt,
        input_format="excel",
        input_path=str(INPUTS / "every_reject_reason.csv"),
    )
    assert result.returncode != 0
    assert "Unknown input_format 'excel'" in result.output


def test_rejected_share_above_limit_fails_with_counts_and_where_to_look(run_dbt):
    result = _build_staging(
        run_dbt,
        input_format="transactions",
        input_path=str(INPUTS / "mostly_garbage_timestamps.csv"),
        max_rejected_share=0.5,
    )
    assert result.returncode != 0
    assert "Too many rejected input rows: 20 of 21" in result.output
    assert "unparseable_timestamp: 20" in result.output
    assert "row_status = 'rejected'" in result.output


def test_online_retail_real_file_reconciles(run_dbt):
    path = require(ONLINE_RETAIL)
    result = _build_staging(run_dbt, input_format="online_retail", input_path=str(path))
    assert result.returncode == 0, result.output
    counts = dict(
        result.query(
            "select coalesce(reject_reason, row_status), count(*) "
            "from base_input__rows group by 1"
        )
    )
    assert sum(counts.values()) == 541_909
    assert counts["missing_customer_id"] == 135_080
    # Cancellations are kept as returns, not dropped.
    assert counts["return"] == result.scalar(
        "select count(*) from stg_input__order_lines where order_id like 'C%'"
    )
    # The usual cleaning (known customer, quantity > 0, price > 0) equals our
    # sales plus the exact duplicates we set aside.
    customers, revenue = result.query(
        "select count(distinct customer_id), round(sum(line_amount), 2) "
        "from base_input__rows where customer_id is not null and quantity > 0 "
        "and unit_price > 0 "
        "and (row_status = 'sale' or reject_reason = 'exact_duplicate')"
    )[0]
    assert customers == 4_338
    assert revenue == pytest.approx(8_911_407.90, abs=0.005)


def test_events_sample_reconciles(run_dbt):
    path = require(EVENTS_SAMPLE)
    result = _build_staging(run_dbt, input_format="events", input_path=str(path))
    assert result.returncode == 0, result.output
    assert result.scalar("select count(*) from base_input__rows") == 17_434
    by_type = dict(
        result.query("select event_type, count(*) from stg_input__events group by 1")
    )
    # 214 purchases in the file; exact duplicates (double-logged events) are
    # rejected, everything else is kept.
    rejected = result.scalar("select count(*) from stg_input__rejected_rows")
    assert sum(by_type.values()) + rejected == 17_434
    assert by_type["purchase"] == result.scalar(
        "select count(*) from stg_input__order_lines"
    )
    assert by_type["purchase"] <= 214


def test_cdnow_master_keeps_identical_lines_and_reconciles(run_dbt):
    path = require(lifetimes_dataset("CDNOW_master.txt"))
    result = _build_staging(run_dbt, input_format="cdnow", input_path=str(path))
    assert result.returncode == 0, result.output
    assert result.scalar("select count(*) from base_input__rows") == 69_659
    assert (
        result.scalar("select count(distinct customer_id) from base_input__rows")
        == 23_570
    )
    reasons = dict(
        result.query(
            "select reject_reason, count(*) from stg_input__rejected_rows group by 1"
        )
    )
    assert reasons == {"non_positive_price": 80}


@pytest.mark.parametrize("fmt", ["csv.gz", "parquet"])
def test_generated_sample_rejects_match_the_generator_counts(run_dbt, tmp_path, fmt):
    import json

    from python_udfs.generator import generate

    out = tmp_path / "sample"
    generate(out, customers=1500, fmt=fmt, events=False)
    params = json.loads((out / "params.json").read_text())
    result = _build_staging(
        run_dbt,
        input_format="transactions",
        input_path=str(out / params["files"]["order_lines"]),
    )
    assert result.returncode == 0, result.output
    expected = {k: v for k, v in params["dirty_counts"].items() if v}
    rejected = dict(
        result.query(
            "select reject_reason, count(*) from stg_input__rejected_rows group by 1"
        )
    )
    assert rejected == expected
    sales, returns = result.query(
        "select count(*) filter (where not is_return), "
        "count(*) filter (where is_return) from stg_input__order_lines"
    )[0]
    assert (sales, returns) == (params["sales_lines"], params["return_lines"])


def test_duckdb_memory_limit_and_temp_dir_are_set_once_per_database(
    run_dbt, tmp_path, monkeypatch
):
    """memory_limit and temp_directory reach DuckDB when the database opens
    (dbt-duckdb's `config_options`). As `settings` they were re-applied on
    every new connection, and DuckDB refuses to switch the temp directory
    once something has spilled: the 100M-line build failed that way."""
    import yaml

    profile = yaml.safe_load((PROJECT_DIR / "profiles" / "profiles.yml").read_text())
    dev = profile["customer_value"]["outputs"]["dev"]
    assert {"memory_limit", "temp_directory"} <= set(dev["config_options"])
    assert not {"memory_limit", "temp_directory"} & set(dev.get("settings") or {})

    monkeypatch.setenv("CV_DUCKDB_MEMORY_LIMIT", "1000MB")
    result = run_dbt(
        [
            "show",
            "--inline",
            "select current_setting('memory_limit') as m, "
            "right(current_setting('temp_directory'), 10) as t",
        ]
    )
    assert result.returncode == 0, result.output
    assert "953.6 MiB" in result.output
    assert "duckdb_tmp" in result.output  # the runner's CV_DUCKDB_TEMP_DIR


def test_unique_integers_test_reports_each_repeated_row_number(run_dbt):
    """cv_unique_integers (the unique test of source_row_number) passes on a
    clean load and fails with each repeated number and its count."""
    dbt_vars = EVERY_REJECT_REASON
    assert _build_staging(run_dbt, **dbt_vars).returncode == 0
    broken = tampered_data_test(
        run_dbt,
        dbt_vars,
        "cv_unique_integers_base_input__rows_source_row_number",
        "cv_unique_integers_base_input__rows_source_row_number",
        "insert into base_input__rows select * from base_input__rows "
        "where source_row_number in (3, 7) union all "
        "select * from base_input__rows where source_row_number = 7",
    )
    assert "Got 2 results" in broken.output, broken.output
    failures = broken.query(
        "select value, occurrences from main_dbt_test__audit."
        "cv_unique_integers_base_input__rows_source_row_number order by value"
    )
    assert failures == [(3, 2), (7, 3)]


# One violating change per row rule of base_input__rows (its constraints in
# models/staging/input/_input__models.yml), each applied to a valid row.
ROW_RULE_VIOLATIONS = {
    "unknown status": "update base_input__rows set row_status = 'sold' "
    "where source_row_number = 1",
    "unknown reason": "update base_input__rows set reject_reason = 'typo' "
    "where source_row_number = 3",
    "reason on an accepted row": "update base_input__rows "
    "set reject_reason = 'zero_quantity' where source_row_number = 1",
    "rejected row without a reason": "update base_input__rows "
    "set reject_reason = null where source_row_number = 3",
    "order line without an order": "update base_input__rows "
    "set order_id = null where source_row_number = 1",
    "order line without a store": "update base_input__rows "
    "set store_id = null where source_row_number = 1",
    "zero quantity": "update base_input__rows set quantity = 0 "
    "where source_row_number = 1",
    "free order line": "update base_input__rows set unit_price = 0 "
    "where source_row_number = 1",
    "return with a positive amount": "update base_input__rows "
    "set is_return = true where source_row_number = 1",
    "event of an unknown type": "update base_input__rows "
    "set row_status = 'event', reject_reason = null, event_type = 'click' "
    "where source_row_number = 1",
    "rejected row without its record": "update base_input__rows "
    "set raw_record = null where source_row_number = 3",
    "row without a file": "update base_input__rows set source_file = null "
    "where source_row_number = 1",
}


def test_staging_row_rules_are_enforced_by_the_warehouse(run_dbt):
    """The staging layer's row rules are constraints of base_input__rows
    (instead of data tests of the views): every declared rule is in the
    warehouse, and a row breaking any of them cannot be written."""
    import duckdb

    result = _build_staging(run_dbt, **EVERY_REJECT_REASON)
    assert result.returncode == 0, result.output
    declared = declared_check_constraints(PROJECT_DIR / "models" / "staging")[
        "base_input__rows"
    ]
    with duckdb.connect(str(result.warehouse)) as conn:
        enforced = conn.execute(
            "select count(*) from duckdb_constraints() "
            "where table_name = 'base_input__rows' and constraint_type = 'CHECK'"
        ).fetchone()[0]
        assert enforced == len(declared) >= 7
        # The fixture's row 1 is a sale and row 3 a rejected row.
        assert conn.execute(
            "select row_status from base_input__rows "
            "where source_row_number in (1, 3) order by source_row_number"
        ).fetchall() == [("sale",), ("rejected",)]
        for rule, violation in ROW_RULE_VIOLATIONS.items():
            with pytest.raises(duckdb.ConstraintException):
                conn.execute(violation)
                pytest.fail(f"{rule}: accepted by the warehouse")

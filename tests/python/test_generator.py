"""The synthetic order-lines generator: determinism, exact counts, story."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from python_udfs.generator import (
    DIRTY_KINDS,
    EVENT_COLUMNS,
    ORDER_LINE_COLUMNS,
    GeneratorConfig,
    generate,
    main,
)
from python_udfs.generator.config import _GARBAGE_TIMESTAMPS

CLEAN = GeneratorConfig(dirty_shares=dict.fromkeys(DIRTY_KINDS, 0.0))
# Two random blocks (5,000 customers each), the second one truncated.
N_CUSTOMERS = 7_000


def _params(out: Path) -> dict:
    return json.loads((out / "params.json").read_text())


def _reader(path: Path) -> str:
    if path.name.endswith(".parquet"):
        return f"read_parquet('{path}')"
    return f"read_csv('{path}', header = true, all_varchar = true)"


def _lines_view(conn: duckdb.DuckDBPyConnection, path: Path) -> None:
    """View `t` with typed columns plus `ts` (parsed time) for either format."""
    conn.execute(f"create or replace view raw as select * from {_reader(path)}")
    conn.execute(
        """
        create or replace view t as
        select
            order_id, customer_id, ordered_at,
            try_cast(ordered_at as timestamp) as ts,
            product_id, product_name, product_category,
            cast(quantity as integer) as quantity,
            cast(unit_price as double) as unit_price,
            store_id
        from raw
        """
    )


def _scalar(conn: duckdb.DuckDBPyConnection, sql: str):
    return conn.execute(sql).fetchone()[0]


@pytest.fixture(scope="module")
def parquet_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("parquet_run")
    generate(out, customers=N_CUSTOMERS, fmt="parquet", events=True)
    return out


@pytest.fixture(scope="module")
def csv_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("csv_run")
    generate(out, customers=N_CUSTOMERS, fmt="csv", events=True)
    return out


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clean_run")
    generate(out, customers=20_000, fmt="parquet", config=CLEAN)
    return out


# --- determinism ------------------------------------------------------------
def test_same_seed_gives_identical_files(tmp_path, csv_run):
    generate(tmp_path, customers=N_CUSTOMERS, fmt="csv", events=True)
    for name in ("order_lines.csv", "events.csv", "params.json"):
        assert (tmp_path / name).read_bytes() == (csv_run / name).read_bytes(), name


def test_same_seed_gives_identical_parquet_bytes(tmp_path):
    generate(tmp_path / "a", customers=1_000)
    generate(tmp_path / "b", customers=1_000)
    a = (tmp_path / "a" / "order_lines.parquet").read_bytes()
    b = (tmp_path / "b" / "order_lines.parquet").read_bytes()
    assert a == b


def test_different_seed_gives_different_data(tmp_path):
    generate(tmp_path / "a", customers=1_000, fmt="csv")
    generate(tmp_path / "b", customers=1_000, fmt="csv", config=GeneratorConfig(seed=7))
    a = pd.read_csv(tmp_path / "a" / "order_lines.csv")
    b = pd.read_csv(tmp_path / "b" / "order_lines.csv")
    assert len(a) != len(b) or not a.equals(b)
    assert a["ordered_at"].iloc[0] != b["ordered_at"].iloc[0]


def test_chunk_size_changes_row_groups_not_data(tmp_path, parquet_run, csv_run):
    generate(tmp_path / "p", customers=N_CUSTOMERS, events=True, chunk_customers=1)
    generate(tmp_path / "c", customers=N_CUSTOMERS, fmt="csv", chunk_customers=5_000)
    small = tmp_path / "p" / "order_lines.parquet"
    big = parquet_run / "order_lines.parquet"
    assert pq.ParquetFile(small).metadata.num_row_groups == 2  # one per block
    assert pq.ParquetFile(big).metadata.num_row_groups == 1
    assert pq.read_table(small).equals(pq.read_table(big))
    assert pq.read_table(tmp_path / "p" / "events.parquet").equals(
        pq.read_table(parquet_run / "events.parquet")
    )
    csv = "order_lines.csv"
    assert (tmp_path / "c" / csv).read_bytes() == (csv_run / csv).read_bytes()


def test_fewer_customers_is_a_prefix_of_more(tmp_path, parquet_run):
    generate(tmp_path, customers=3_000)
    small = pd.read_parquet(tmp_path / "order_lines.parquet")
    big = pd.read_parquet(parquet_run / "order_lines.parquet")
    assert 0 < len(small) < len(big)
    pd.testing.assert_frame_equal(small, big.iloc[: len(small)])
    assert _params(tmp_path)["n_customers"] == 3_000


def test_dirty_rows_do_not_change_clean_rows(parquet_run, clean_run):
    conn = duckdb.connect()
    _lines_view(conn, parquet_run / "order_lines.parquet")
    conn.execute("create table dirty_run as select * from t")
    _lines_view(conn, clean_run / "order_lines.parquet")
    # clean_run has 20,000 customers; its first 7,000 are parquet_run's.
    conn.execute(
        f"create table clean as select * from t "
        f"where cast(substr(customer_id, 2) as integer) <= {N_CUSTOMERS}"
    )
    valid_distinct = """
        select distinct * from dirty_run
        where customer_id is not null and ts is not null
            and ts < timestamp '2099-01-01' and quantity <> 0 and unit_price > 0
    """
    missing = _scalar(
        conn, f"select count(*) from (select * from clean except all {valid_distinct})"
    )
    extra = _scalar(
        conn, f"select count(*) from ({valid_distinct} except all select * from clean)"
    )
    assert (missing, extra) == (0, 0)


# --- sizes and exact counts -------------------------------------------------
def test_lines_stops_after_the_customer_that_reaches_n(tmp_path):
    n = 12_345
    assert main(["--out", str(tmp_path), "--lines", str(n), "--format", "csv.gz"]) == 0
    params = _params(tmp_path)
    rows = pd.read_csv(tmp_path / "order_lines.csv.gz", dtype=str)
    assert list(rows.columns) == list(ORDER_LINE_COLUMNS)
    assert len(rows) == params["lines_written"] >= n
    last = f"C{params['n_customers']:07d}"
    first_row_of_last = int(np.flatnonzero(rows["customer_id"] == last)[0])
    assert first_row_of_last < n  # the previous customers did not reach n
    assert rows["customer_id"].dropna().max() == last


@pytest.mark.parametrize("run", ["parquet_run", "csv_run"])
def test_params_counts_match_the_file(run, request):
    out = request.getfixturevalue(run)
    params = _params(out)
    path = out / params["files"]["order_lines"]
    conn = duckdb.connect()
    _lines_view(conn, path)
    is_csv = params["format"] != "parquet"
    found = {
        "missing_customer_id": "customer_id is null",
        "missing_timestamp": "ordered_at is null",
        "unparseable_timestamp": "ordered_at is not null and ts is null",
        "future_timestamp": "ts >= timestamp '2099-01-01'",
        "zero_quantity": "quantity = 0",
        "non_positive_price": "unit_price <= 0",
    }
    for kind, condition in found.items():
        count = _scalar(conn, f"select count(*) from t where {condition}")
        assert count == params["dirty_counts"][kind], kind
    duplicates = _scalar(
        conn,
        "select count(*) - (select count(*) from (select distinct * from raw))"
        " from raw",
    )
    assert duplicates == params["dirty_counts"]["exact_duplicate"]
    valid = (
        "select distinct * from t where customer_id is not null and ts is not null"
        " and ts < timestamp '2099-01-01' and quantity <> 0 and unit_price > 0"
    )
    sales = _scalar(conn, f"select count(*) from ({valid}) where quantity > 0")
    returns = _scalar(conn, f"select count(*) from ({valid}) where quantity < 0")
    assert (sales, returns) == (params["sales_lines"], params["return_lines"])
    assert _scalar(conn, "select count(*) from t") == params["lines_written"]
    assert params["lines_written"] == sales + returns + params["dirty_lines"]
    timestamps = {"missing_timestamp", "unparseable_timestamp"}
    assert all(params["dirty_counts"][k] > 0 for k in found.keys() - timestamps)
    # Parquet cannot hold garbage text: those rows are NULL timestamps.
    assert (params["dirty_counts"]["unparseable_timestamp"] > 0) == is_csv
    assert (params["dirty_counts"]["missing_timestamp"] > 0) == (not is_csv)
    assert params["n_customers"] == N_CUSTOMERS
    assert params["n_orders"] == _scalar(
        conn, f"select count(distinct order_id) from ({valid}) where quantity > 0"
    )


def test_clean_mode_has_no_dirty_rows(clean_run):
    params = _params(clean_run)
    assert params["dirty_lines"] == 0
    assert set(params["dirty_counts"].values()) == {0}
    conn = duckdb.connect()
    _lines_view(conn, clean_run / "order_lines.parquet")
    bad = _scalar(
        conn,
        "select count(*) from t where customer_id is null or ts is null"
        " or ts >= timestamp '2025-01-01' or quantity = 0 or unit_price <= 0",
    )
    distinct = _scalar(conn, "select count(*) from (select distinct * from raw)")
    assert bad == 0
    assert distinct == params["lines_written"]
    assert params["lines_written"] == params["sales_lines"] + params["return_lines"]


def test_cli_clean_flag_and_conflicts(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--customers", "300", "--clean"]) == 0
    assert _params(tmp_path)["dirty_lines"] == 0
    assert "wrote" in capsys.readouterr().out
    for bad in (
        ["--dirty-share", "no_such_kind=0.1"],
        ["--dirty-share", "zero_quantity=0.6", "--dirty-share", "exact_duplicate=0.6"],
        ["--dirty-share", "zero_quantity=2"],
        ["--customers", "10", "--lines", "10"],
        ["--start", "2025-01-01", "--end", "2024-01-01"],
    ):
        with pytest.raises(SystemExit):
            main(["--out", str(tmp_path / "x"), *bad])


def test_dirty_share_option_sets_that_kind(tmp_path):
    main(
        ["--out", str(tmp_path), "--customers", "2000", "--clean"]
        + ["--dirty-share", "zero_quantity=0.1", "--format", "csv"]
    )
    params = _params(tmp_path)
    counts = params["dirty_counts"]
    assert params["dirty_lines"] == counts["zero_quantity"]
    clean_lines = params["sales_lines"] + params["return_lines"]
    assert counts["zero_quantity"] == pytest.approx(0.1 * clean_lines, rel=0.1)


# --- the story ----------------------------------------------------------------
def test_csv_has_garbage_timestamps_that_do_not_parse(csv_run):
    params = _params(csv_run)
    rows = pd.read_csv(csv_run / "order_lines.csv", dtype=str, keep_default_na=False)
    pattern = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
    text = rows["ordered_at"]
    assert (text == "").sum() == params["dirty_counts"]["missing_timestamp"] == 0
    garbage = text[~text.str.match(pattern) & (text != "")]
    assert "not a date" in set(garbage)
    conn = duckdb.connect()
    parsed = conn.execute(
        "select v, try_cast(v as timestamp) is not null as ok from unnest(?) as u(v)",
        [text[text != ""].drop_duplicates().tolist()],
    ).df()
    unparseable = set(parsed.loc[~parsed["ok"], "v"])
    assert unparseable == set(_GARBAGE_TIMESTAMPS)
    n_garbage = text.isin(unparseable).sum()
    assert n_garbage == params["dirty_counts"]["unparseable_timestamp"] > 0


def test_parquet_schema_is_the_canonical_layout(parquet_run):
    schema = pq.read_schema(parquet_run / "order_lines.parquet")
    assert schema.names == list(ORDER_LINE_COLUMNS)
    types = {f.name: str(f.type) for f in schema}
    assert types["ordered_at"] == "timestamp[us]"
    assert types["quantity"] == "int32"
    assert types["unit_price"] == "double"
    assert {types[c] for c in ("order_id", "customer_id", "store_id")} == {"string"}


def test_ids_products_stores_and_window(clean_run):
    conn = duckdb.connect()
    _lines_view(conn, clean_run / "order_lines.parquet")
    row = conn.execute(
        """
        select
            count(*) filter (where not regexp_full_match(order_id, '[OR]\\d{9}')),
            count(*) filter (where not regexp_full_match(customer_id, 'C\\d{7}')),
            count(*) filter (where not regexp_full_match(product_id, 'P\\d{5}')),
            count(distinct product_id),
            count(distinct product_category),
            count(distinct store_id),
            min(ts) >= timestamp '2022-01-01' and max(ts) < timestamp '2025-01-01',
            min(unit_price)
        from t
        """
    ).fetchone()
    assert row[:3] == (0, 0, 0)
    assert 450 <= row[3] <= 500 and row[4] == 12 and row[5] == 6
    assert row[6] is True and row[7] >= 0.01
    # One customer, one time and store per order; no product twice in an order.
    per_order = conn.execute(
        """
        select
            max(n_customers), max(n_times), max(n_stores),
            count(*) filter (where n_products < n_lines)
        from (
            select order_id,
                count(distinct customer_id) as n_customers,
                count(distinct ts) as n_times,
                count(distinct store_id) as n_stores,
                count(distinct product_id) as n_products,
                count(*) as n_lines
            from t group by order_id
        )
        """
    ).fetchone()
    assert per_order == (1, 1, 1, 0)
    home_share = _scalar(
        conn,
        """
        select avg((store_id = home)::int) from t join (
            select customer_id, mode(store_id) as home from t group by 1
        ) using (customer_id)
        where order_id like 'O%'
        """,
    )
    assert 0.85 < home_share < 0.97


def test_hour_and_weekday_patterns(clean_run):
    conn = duckdb.connect()
    _lines_view(conn, clean_run / "order_lines.parquet")
    orders = conn.execute(
        "select distinct order_id, ts from t where order_id like 'O%'"
    ).df()
    hours = orders["ts"].dt.hour.value_counts(normalize=True)
    assert hours[[1, 2, 3, 4]].max() < 0.01
    assert hours[[11, 19]].min() > 0.05
    weekdays = orders["ts"].dt.day_of_week.value_counts(normalize=True)
    assert weekdays[5] < 0.85 * weekdays[[0, 1, 2, 3]].min()  # Sat vs Mon-Thu


def test_returns_follow_their_order(clean_run):
    params = _params(clean_run)
    conn = duckdb.connect()
    _lines_view(conn, clean_run / "order_lines.parquet")
    returns = conn.execute(
        """
        select r.quantity as r_qty, s.quantity as s_qty, r.ts as r_ts, s.ts as s_ts,
            r.customer_id = s.customer_id as same_customer,
            r.unit_price = s.unit_price as same_price,
            r.store_id = s.store_id as same_store
        from t as r
        left join t as s
            on s.order_id = 'O' || substr(r.order_id, 2)
            and s.product_id = r.product_id
        where r.order_id like 'R%'
        """
    ).df()
    assert len(returns) == params["return_lines"] > 0
    assert returns["s_qty"].notna().all()
    assert (returns["r_qty"] < 0).all()
    assert (-returns["r_qty"] <= returns["s_qty"]).all()
    assert (returns["r_ts"] > returns["s_ts"]).all()
    assert (returns["r_ts"] - returns["s_ts"]).max() < pd.Timedelta(days=31)
    assert (returns["r_ts"] < pd.Timestamp("2025-01-01")).all()
    assert returns[["same_customer", "same_price", "same_store"]].all().all()
    share = params["return_lines"] / params["n_orders"]
    assert 0.012 < share < 0.025


def test_mean_order_value_matches_gamma_gamma(clean_run):
    params = _params(clean_run)
    conn = duckdb.connect()
    _lines_view(conn, clean_run / "order_lines.parquet")
    mean_of_means = _scalar(
        conn,
        """
        select avg(customer_mean) from (
            select customer_id, avg(order_value) as customer_mean from (
                select customer_id, order_id, sum(quantity * unit_price) as order_value
                from t where order_id like 'O%' group by all
            ) group by customer_id
        )
        """,
    )
    expected = 6.0 * 15.0 / (3.8 - 1.0)
    assert params["expected_mean_order_value"] == pytest.approx(expected)
    assert mean_of_means == pytest.approx(expected, rel=0.10)


def test_bgnbd_has_many_one_time_buyers_and_some_loyal_ones(clean_run):
    conn = duckdb.connect()
    _lines_view(conn, clean_run / "order_lines.parquet")
    orders = conn.execute(
        "select count(distinct order_id) from t where order_id like 'O%' "
        "group by customer_id"
    ).df()
    per_customer = orders.iloc[:, 0]
    assert len(per_customer) == 20_000  # every customer buys at least once
    # BG/NBD: no repeat purchase by the end with probability
    # (alpha / (alpha + t))^r for a customer born t days before the end;
    # births are uniform over the window, so average over t.
    cfg = GeneratorConfig()
    window = 1096.0  # days from 2022-01-01 to 2025-01-01
    t = np.linspace(0.0, window, 100_001)
    expected = np.mean((cfg.alpha / (cfg.alpha + t)) ** cfg.r)
    assert (per_customer == 1).mean() == pytest.approx(expected, abs=0.015)
    assert per_customer.max() > 50


# --- events -------------------------------------------------------------------
@pytest.mark.parametrize("run", ["parquet_run", "csv_run"])
def test_events_layout_and_one_purchase_per_unit(run, request):
    out = request.getfixturevalue(run)
    params = _params(out)
    events_path = out / params["files"]["events"]
    conn = duckdb.connect()
    conn.execute(f"create view e as select * from {_reader(events_path)}")
    columns = [d[0] for d in conn.execute("select * from e limit 0").description]
    assert columns == list(EVENT_COLUMNS)
    _lines_view(conn, out / params["files"]["order_lines"])
    # Units of clean sale lines per (user, product) = purchase events.
    mismatches = _scalar(
        conn,
        """
        with sold as (
            select cast(substr(customer_id, 2) as bigint) as user_id,
                cast(substr(product_id, 2) as bigint) as product_id,
                sum(quantity) as units
            from (
                select distinct * from t
                where customer_id is not null and ts is not null
                    and ts < timestamp '2099-01-01' and quantity > 0
                    and unit_price > 0
            ) group by all
        ),
        bought as (
            select cast(user_id as bigint) as user_id,
                cast(product_id as bigint) as product_id,
                count(*) as units
            from e where event_type = 'purchase' group by all
        )
        select count(*) from sold full join bought using (user_id, product_id)
        where sold.units is distinct from bought.units
        """,
    )
    assert mismatches == 0
    counts = dict(
        conn.execute("select event_type, count(*) from e group by 1").fetchall()
    )
    assert counts == params["events"]["by_type"]
    assert sum(counts.values()) == params["events"]["events_written"]
    row = conn.execute(
        """
        select
            count(*) - (select count(*) from (select distinct * from e)),
            count(*) filter (where not regexp_full_match(
                event_time, '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC')),
            count(*) filter (where not regexp_full_match(user_session,
                '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}')),
            count(*) filter (where category_code is null),
            count(*) filter (where brand is null),
            count(distinct user_session),
            count(distinct user_id)
        from e
        """
    ).fetchone()
    assert row[:3] == (0, 0, 0)  # no duplicate events, well-formed text
    assert row[3] > 0 and row[4] > 0  # sometimes empty, as in REES46
    assert row[5] == params["events"]["sessions"]
    assert row[6] == params["n_customers"]


def test_events_do_not_change_order_lines(tmp_path, parquet_run):
    generate(tmp_path, customers=N_CUSTOMERS, events=False)
    assert not (tmp_path / "events.parquet").exists()
    assert _params(tmp_path)["events"] is None
    assert pq.read_table(tmp_path / "order_lines.parquet").equals(
        pq.read_table(parquet_run / "order_lines.parquet")
    )


def test_config_validation():
    with pytest.raises(ValueError, match="sum to at most 1"):
        GeneratorConfig(
            dirty_shares={"zero_quantity": 0.7, "exact_duplicate": 0.4}
        ).validate()
    with pytest.raises(ValueError, match="positive"):
        GeneratorConfig(alpha=0).validate()
    with pytest.raises(ValueError, match="seed"):
        GeneratorConfig(seed=-1).validate()
    with pytest.raises(ValueError, match="format"):
        generate("unused", fmt="xlsx")

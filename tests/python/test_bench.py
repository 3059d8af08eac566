"""Smoke tests of the benchmark harness (bench/): correctness, never timings.

The pandas notebook and the DuckDB floor must compute the same numbers on the
same input, otherwise comparing their times means nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# bench/ is not an installed package (only python_udfs is): import it from the
# repository root, as `python -m bench.run` does.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import data, duckdb_floor, pandas_pipeline  # noqa: E402
from bench.common import count_label, parse_bytes, parse_count  # noqa: E402
from bench.incremental import (  # noqa: E402
    mart_checksums,
    split_last_day,
    tolerant_equal,
)
from bench.monitor import run_monitored  # noqa: E402
from bench.project import stage_of  # noqa: E402
from bench.report import _fixed_cost_table  # noqa: E402
from python_udfs.generator import generate  # noqa: E402


@pytest.fixture(scope="module")
def small_input(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench_data")
    generate(out, lines=20_000, fmt="parquet", events=True)
    return out


def _assert_same(pandas_checks, floor_checks):
    for key in (
        "raw_rows",
        "clean_lines",
        "months",
        "orders",
        "active_customer_months",
        "new_customers",
        "weekday_hour_orders",
        "rfm_customers",
        "rfm_product_sum",
        "cluster_sizes",
        "clv_customers",
        "clv_repeat_customers",
    ):
        assert pandas_checks[key] == floor_checks[key], key
    for key in ("gross_revenue", "returns_amount", "net_revenue", "clv_total"):
        assert pandas_checks[key] == pytest.approx(floor_checks[key], rel=1e-6), key
    assert pandas_checks["monthly_net_revenue"].keys() == (
        floor_checks["monthly_net_revenue"].keys()
    )
    for month, value in pandas_checks["monthly_net_revenue"].items():
        assert value == pytest.approx(
            floor_checks["monthly_net_revenue"][month], rel=1e-9, abs=1e-6
        ), month
    for model in ("bgnbd", "gamma_gamma"):
        for name, value in pandas_checks[model].items():
            assert value == pytest.approx(floor_checks[model][name], rel=1e-3), name


def test_pandas_and_floor_agree_on_order_lines(small_input, tmp_path):
    path = str(small_input / "order_lines.parquet")
    pandas_checks = pandas_pipeline.run(path)
    floor_checks = duckdb_floor.run(path, str(tmp_path / "floor.duckdb"))
    _assert_same(pandas_checks, floor_checks)
    assert pandas_checks["raw_rows"] >= 20_000
    assert pandas_checks["clean_lines"] < pandas_checks["raw_rows"]  # dirty rows
    assert pandas_checks["returns_amount"] > 0


def test_pandas_and_floor_agree_on_events(small_input):
    path = str(small_input / "events.parquet")
    pandas_checks = pandas_pipeline.run(path, "events")
    floor_checks = duckdb_floor.run(path, input_format="events")
    _assert_same(pandas_checks, floor_checks)
    for key in ("events", "funnel_days", "funnel_users_purchased"):
        assert pandas_checks[key] == floor_checks[key], key


@pytest.mark.parametrize(
    ("unique_id", "path", "stage"),
    [
        (
            "model.cv.base_input__rows",
            "models/staging/input/base/base_input__rows.sql",
            "staging",
        ),
        ("model.cv.fct_customer_rfm", "models/marts/rfm/fct_customer_rfm.sql", "rfm"),
        (
            "model.cv.int_customers_cluster_k_chosen",
            "models/intermediate/customers/int_customers_cluster_k_chosen.py",
            "clustering",
        ),
        (
            "model.cv.dim_cluster_profiles",
            "models/marts/clusters/dim_cluster_profiles.sql",
            "clustering",
        ),
        (
            "model.cv.int_customer_clv_inputs",
            "models/intermediate/clv/int_customer_clv_inputs.sql",
            "clv",
        ),
        (
            "model.cv.fct_revenue_monthly",
            "models/marts/revenue/fct_revenue_monthly.sql",
            "marts_sql",
        ),
        (
            "model.cv.int_orders_aggregated",
            "models/intermediate/orders/int_orders_aggregated.sql",
            "marts_sql",
        ),
        ("test.cv.unique_x.abc", "models/marts/rfm/_rfm__models.yml", "tests"),
        (
            "unit_test.cv.fct_customer_rfm.t",
            "models/marts/rfm/_rfm__unit_tests.yml",
            "tests",
        ),
        ("seed.cv.rfm_segment_map", "seeds/rfm_segment_map.csv", "other"),
    ],
)
def test_stage_of(unique_id, path, stage):
    assert stage_of(unique_id, path) == stage


def test_sizes_round_trip():
    assert parse_count("100k") == 100_000
    assert parse_count("1M") == 1_000_000
    assert parse_count("2.5M") == 2_500_000
    assert count_label(10_000_000) == "10M"
    assert count_label(100_000) == "100k"
    assert parse_bytes("20GB") == 20 * 10**9
    assert parse_bytes("6GiB") == 6 * 2**30


def test_story_parses_model_parameters_and_refuses_others():
    assert data.parse_story(["alpha=25", "b=3"]) == {"alpha": 25.0, "b": 3.0}
    assert data.parse_story(None) == {}
    assert data.story_suffix({"b": 3.0, "alpha": 25.0}) == "-alpha25-b3"
    assert data.story_suffix({}) == ""
    for bad, message in (
        (["seed=3"], "KEY one of"),
        (["alpha"], "KEY one of"),
        (["alpha=many"], "not a number"),
        (["alpha=-1"], "alpha must be a positive number"),
    ):
        with pytest.raises(ValueError, match=message):
            data.parse_story(bad)


def test_story_data_is_cached_apart_with_more_customers_per_line(tmp_path):
    default = data.order_lines(tmp_path, 3000, 5, timeout=120)
    story = data.order_lines(tmp_path, 3000, 5, timeout=120, story={"alpha": 25.0})
    assert default.directory.name == "lines-3k-seed5"
    assert story.directory.name == "lines-3k-seed5-alpha25"
    assert story.params["parameters"]["bgnbd"]["alpha"] == 25.0
    # A slower purchase rate: fewer orders per customer, so more customers
    # for the same number of lines.
    assert story.params["n_customers"] > 1.5 * default.params["n_customers"]
    again = data.order_lines(tmp_path, 3000, 5, timeout=120, story={"alpha": 25.0})
    assert again.generated_seconds is None  # reused, not regenerated


def _sized(size, label, dbt, duckdb, pandas=None):
    totals = {"dbt": dbt, "duckdb": duckdb}
    if pandas is not None:
        totals["pandas"] = pandas
    return {
        "label": label,
        "size": size,
        "kind": "lines",
        "runs": [{}],
        "summary": {
            tool: {"groups": {"total": {"seconds": seconds}}}
            for tool, seconds in totals.items()
        },
    }


def test_fixed_cost_is_the_smallest_size_subtracted_from_the_others():
    results = {
        "sizes": [
            _sized(10_000_000, "10M", 40.0, 25.0, pandas=58.0),
            _sized(10_000, "10k", 12.0, 2.0, pandas=2.0),
            _sized(1_000_000, "1M", 10.0, 4.0),
        ]
    }
    table = _fixed_cost_table(results)
    assert table[0] == "## Size-independent cost (the 10k run)"
    rows = [line for line in table if line.startswith(("| 1M", "| 10M"))]
    # Sizes ascending. 1M: the project measured faster than at 10k (noise),
    # and pandas did not run. 10M: 40 - 12 = 28 s above the fixed cost,
    # pandas 58 - 2 = 56 s, the floor 25 - 2 = 23 s.
    assert rows[0] == "| 1M | 10.0 | – | 4.00 | -2.00 | – | 2.00 | – | – (noise) |"
    assert rows[1] == "| 10M | 40.0 | 58.0 | 25.0 | 28.0 | 56.0 | 23.0 | 2.0x | 1.2x |"


def test_fixed_cost_needs_a_small_size():
    one = {"sizes": [_sized(10_000, "10k", 12.0, 2.0)]}
    big = {
        "sizes": [
            _sized(1_000_000, "1M", 10.0, 4.0),
            _sized(10_000_000, "10M", 40.0, 25.0),
        ]
    }
    assert _fixed_cost_table(one) == []
    assert _fixed_cost_table(big) == []


def test_monitor_records_limits(tmp_path):
    hog = "b = bytearray(400 * 1024 * 1024); import time; time.sleep(30)"
    oom = run_monitored(
        [sys.executable, "-c", hog],
        timeout=60,
        memory_limit=100 * 10**6,
        log_path=tmp_path / "oom.log",
    )
    assert oom.status == "oom"
    slow = run_monitored(
        [sys.executable, "-c", "import time; time.sleep(30)"],
        timeout=0.5,
        memory_limit=None,
        log_path=tmp_path / "slow.log",
    )
    assert slow.status == "timeout"
    ok = run_monitored(
        [sys.executable, "-c", "import time; time.sleep(0.3)"],
        timeout=60,
        memory_limit=None,
        log_path=tmp_path / "ok.log",
    )
    assert ok.status == "ok" and ok.peak_rss > 0


def test_split_last_day_keeps_every_line(small_input, tmp_path):
    import duckdb

    source = small_input / "order_lines.parquet"
    history, day, last_day = split_last_day(source, tmp_path / "split")
    with duckdb.connect() as conn:
        total = conn.execute(f"select count(*) from '{source}'").fetchall()[0][0]
        kept = conn.execute(
            f"select count(*) from '{history}' union all select count(*) from '{day}'"
        ).fetchall()
        days = conn.execute(
            f"select distinct cast(ordered_at as date)::varchar from '{day}'"
        ).fetchall()
        later = conn.execute(
            f"select count(*) from '{history}' "
            f"where cast(ordered_at as date) >= date '{last_day}' "
            "and ordered_at < current_timestamp"
        ).fetchall()[0][0]
    assert kept[1][0] > 0 and kept[0][0] + kept[1][0] == total
    assert days == [(last_day,)]
    assert later == 0


def test_mart_checksums_see_values_but_not_run_times(tmp_path):
    import duckdb

    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute(
            "create table fct_x as select range as id, range / 3 as amount, "
            "now() as computed_at from range(100)"
        )
        conn.execute("create table int_y as select 1 as id")
    before = mart_checksums(warehouse)
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("update fct_x set computed_at = computed_at + interval 1 day")
    assert mart_checksums(warehouse) == before
    assert list(before) == ["fct_x"] and before["fct_x"][0] == 100
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("update fct_x set amount = amount + 1 where id = 7")
    assert mart_checksums(warehouse) != before


def test_tolerant_equal_forgives_last_bits_only(tmp_path):
    import duckdb

    for name, eps in (("a", 0.0), ("b", 1e-13)):
        with duckdb.connect(str(tmp_path / f"{name}.duckdb")) as conn:
            conn.execute(
                f"create table fct_x as select range as id, range / 3 + {eps} "
                "as v, now() as computed_at from range(10)"
            )
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    assert tolerant_equal(a, b, "fct_x")
    with duckdb.connect(str(b)) as conn:
        conn.execute("update fct_x set v = v + 1e-6 where id = 3")
    assert not tolerant_equal(a, b, "fct_x")

"""The same analytics as hand-written DuckDB SQL in one process, without dbt.

This is the floor for the project's approach: what DuckDB itself costs for
the work, with no dbt parsing, no per-model materialisation overhead, no
tests and none of the extra marts. Steps (each a few SQL statements into
tables of a fresh DuckDB file, with the project's memory limit and spill
directory):

load
    ``read_parquet`` into a raw table (as the project's ``base_input__rows``).
clean
    The cleaning rules of the pandas notebook, exact duplicates dropped.
orders, revenue_monthly, customers_monthly, weekday_hour
    Order roll-up and the monthly / weekday x hour marts.
rfm
    Recency, frequency, monetary and scores with window functions; the
    score is exactly ``pd.qcut(x.rank(method="first"), 5)`` (ties broken by
    customer id, which is pandas' order after ``groupby``).
clustering
    scikit-learn K-Means (k=4, ``n_init=10``, ``random_state=42``) on
    log1p + standardised RFM fetched as Arrow, with one OpenMP/BLAS thread
    as in ``python_udfs.clustering``; labels written back.
clv_summary, clv_fit, clv_score
    frequency / recency / T / monetary per customer in SQL (daily periods,
    weekly units, lifetimes' definitions), BG/NBD fitted with the project's
    fast fitter on the distinct (x, t_x, T) triples with counts as weights,
    Gamma-Gamma on repeat customers with positive spend, and 12-month
    discounted CLV with ``python_udfs.clv.forecast.discounted_clv``.

Run by the harness as ``python -m bench.duckdb_floor --input FILE --database
DB --result OUT.json``.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from bench.common import StepTimer, write_json

# The model modules themselves (not the lazy package): imported here, at
# start-up, as before the package split, so no step times their import.
from python_udfs.clv.bgnbd import fit_bgnbd
from python_udfs.clv.fitting import FitResult
from python_udfs.clv.forecast import discounted_clv
from python_udfs.clv.gamma_gamma import fit_gamma_gamma, gamma_gamma_expected_spend

K_CLUSTERS = 4
RANDOM_STATE = 42
CLV_MONTHS = 12
DISCOUNT_RATE = 0.01
BINS = 5

LOAD_LINES = """
create or replace table raw_lines as
select * from read_parquet($path)
"""

LOAD_EVENTS = """
create or replace table raw_events as
select * from read_parquet($path)
"""

CLEAN_EVENTS = """
create or replace table events as
select
    strptime(event_time, '%Y-%m-%d %H:%M:%S UTC') as event_at,
    event_type,
    product_id,
    coalesce(category_code, 'unknown') as product_category,
    price,
    user_id,
    user_session
from raw_events
where user_id is not null and event_time is not null
"""

FUNNEL = [
    f"""
create or replace table funnel_{name} as
with user_flags as (
    select
        {key} as {alias},
        user_id,
        bool_or(event_type = 'view') as viewed,
        bool_or(event_type = 'cart') as carted,
        bool_or(event_type = 'purchase') as purchased
    from events
    group by all
),
users as (
    select
        {alias},
        count(*) as users,
        count(*) filter (where viewed) as users_viewed,
        count(*) filter (where carted) as users_carted,
        count(*) filter (where purchased) as users_purchased,
        count(*) filter (where viewed and carted) as users_viewed_and_carted,
        count(*) filter (where carted and purchased) as users_carted_and_purchased
    from user_flags
    group by all
),
sessions as (
    select {key} as {alias}, count(distinct user_session) as sessions
    from events
    group by all
)
select
    users.*,
    sessions.sessions,
    users_viewed_and_carted / nullif(users_viewed, 0) as view_to_cart_rate,
    users_carted_and_purchased / nullif(users_carted, 0) as cart_to_purchase_rate
from users
join sessions using ({alias})
"""
    for name, key, alias in (
        ("daily", "cast(event_at as date)", "event_date"),
        ("by_category", "product_category", "product_category"),
    )
]

EVENTS_TO_LINES = """
create or replace table raw_lines as
select
    user_session as order_id,
    cast(user_id as varchar) as customer_id,
    event_at as ordered_at,
    cast(product_id as varchar) as product_id,
    product_category,
    1 as quantity,
    price as unit_price
from events
where event_type = 'purchase'
"""

CLEAN = """
create or replace table order_lines as
select
    *,
    quantity * unit_price as line_amount,
    quantity < 0 as is_return
from (
    select distinct *
    from raw_lines
    where customer_id is not null
        and ordered_at is not null
        and ordered_at <= cast(now() at time zone 'UTC' as timestamp)
        and quantity <> 0
        and unit_price > 0
)
"""

ORDERS = """
create or replace table orders as
select
    order_id,
    customer_id,
    min(ordered_at) as ordered_at,
    cast(date_trunc('month', min(ordered_at)) as date) as order_month,
    bool_or(not is_return) as is_sale,
    sum(case when is_return then 0 else line_amount end) as gross_revenue,
    sum(case when is_return then -line_amount else 0 end) as returns_amount,
    sum(line_amount) as net_revenue
from order_lines
group by order_id, customer_id
"""

REVENUE_MONTHLY = """
create or replace table revenue_monthly as
select
    order_month as month,
    sum(gross_revenue) as gross_revenue,
    sum(returns_amount) as returns_amount,
    sum(net_revenue) as net_revenue,
    count(*) filter (where is_sale) as orders,
    count(distinct customer_id) filter (where is_sale) as active_customers
from orders
group by order_month
order by month
"""

CUSTOMERS_MONTHLY = """
create or replace table customers_monthly as
with customer_months as (
    select distinct customer_id, order_month
    from orders
    where is_sale
),
flagged as (
    select
        order_month,
        order_month = min(order_month) over (partition by customer_id) as is_new
    from customer_months
)
select
    order_month as month,
    count(*) as active_customers,
    count(*) filter (where is_new) as new_customers,
    count(*) filter (where not is_new) as returning_customers
from flagged
group by order_month
order by month
"""

WEEKDAY_HOUR = """
create or replace table weekday_hour as
select
    isodow(ordered_at) as iso_weekday,
    hour(ordered_at) as hour_of_day,
    count(*) filter (where is_sale) as orders,
    sum(gross_revenue) as gross_revenue,
    sum(net_revenue) as net_revenue
from orders
group by all
order by all
"""


def _score(value: str, ascending: bool = True) -> str:
    """SQL for ``pd.qcut(value.rank(method="first"), BINS)`` (1..BINS).

    Rank r = row_number over (value, customer_id); score = smallest k with
    r <= 1 + (n - 1) k / BINS; recency labels run backwards.
    """
    score = (
        f"greatest(1, cast(ceil((row_number() over (order by {value}, customer_id)"
        f" - 1) * {BINS} / cast(count(*) over () - 1 as double)) as integer))"
    )
    if not ascending:
        score = f"{BINS} + 1 - {score}"
    return f"case when count(*) over () = 1 then 1 else {score} end"


RFM = f"""
create or replace table rfm as
with snapshot as (
    select cast(max(ordered_at) as date) + 1 as as_of from orders
),
customers as (
    select
        customer_id,
        max(ordered_at) filter (where is_sale) as last_purchase,
        count(*) filter (where is_sale) as frequency,
        sum(net_revenue) as monetary
    from orders
    group by customer_id
    having count(*) filter (where is_sale) > 0
),
features as (
    select
        customer_id,
        date_diff('day', cast(last_purchase as date), snapshot.as_of) as recency,
        frequency,
        monetary
    from customers
    cross join snapshot
),
scored as (
    select
        *,
        {_score("recency", ascending=False)} as r_score,
        {_score("frequency")} as f_score,
        {_score("monetary")} as m_score
    from features
)
select *, r_score + f_score + m_score as rfm_score
from scored
"""

CLV_SUMMARY = """
create or replace table clv_summary as
with daily as (
    select customer_id, cast(ordered_at as date) as day, sum(gross_revenue) as amount
    from orders
    where is_sale
    group by all
),
observation as (
    select max(day) as end_day from daily
),
customers as (
    select
        customer_id,
        min(day) as first_day,
        max(day) as last_day,
        count(*) - 1 as frequency,
        sum(amount) - arg_min(amount, day) as repeat_amount
    from daily
    group by customer_id
)
select
    customer_id,
    cast(frequency as double) as frequency,
    date_diff('day', first_day, last_day) / 7.0 as recency,
    date_diff('day', first_day, observation.end_day) / 7.0 as "T",
    case when frequency > 0 then repeat_amount / frequency else 0 end as monetary
from customers
cross join observation
"""


def _execute(conn: duckdb.DuckDBPyConnection, sql: str, **params: Any) -> None:
    conn.execute(sql, params or None).fetchall()


def _one(conn: duckdb.DuckDBPyConnection, sql: str) -> Any:
    return conn.sql(sql).fetchall()[0][0]


def clustering(conn: duckdb.DuckDBPyConnection) -> list[int]:
    """K-Means on the RFM table; writes ``customer_clusters``."""
    table = conn.sql(
        "select customer_id, recency, frequency, monetary from rfm order by customer_id"
    ).to_arrow_table()
    features = np.column_stack(
        [
            table.column(name).to_numpy().astype(np.float64)
            for name in ("recency", "frequency", "monetary")
        ]
    )
    scaled = StandardScaler().fit_transform(np.log1p(np.clip(features, 0, None)))
    model = KMeans(n_clusters=K_CLUSTERS, n_init=10, random_state=RANDOM_STATE)
    # One OpenMP/BLAS thread, as the project's clustering does: on 2 busy
    # cores the threads' spin-waiting makes K-Means slower and erratic.
    with threadpool_limits(limits=1):
        labels = model.fit_predict(scaled)
    conn.register(
        "clusters_arrow",
        pa.table({"customer_id": table.column("customer_id"), "cluster": labels}),
    )
    _execute(
        conn,
        "create or replace table customer_clusters as select * from clusters_arrow",
    )
    conn.unregister("clusters_arrow")
    _execute(
        conn,
        """
        create or replace table cluster_profiles as
        select cluster, count(*) as customers, avg(recency) as recency,
            avg(frequency) as frequency, avg(monetary) as monetary
        from rfm join customer_clusters using (customer_id)
        group by cluster
        """,
    )
    return sorted(np.bincount(labels, minlength=K_CLUSTERS).tolist())


def clv_fit(conn: duckdb.DuckDBPyConnection) -> tuple[FitResult, FitResult]:
    """BG/NBD on SQL-grouped triples, Gamma-Gamma on repeat customers."""
    triples = conn.sql(
        'select frequency, recency, "T", count(*) as weight '
        "from clv_summary group by all"
    ).fetchnumpy()
    bgnbd = fit_bgnbd(
        triples["frequency"],
        triples["recency"],
        triples["T"],
        weights=triples["weight"],
    )
    repeat = conn.sql(
        "select frequency, monetary from clv_summary "
        "where frequency > 0 and monetary > 0"
    ).fetchnumpy()
    gamma_gamma = fit_gamma_gamma(repeat["frequency"], repeat["monetary"])
    return bgnbd, gamma_gamma


def clv_score(
    conn: duckdb.DuckDBPyConnection, bgnbd: FitResult, gamma_gamma: FitResult
) -> float:
    """12-month discounted CLV for every customer; writes ``customer_clv``."""
    table = conn.sql(
        'select customer_id, frequency, recency, "T", monetary from clv_summary'
    ).to_arrow_table()
    x, tx, age, m = (
        table.column(name).to_numpy()
        for name in ("frequency", "recency", "T", "monetary")
    )
    gg = gamma_gamma.params
    spend = gamma_gamma_expected_spend(x, m, gg["p"], gg["q"], gg["v"])
    value = discounted_clv(
        "bgnbd",
        bgnbd.params,
        x,
        tx,
        age,
        spend,
        months=CLV_MONTHS,
        discount_rate=DISCOUNT_RATE,
        periods_per_month="W",
    )
    conn.register(
        "scores_arrow",
        pa.table(
            {
                "customer_id": table.column("customer_id"),
                "expected_spend": spend,
                "clv": value,
            }
        ),
    )
    _execute(conn, "create or replace table customer_clv as select * from scores_arrow")
    conn.unregister("scores_arrow")
    return float(np.sum(value))


def run(
    path: str,
    database: str = ":memory:",
    input_format: str = "transactions",
    timer: StepTimer | None = None,
    memory_limit: str | None = None,
    temp_directory: str | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Run every step on ``path`` into ``database``; return cross-check totals."""
    timer = timer or StepTimer()
    config: dict[str, Any] = {}
    if memory_limit:
        config["memory_limit"] = memory_limit
    if temp_directory:
        config["temp_directory"] = temp_directory
    if threads:
        config["threads"] = threads
    checks: dict[str, Any] = {}
    conn = duckdb.connect(database, config=config)
    try:
        if input_format == "events":
            with timer.step("load"):
                _execute(conn, LOAD_EVENTS, path=path)
            with timer.step("clean"):
                _execute(conn, CLEAN_EVENTS)
            with timer.step("funnel"):
                for sql in FUNNEL:
                    _execute(conn, sql)
            checks["funnel_days"] = _one(conn, "select count(*) from funnel_daily")
            checks["funnel_users_purchased"] = int(
                _one(conn, "select sum(users_purchased) from funnel_daily")
            )
            checks["events"] = _one(conn, "select count(*) from events")
            with timer.step("events_to_lines"):
                _execute(conn, EVENTS_TO_LINES)
        elif input_format == "transactions":
            with timer.step("load"):
                _execute(conn, LOAD_LINES, path=path)
        else:
            raise ValueError(
                f"input_format must be transactions or events: {input_format}"
            )
        checks["raw_rows"] = _one(conn, "select count(*) from raw_lines")
        with timer.step("clean"):
            _execute(conn, CLEAN)
        checks["clean_lines"] = _one(conn, "select count(*) from order_lines")
        with timer.step("orders"):
            _execute(conn, ORDERS)
        with timer.step("revenue_monthly"):
            _execute(conn, REVENUE_MONTHLY)
        with timer.step("customers_monthly"):
            _execute(conn, CUSTOMERS_MONTHLY)
        with timer.step("weekday_hour"):
            _execute(conn, WEEKDAY_HOUR)
        with timer.step("rfm"):
            _execute(conn, RFM)
        with timer.step("clustering"):
            cluster_sizes = clustering(conn)
        with timer.step("clv_summary"):
            _execute(conn, CLV_SUMMARY)
        with timer.step("clv_fit"):
            bgnbd, gamma_gamma = clv_fit(conn)
        with timer.step("clv_score"):
            clv_total = clv_score(conn, bgnbd, gamma_gamma)
        revenue = conn.sql(
            "select sum(gross_revenue), sum(returns_amount), sum(net_revenue), "
            "sum(orders), count(*) from revenue_monthly"
        ).fetchall()[0]
        customers = conn.sql(
            "select sum(active_customers), sum(new_customers) from customers_monthly"
        ).fetchall()[0]
        monthly = conn.sql(
            "select strftime(month, '%Y-%m'), net_revenue from revenue_monthly"
        ).fetchall()
        checks.update(
            months=revenue[4],
            gross_revenue=float(revenue[0]),
            returns_amount=float(revenue[1]),
            net_revenue=float(revenue[2]),
            orders=int(revenue[3]),
            active_customer_months=int(customers[0]),
            new_customers=int(customers[1]),
            weekday_hour_orders=int(_one(conn, "select sum(orders) from weekday_hour")),
            rfm_customers=_one(conn, "select count(*) from rfm"),
            rfm_product_sum=int(
                _one(conn, "select sum(r_score * f_score * m_score) from rfm")
            ),
            cluster_sizes=cluster_sizes,
            clv_customers=_one(conn, "select count(*) from clv_summary"),
            clv_repeat_customers=_one(
                conn, "select count(*) from clv_summary where frequency > 0"
            ),
            bgnbd=bgnbd.params,
            gamma_gamma=gamma_gamma.params,
            clv_total=clv_total,
            monthly_net_revenue={month: float(value) for month, value in monthly},
        )
    finally:
        conn.close()
    return checks


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", required=True, help="Parquet file")
    parser.add_argument(
        "--format", default="transactions", choices=["transactions", "events"]
    )
    parser.add_argument("--database", required=True, help="DuckDB file to create")
    parser.add_argument("--result", required=True, help="JSON file to write")
    parser.add_argument("--memory-limit", default=None, help="DuckDB memory_limit")
    parser.add_argument("--temp-directory", default=None, help="DuckDB spill dir")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads")
    args = parser.parse_args(argv)
    timer = StepTimer()
    result: dict[str, Any] = {
        "started_at": timer.started_at,
        "duckdb": duckdb.__version__,
    }
    status = 0
    try:
        Path(args.database).parent.mkdir(parents=True, exist_ok=True)
        result["checks"] = run(
            str(Path(args.input).resolve()),
            args.database,
            args.format,
            timer,
            memory_limit=args.memory_limit,
            temp_directory=args.temp_directory,
            threads=args.threads,
        )
    except Exception as exc:  # recorded, the harness reports it
        result["error"] = f"{type(exc).__name__}: {exc}"
        result["traceback"] = traceback.format_exc()
        status = 1
    result["steps"] = timer.steps
    write_json(args.result, result)
    return status


if __name__ == "__main__":
    sys.exit(main())

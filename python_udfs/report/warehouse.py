"""Read-only access to the warehouse marts, and every query the report runs.

The report reads marts only: the tables named ``fct_*`` and ``dim_*``.
Every query it runs is in :data:`_QUERIES`, by name, and the sections ask
for a query by its name; :class:`_Warehouse` lists the marts only, so a
section cannot come to depend on a staging or intermediate model by
accident (``tests/python/test_report.py`` checks the queries, and that the
dbt exposure ``customer_value_report`` lists the marts they read).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

#: Name prefixes of the mart layer, the only tables the report reads.
_MART_PREFIXES = ("fct_", "dim_")
#: Marts whose latest as_of_date is the report's as-of date, in this order.
_AS_OF_TABLES = ("dim_customers", "fct_customer_rfm", "fct_input_summary")


def _exact_sum(expr: str) -> str:
    """Return a SQL sum of doubles that does not depend on row order.

    As the dbt macro ``cv_exact_sum`` sums them in the marts: a float sum
    depends on the order DuckDB's threads meet the rows, so two builds of
    the same data would give reports differing in the last digits.
    """
    return f"cast(sum(cast({expr} as decimal(38, 18))) as double)"


def _exact_avg(expr: str) -> str:
    """Return a SQL mean of doubles that does not depend on row order."""
    return f"cast(avg(cast({expr} as decimal(38, 18))) as double)"


_TOP_CUSTOMERS = (
    "select c.clv_rank, c.customer_id, {extra}, c.p_alive, c.frequency, "
    "c.historic_value, c.expected_purchases_long, c.clv_long "
    "from fct_customer_clv as c {join} order by c.clv_rank limit 20"
)

#: Every query the report runs, by name.
_QUERIES: dict[str, str] = {
    # -- header: input, as-of date, period, KPIs, model parameters ----------
    "input_build": "select input_format, input_path from fct_input_summary limit 1",
    "input_files": (
        "select distinct source_file from fct_input_summary "
        "where source_file is not null order by 1 limit 6"
    ),
    "input_row_counts": (
        "select row_status, reject_reason, cast(sum(row_count) as bigint) as n "
        "from fct_input_summary group by all order by n desc"
    ),
    **{f"as_of_date_of_{t}": f"select max(as_of_date) from {t}" for t in _AS_OF_TABLES},
    "revenue_months": "select month from fct_revenue_monthly order by month",
    "revenue_period": "select min(month), max(month) from fct_revenue_monthly",
    "revenue_totals": (
        f"select {_exact_sum('net_revenue')}, sum(orders), min(month), max(month) "
        "from fct_revenue_monthly"
    ),
    "customer_count": "select count(*) from dim_customers",
    "clv_totals": (
        f"select {_exact_sum('clv_long')}, max(long_horizon_months) "
        "from fct_customer_clv"
    ),
    "clv_model_params": (
        "select * from fct_clv_model_params order by "
        "case model when 'gamma_gamma' then 2 when 'diagnostics' then 3 "
        "else 1 end, model"
    ),
    # -- revenue --------------------------------------------------------------
    "revenue_monthly": "select * from fct_revenue_monthly order by month",
    "revenue_by_weekday_hour": (
        "select iso_weekday, weekday_name, hour_of_day, orders, net_revenue "
        "from fct_revenue_by_weekday_hour"
    ),
    "store_totals": (
        f"select store_id, {_exact_sum('net_revenue')} as net_revenue, "
        "sum(orders) as orders, "
        "max(customers) as peak_customers from fct_revenue_by_store_monthly "
        "group by 1 order by 2 desc, 1"
    ),
    # -- customers ------------------------------------------------------------
    "customers_monthly": "select * from fct_customers_monthly order by month",
    "cohort_retention": (
        "select cohort_month, months_since_first_purchase as m, month, "
        "cohort_customers, retention_rate from fct_cohort_retention order by 1, 2"
    ),
    "funnel_totals": (
        "select count(*) as days, sum(users_viewed) as viewed, "
        "sum(users_carted) as carted, sum(users_purchased) as purchased, "
        # The mart's own rates (users who viewed and carted / viewed, ...),
        # weighted by their denominators; user counts alone do not nest,
        # since people can buy without using the cart.
        f"{_exact_sum('view_to_cart_rate * users_viewed')} "
        "/ nullif(sum(users_viewed), 0) as view_to_cart, "
        f"{_exact_sum('cart_to_purchase_rate * users_carted')} "
        "/ nullif(sum(users_carted), 0) as cart_to_purchase, "
        f"{_exact_sum('view_to_purchase_rate * users_viewed')} "
        "/ nullif(sum(users_viewed), 0) as view_to_purchase, "
        "min(event_date) as first_day, max(event_date) as last_day "
        "from fct_funnel_daily"
    ),
    # -- RFM --------------------------------------------------------------------
    "rfm_segment_summary": (
        "select * from fct_rfm_segment_summary order by segment_priority, segment"
    ),
    "segment_order": (
        "select segment from fct_rfm_segment_summary order by segment_priority"
    ),
    "latest_segment_transitions": (
        "select * from fct_rfm_segment_transitions where to_month = "
        "(select max(to_month) from fct_rfm_segment_transitions)"
    ),
    # -- clusters -------------------------------------------------------------
    "cluster_profiles": "select * from dim_cluster_profiles order by cluster_id",
    # -- CLV --------------------------------------------------------------------
    "clv_summary": "select * from fct_clv_summary order by clv_decile",
    "clv_stats": (
        f"select count(*) as customers, {_exact_sum('clv_long')} as total, "
        "median(clv_long) as median, max(long_horizon_months) as horizon, "
        f"{_exact_sum('historic_value')} as historic, "
        f"{_exact_avg('p_alive')} as p_alive "
        "from fct_customer_clv"
    ),
    "clv_histogram": (
        "select floor(log10(clv_long) * 4) / 4 as bin, count(*) as customers "
        "from fct_customer_clv where clv_long >= 1 group by 1 order by 1"
    ),
    "clv_below_one": "select count(*) from fct_customer_clv where clv_long < 1",
    "top_customers": _TOP_CUSTOMERS.format(
        extra="d.rfm_segment, d.cluster_name",
        join="left join dim_customers as d on d.customer_id = c.customer_id",
    ),
    "top_customers_without_dim_customers": _TOP_CUSTOMERS.format(
        extra="null as rfm_segment, null as cluster_name", join=""
    ),
    "clv_validation": "select * from fct_clv_validation",
}


class _Warehouse:
    """Read-only access to the marts, knowing which marts exist.

    ``tables`` holds the warehouse's marts (its ``fct_*`` and ``dim_*``
    tables), lower-case; the query methods take a name in :data:`_QUERIES`.
    """

    def __init__(self, conn: duckdb.DuckDBPyConnection, path: Path) -> None:
        self.conn = conn
        self.path = path
        names = conn.execute(
            "select table_name from information_schema.tables "
            "where table_schema = current_schema()"
        ).fetchall()
        self.tables = {
            name.lower() for (name,) in names if name.lower().startswith(_MART_PREFIXES)
        }

    def missing(self, *tables: str) -> list[str]:
        """Return the tables in ``tables`` that this warehouse does not have."""
        return [t for t in tables if t.lower() not in self.tables]

    def _execute(
        self, query: str, params: Sequence[Any] | None = None
    ) -> duckdb.DuckDBPyConnection:
        return self.conn.execute(_QUERIES[query], params or [])

    def df(self, query: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run the query named ``query`` and return a pandas DataFrame."""
        return self._execute(query, params).df()

    def row(self, query: str, params: Sequence[Any] | None = None) -> tuple | None:
        """Run the query named ``query`` and return its first row."""
        return self._execute(query, params).fetchone()

    def column(self, query: str, params: Sequence[Any] | None = None) -> list[Any]:
        """Run the query named ``query`` and return its first column's values."""
        return [row[0] for row in self._execute(query, params).fetchall()]

    def scalar(self, query: str, params: Sequence[Any] | None = None) -> Any:
        """Run the query named ``query``, returning one value."""
        row = self.row(query, params)
        return None if row is None else row[0]

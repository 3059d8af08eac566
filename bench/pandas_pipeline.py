"""The classic customer-analytics notebook, written as idiomatic pandas.

This is what the project replaces: read the file into one DataFrame, clean
it, roll lines up to orders (baskets), then monthly revenue, monthly
active/new customers, a weekday x hour table, RFM quintiles (``pd.qcut`` of
``rank(method="first")``), K-Means on log1p + standardised RFM, and CLV with
``lifetimes`` (summary table, BG/NBD, Gamma-Gamma, 12-month discounted CLV).
Vectorised ``groupby``/``agg`` only, no row-wise lambdas, library defaults
(no thread pinning); everything stays in memory, as in a notebook.

Definitions follow the project so that totals can be compared: a line's
amount is ``quantity * unit_price``; returns (negative quantities) are kept
as negative amounts; an order is timed at its first line; gross = sale
lines, returns = minus the return lines, net = gross - returns; orders and
active customers count orders with a sale line; a customer is new in the
month of its first sale; RFM recency is in days from the day after the
latest order, frequency counts orders, monetary is net revenue; CLV uses
order-level sale totals. With ``--format events`` (REES46 layout) the
funnel is computed first, then every purchase event becomes an order line
of quantity 1 whose order is the session, as the project reads that layout.

Run by the harness as ``python -m bench.pandas_pipeline --input FILE
--result OUT.json``; it writes the time of each step and a few totals.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import summary_data_from_transaction_data
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

from bench.common import StepTimer, write_json

K_CLUSTERS = 4
RANDOM_STATE = 42
CLV_MONTHS = 12
DISCOUNT_RATE = 0.01
_EVENT_TIME_FORMAT = "%Y-%m-%d %H:%M:%S UTC"


def clean(lines: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
    """Drop unusable rows and exact duplicates; add amount and return flag."""
    lines = lines.dropna(subset=["customer_id", "ordered_at"])
    lines = lines[
        (lines["quantity"] != 0)
        & (lines["unit_price"] > 0)
        & (lines["ordered_at"] <= now)
    ]
    lines = lines.drop_duplicates()
    return lines.assign(
        line_amount=lines["quantity"] * lines["unit_price"],
        is_return=lines["quantity"] < 0,
    )


def order_totals(lines: pd.DataFrame) -> pd.DataFrame:
    """Basket level: one row per order, timed at its first line."""
    amounts = lines.assign(
        gross=lines["line_amount"].clip(lower=0),
        returns=(-lines["line_amount"]).clip(lower=0),
        sale_line=~lines["is_return"],
    )
    table = amounts.groupby(["order_id", "customer_id"], as_index=False).agg(
        ordered_at=("ordered_at", "min"),
        sale_lines=("sale_line", "sum"),
        gross_revenue=("gross", "sum"),
        returns_amount=("returns", "sum"),
        net_revenue=("line_amount", "sum"),
    )
    return table.assign(
        is_sale=table["sale_lines"] > 0,
        month=table["ordered_at"].dt.to_period("M"),
    )


def revenue_monthly(orders: pd.DataFrame) -> pd.DataFrame:
    """Gross, returns and net revenue, orders and active customers by month."""
    money = orders.groupby("month").agg(
        gross_revenue=("gross_revenue", "sum"),
        returns_amount=("returns_amount", "sum"),
        net_revenue=("net_revenue", "sum"),
        orders=("is_sale", "sum"),
    )
    active = (
        orders[orders["is_sale"]]
        .groupby("month")["customer_id"]
        .nunique()
        .rename("active_customers")
    )
    return money.join(active).fillna({"active_customers": 0})


def customers_monthly(orders: pd.DataFrame) -> pd.DataFrame:
    """Active and new customers by month (sales only)."""
    active = orders.loc[orders["is_sale"], ["customer_id", "month"]]
    active = active.drop_duplicates()
    first_month = active.groupby("customer_id")["month"].transform("min")
    active = active.assign(is_new=active["month"] == first_month)
    monthly = active.groupby("month").agg(
        active_customers=("customer_id", "size"), new_customers=("is_new", "sum")
    )
    monthly["returning_customers"] = (
        monthly["active_customers"] - monthly["new_customers"]
    )
    return monthly


def weekday_hour(orders: pd.DataFrame) -> pd.DataFrame:
    """Orders and revenue by ISO weekday and hour of day."""
    cells = orders.assign(
        weekday=orders["ordered_at"].dt.day_of_week + 1,
        hour=orders["ordered_at"].dt.hour,
    )
    return cells.groupby(["weekday", "hour"]).agg(
        orders=("is_sale", "sum"),
        gross_revenue=("gross_revenue", "sum"),
        net_revenue=("net_revenue", "sum"),
    )


def rfm(orders: pd.DataFrame, bins: int = 5) -> pd.DataFrame:
    """Recency (days), frequency (orders), monetary (net) and qcut scores."""
    snapshot = orders["ordered_at"].max().normalize() + pd.Timedelta(days=1)
    table = (
        orders[orders["is_sale"]]
        .groupby("customer_id")
        .agg(last_purchase=("ordered_at", "max"), frequency=("order_id", "size"))
    )
    monetary = orders.groupby("customer_id")["net_revenue"].sum().rename("monetary")
    table = table.join(monetary)
    table["recency"] = (snapshot - table["last_purchase"].dt.normalize()).dt.days
    labels = list(range(1, bins + 1))
    table["r_score"] = pd.qcut(
        table["recency"].rank(method="first"), bins, labels=labels[::-1]
    ).astype(int)
    table["f_score"] = pd.qcut(
        table["frequency"].rank(method="first"), bins, labels=labels
    ).astype(int)
    table["m_score"] = pd.qcut(
        table["monetary"].rank(method="first"), bins, labels=labels
    ).astype(int)
    table["rfm_score"] = table["r_score"] + table["f_score"] + table["m_score"]
    return table


def clustering(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """K-Means (k=4) on log1p and standardised R, F, M; cluster profiles."""
    features = np.log1p(table[["recency", "frequency", "monetary"]].clip(lower=0))
    scaled = StandardScaler().fit_transform(features)
    model = KMeans(n_clusters=K_CLUSTERS, n_init=10, random_state=RANDOM_STATE)
    table = table.assign(cluster=model.fit_predict(scaled))
    profiles = table.groupby("cluster").agg(
        customers=("recency", "size"),
        recency=("recency", "mean"),
        frequency=("frequency", "mean"),
        monetary=("monetary", "mean"),
    )
    return table, profiles


def clv_summary(orders: pd.DataFrame) -> pd.DataFrame:
    """lifetimes' summary table from order-level sale totals.

    Daily periods, weekly units (``freq="D", freq_multiplier=7``).
    """
    return summary_data_from_transaction_data(
        orders.loc[orders["is_sale"], ["customer_id", "ordered_at", "gross_revenue"]],
        "customer_id",
        "ordered_at",
        monetary_value_col="gross_revenue",
        freq="D",
        freq_multiplier=7,
    )


def clv_fit(summary: pd.DataFrame) -> tuple[Any, Any]:
    """Unweighted BG/NBD on all customers, Gamma-Gamma on repeat buyers."""
    bgf = BetaGeoFitter(penalizer_coef=0.0)
    bgf.fit(summary["frequency"], summary["recency"], summary["T"])
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    ggf = GammaGammaFitter(penalizer_coef=0.0)
    ggf.fit(repeat["frequency"], repeat["monetary_value"])
    return bgf, ggf


def clv_score(summary: pd.DataFrame, bgf: Any, ggf: Any) -> pd.DataFrame:
    """12-month discounted CLV (monthly discount 1 %, weekly model)."""
    clv = ggf.customer_lifetime_value(
        bgf,
        summary["frequency"],
        summary["recency"],
        summary["T"],
        summary["monetary_value"],
        time=CLV_MONTHS,
        discount_rate=DISCOUNT_RATE,
        freq="W",
    )
    return summary.assign(clv=clv)


def events_to_lines(events: pd.DataFrame) -> pd.DataFrame:
    """Purchase events as order lines: quantity 1, the session is the order."""
    purchases = events[events["event_type"] == "purchase"]
    return pd.DataFrame(
        {
            "order_id": purchases["user_session"],
            "customer_id": purchases["user_id"].astype("str"),
            "ordered_at": purchases["event_time"],
            "product_id": purchases["product_id"].astype("str"),
            "product_category": purchases["category_code"],
            "quantity": 1,
            "unit_price": purchases["price"],
        }
    )


def funnel(events: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """User-based view -> cart -> purchase funnel by day and by category."""
    flagged = events.assign(
        event_date=events["event_time"].dt.normalize(),
        product_category=events["category_code"].fillna("unknown"),
        viewed=events["event_type"] == "view",
        carted=events["event_type"] == "cart",
        purchased=events["event_type"] == "purchase",
    )

    def by(key: str) -> pd.DataFrame:
        users = flagged.groupby([key, "user_id"])[["viewed", "carted", "purchased"]]
        users = users.max()
        users = users.assign(
            viewed_and_carted=users["viewed"] & users["carted"],
            carted_and_purchased=users["carted"] & users["purchased"],
        )
        table = users.groupby(key).sum()
        table["view_to_cart_rate"] = table["viewed_and_carted"] / table["viewed"]
        table["cart_to_purchase_rate"] = table["carted_and_purchased"] / table["carted"]
        sessions = flagged.groupby(key)["user_session"].nunique().rename("sessions")
        return table.join(sessions)

    return by("event_date"), by("product_category")


def run(
    path: str, input_format: str = "transactions", timer: StepTimer | None = None
) -> dict[str, Any]:
    """Run the notebook on ``path``; return totals used to cross-check."""
    timer = timer or StepTimer()
    now = pd.Timestamp.now(tz="UTC").tz_localize(None)
    checks: dict[str, Any] = {}
    if input_format == "events":
        with timer.step("load"):
            events = pd.read_parquet(path)
        with timer.step("clean"):
            events["event_time"] = pd.to_datetime(
                events["event_time"], format=_EVENT_TIME_FORMAT
            )
            events = events.dropna(subset=["user_id", "event_time"])
        with timer.step("funnel"):
            daily, by_category = funnel(events)
            checks["funnel_days"] = len(daily)
            checks["funnel_users_purchased"] = int(daily["purchased"].sum())
        with timer.step("events_to_lines"):
            raw = events_to_lines(events)
            checks["events"] = len(events)
            del events
    elif input_format == "transactions":
        with timer.step("load"):
            raw = pd.read_parquet(path)
    else:
        raise ValueError(f"input_format must be transactions or events: {input_format}")
    checks["raw_rows"] = len(raw)
    with timer.step("clean"):
        lines = clean(raw, now)
        del raw
    checks["clean_lines"] = len(lines)
    with timer.step("orders"):
        baskets = order_totals(lines)
        del lines
    with timer.step("revenue_monthly"):
        revenue = revenue_monthly(baskets)
    with timer.step("customers_monthly"):
        customers = customers_monthly(baskets)
    with timer.step("weekday_hour"):
        cells = weekday_hour(baskets)
    with timer.step("rfm"):
        scores = rfm(baskets)
    with timer.step("clustering"):
        scores, profiles = clustering(scores)
    with timer.step("clv_summary"):
        summary = clv_summary(baskets)
    with timer.step("clv_fit"):
        bgf, ggf = clv_fit(summary)
    with timer.step("clv_score"):
        summary = clv_score(summary, bgf, ggf)
    checks.update(
        months=len(revenue),
        gross_revenue=float(revenue["gross_revenue"].sum()),
        returns_amount=float(revenue["returns_amount"].sum()),
        net_revenue=float(revenue["net_revenue"].sum()),
        orders=int(revenue["orders"].sum()),
        active_customer_months=int(customers["active_customers"].sum()),
        new_customers=int(customers["new_customers"].sum()),
        weekday_hour_orders=int(cells["orders"].sum()),
        rfm_customers=len(scores),
        rfm_product_sum=int(
            (scores["r_score"] * scores["f_score"] * scores["m_score"]).sum()
        ),
        cluster_sizes=sorted(int(n) for n in profiles["customers"]),
        clv_customers=len(summary),
        clv_repeat_customers=int((summary["frequency"] > 0).sum()),
        bgnbd={k: float(v) for k, v in bgf.params_.items()},
        gamma_gamma={k: float(v) for k, v in ggf.params_.items()},
        clv_total=float(summary["clv"].sum()),
        monthly_net_revenue={
            str(month): float(value) for month, value in revenue["net_revenue"].items()
        },
    )
    return checks


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", required=True, help="Parquet file")
    parser.add_argument(
        "--format", default="transactions", choices=["transactions", "events"]
    )
    parser.add_argument("--result", required=True, help="JSON file to write")
    args = parser.parse_args(argv)
    timer = StepTimer()
    result: dict[str, Any] = {"started_at": timer.started_at, "pandas": pd.__version__}
    status = 0
    try:
        result["checks"] = run(args.input, args.format, timer)
    except Exception as exc:  # recorded, the harness reports it
        result["error"] = f"{type(exc).__name__}: {exc}"
        result["traceback"] = traceback.format_exc()
        status = 1
    result["steps"] = timer.steps
    write_json(args.result, result)
    return status


if __name__ == "__main__":
    sys.exit(main())

"""A small hand-made warehouse with every mart the customer value report
reads, and the sentences its numbers imply; shared by the report tests
(test_report.py, test_report_browser.py)."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import duckdb
import pandas as pd

MINUS = "\u2212"

SECTION_TITLES = [
    "What this report is based on",
    "Monthly net revenue",
    "Active, new and returning customers",
    "Cohort retention",
    "When customers buy",
    "Revenue by store",
    "Conversion funnel",
    "RFM segments",
    "Segment migration",
    "Customer clusters",
    "Customer lifetime value",
    "CLV model validation",
]

# Sentences the fixture's numbers imply, worked out by hand.
TAKEAWAYS = [
    "Net revenue grew 25.0% in March 2024, the last full month, to 1,250. "
    "April 2024 is incomplete (data up to 2024-04-15) and drawn lighter.",
    "In March 2024, 10 customers bought: 4 new (40%) and 6 returning; 50% of "
    "the previous month's customers came back.",
    "On average 33% of a cohort buys again the month after its first "
    "purchase; the best cohort, Feb 2024 (5 customers), kept 40%.",
    "Revenue peaks on Thursday 12:00\u201313:00 (50.0% of net revenue); "
    "Thursday is the strongest day (50%); no orders on Wed, Fri, Sat, Sun.",
    "The largest store, north, brings 75.0% of net revenue; the next, south, 25.0%.",
    "Champions are 20.0% of customers and bring 60.0% of net revenue; Loyal is "
    "the largest segment (50.0% of customers, 30.0% of revenue).",
    "From the end of March 2024 to the end of April 2024, 75% of customers "
    "stayed in their segment; the largest move was 2 customers from Loyal to "
    "Lost; 2 new customers joined.",
    "VIP (40.0% of customers) bring 80.0% of net revenue; Lapsed, the largest "
    "cluster (60.0%), brings 20.0%.",
]
CLV_TAKEAWAYS = [
    "The top 10% of customers hold 52% of the predicted 12-month CLV of 9,550; "
    "the median customer is worth 350.",
    "Revenue at risk: 300 (10.0% of historic revenue) comes from customers with "
    "P(alive) below the at-risk threshold (clv_at_risk_p_alive); the average "
    "customer is 80.0% likely to still be active.",
    "Refitted on data up to 2023-10-18 and tested on the 180 days to "
    f"2024-04-15, the model predicted 18 repeat purchases against 20 actual "
    f"({MINUS}10.0%); per-customer correlation 0.90. It over-predicts most for "
    "customers with 1 repeat purchase in calibration (+20.0%).",
]
CLV_TABLES = [
    "fct_clv_model_params",
    "fct_customer_clv",
    "fct_clv_summary",
    "fct_clv_validation",
]


# --------------------------------------------------------------------------
# A small warehouse with every mart the report reads
# --------------------------------------------------------------------------


def _months(*values: str) -> list[dt.date]:
    return [dt.date.fromisoformat(v) for v in values]


def _marts(clv: bool) -> dict[str, pd.DataFrame]:
    months = _months("2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01")
    customers = [f"C{i:02d}" for i in range(1, 11)]
    segments = ["Champions"] * 2 + ["Loyal"] * 5 + ["Lost"] * 3
    clusters = ["VIP"] * 4 + ["Lapsed"] * 6
    marts = {
        # 6 input rows: 3 sales, 1 return, 2 rejected. The input vars are
        # not recorded (null), so the header falls back to dbt's
        # run_results.json, else says "unknown".
        "fct_input_summary": pd.DataFrame(
            {
                "source_file": ["data/orders.csv"] * 3,
                "row_status": ["sale", "return", "rejected"],
                "reject_reason": [None, None, "missing_customer_id"],
                "row_count": [3, 1, 2],
                "input_format": pd.array([None] * 3, dtype="string"),
                "input_path": pd.array([None] * 3, dtype="string"),
                "as_of_date": [dt.date(2024, 4, 16)] * 3,
            }
        ),
        "fct_revenue_monthly": pd.DataFrame(
            {
                "month": months,
                "gross_revenue": [1100.0, 1050.0, 1300.0, 420.0],
                "returns_amount": [100.0, 50.0, 50.0, 20.0],
                "net_revenue": [1000.0, 1000.0, 1250.0, 400.0],
                "orders": [10, 11, 12, 4],
                "units": [30, 33, 36, 12],
                "active_customers": [10, 8, 10, 3],
                "average_order_value": [110.0, 95.5, 108.3, 105.0],
                "net_revenue_growth_pct": [None, 0.0, 25.0, -68.0],
            }
        ),
        "fct_customers_monthly": pd.DataFrame(
            {
                "month": months,
                "active_customers": [10, 8, 10, 3],
                "new_customers": [10, 5, 4, 2],
                "returning_customers": [0, 3, 6, 1],
                "new_customer_ratio": [1.0, 0.625, 0.4, 0.667],
                "retained_customers": [0, 3, 4, 1],
                "retention_rate": [None, 0.3, 0.5, 0.1],
            }
        ),
        "fct_cohort_retention": pd.DataFrame(
            {
                "cohort_month": [months[0]] * 4
                + [months[1]] * 3
                + [months[2]] * 2
                + [months[3]],
                "months_since_first_purchase": [0, 1, 2, 3, 0, 1, 2, 0, 1, 0],
                "month": months + months[1:] + months[2:] + months[3:],
                "cohort_customers": [10] * 4 + [5] * 3 + [4] * 2 + [2],
                "active_customers": [10, 3, 2, 1, 5, 2, 1, 4, 1, 2],
                "retention_rate": [1.0, 0.3, 0.2, 0.1, 1.0, 0.4, 0.2, 1.0, 0.25, 1.0],
                "net_revenue": [500.0] * 10,
                "cumulative_revenue_per_customer": [50.0] * 10,
            }
        ),
        "fct_revenue_by_weekday_hour": pd.DataFrame(
            {
                "iso_weekday": [4, 1, 2],
                "weekday_name": ["Thursday", "Monday", "Tuesday"],
                "hour_of_day": [12, 9, 10],
                "orders": [5, 3, 2],
                "gross_revenue": [550.0, 320.0, 210.0],
                "net_revenue": [500.0, 300.0, 200.0],
                "average_order_value": [110.0, 106.7, 105.0],
            }
        ),
        "fct_revenue_by_store_monthly": pd.DataFrame(
            {
                "month": [months[0], months[1], months[0]],
                "store_id": ["north", "north", "south"],
                "gross_revenue": [1600.0, 1500.0, 1100.0],
                "returns_amount": [50.0, 50.0, 100.0],
                "net_revenue": [1550.0, 1450.0, 1000.0],
                "orders": [8, 7, 6],
                "customers": [5, 4, 3],
                "average_order_value": [200.0, 214.3, 183.3],
            }
        ),
        "dim_customers": pd.DataFrame(
            {
                "customer_id": customers,
                "as_of_date": [dt.date(2024, 4, 16)] * 10,
                "rfm_segment": segments,
                "cluster_name": clusters,
            }
        ),
        "fct_rfm_segment_summary": pd.DataFrame(
            {
                "segment": ["Champions", "Loyal", "Lost"],
                "segment_priority": [1, 2, 11],
                "customers": [2, 5, 3],
                "customer_share": [0.2, 0.5, 0.3],
                "net_revenue": [2190.0, 1095.0, 365.0],
                "revenue_share": [0.6, 0.3, 0.1],
                "avg_recency_days": [5.0, 30.0, 200.0],
                "avg_frequency": [6.0, 3.0, 1.0],
                "avg_monetary": [1095.0, 219.0, 121.7],
                "description": ["Best", "Steady", "Gone"],
                "recommended_action": ["Reward them", "Upsell", "Ignore"],
            }
        ),
        "fct_rfm_segment_transitions": pd.DataFrame(
            {
                "from_month": [months[2]] * 5,
                "to_month": [months[3]] * 5,
                "from_segment": [
                    "Champions",
                    "Loyal",
                    "Loyal",
                    "Lost",
                    "(new customer)",
                ],
                "to_segment": ["Champions", "Loyal", "Lost", "Lost", "Loyal"],
                "is_same_segment": [True, True, False, True, False],
                "customers": [2, 3, 2, 1, 2],
                "share_of_from_segment": [1.0, 0.6, 0.4, 1.0, 1.0],
            }
        ),
        "dim_cluster_profiles": pd.DataFrame(
            {
                "cluster_id": [1, 2],
                "cluster_name": ["Lapsed", "VIP"],
                "customers": [6, 4],
                "customer_share": [0.6, 0.4],
                "centroid_recency_days": [150.0, 10.0],
                "centroid_frequency": [1.2, 6.0],
                "centroid_monetary": [120.0, 800.0],
                "median_recency_days": [140.0, 8.0],
                "median_frequency": [1.0, 5.0],
                "median_monetary": [100.0, 700.0],
                "net_revenue": [730.0, 2920.0],
                "revenue_share": [0.2, 0.8],
            }
        ),
    }
    if clv:
        clv_long = [5000.0, 2000.0, 1000.0, 500.0, 400.0, 300.0, 200.0, 100.0, 50.0]
        clv_long.append(0.4)
        p_alive = [0.95, 0.9, 0.9, 0.85, 0.8, 0.8, 0.75, 0.7, 0.7, 0.65]
        marts["fct_customer_clv"] = pd.DataFrame(
            {
                "customer_id": customers,
                "frequency": [9, 7, 5, 4, 3, 2, 2, 1, 1, 0],
                "recency": [50.0] * 10,
                "T": [60.0] * 10,
                "monetary_value": [300.0] * 10,
                "p_alive": p_alive,
                "churn_probability": [1 - p for p in p_alive],
                "expected_purchases_short": [1.0] * 10,
                "expected_purchases_long": [4.0] * 10,
                "clv_short": [v / 4 for v in clv_long],
                "clv_long": clv_long,
                "short_horizon_months": [3] * 10,
                "long_horizon_months": [12] * 10,
                "expected_average_order_value": [300.0] * 10,
                "historic_value": [300.0] * 10,
                "discount_rate": [0.01] * 10,
                "clv_rank": range(1, 11),
                "clv_decile": range(1, 11),
            }
        )
        total = sum(clv_long)
        cumulative = pd.Series(clv_long).cumsum() / total
        marts["fct_clv_summary"] = pd.DataFrame(
            {
                "clv_decile": range(1, 11),
                "customers": [1] * 10,
                "predicted_clv": clv_long,
                "predicted_clv_share": [v / total for v in clv_long],
                "cumulative_predicted_clv_share": cumulative,
                "historic_revenue": [300.0] * 10,
                "revenue_at_risk": [0.0] * 8 + [100.0, 200.0],
                "avg_p_alive": p_alive,
            }
        )
        marts["fct_clv_model_params"] = pd.DataFrame(
            {
                "model": ["bgnbd"] * 4 + ["gamma_gamma"] * 3,
                "parameter": ["r", "alpha", "a", "b", "p", "q", "v"],
                "value": [0.83, 9.9, 0.2, 2.6, 2.1, 3.4, 480.0],
                "standard_error": [0.03, 0.4, 0.01, 0.2, 0.1, 0.1, 40.0],
                "customers_fitted": [10] * 4 + [9] * 3,
                "log_likelihood": [-120.5] * 4 + [-80.25] * 3,
                "converged": [True] * 7,
                "iterations": [36] * 4 + [21] * 3,
                "time_unit": ["week"] * 7,
                "observation_end": [dt.date(2024, 4, 16)] * 7,
                "penalizer": [0.0] * 7,
                "fitted_at": [dt.datetime(2024, 4, 17, 2, 0)] * 7,
            }
        )
        marts["fct_clv_validation"] = pd.DataFrame(
            {
                "group_name": ["all", "frequency 0", "frequency 1"],
                "calibration_frequency_min": [None, 0, 1],
                "customers": [75, 40, 35],
                "actual_repeat_purchases": [20.0, 10.0, 10.0],
                "predicted_repeat_purchases": [18.0, 9.0, 12.0],
                "error_pct": [-10.0, -10.0, 20.0],
                "mae": [0.5, 0.4, 0.6],
                "rmse": [0.7, 0.6, 0.8],
                "correlation": [0.9, 0.5, 0.6],
                "actual_mean_order_value": [300.0, 280.0, 320.0],
                "predicted_mean_order_value": [290.0, 270.0, 310.0],
                "calibration_end": [dt.date(2023, 10, 18)] * 3,
                "holdout_end": [dt.date(2024, 4, 15)] * 3,
            }
        )
    return marts


def build_warehouse(path: Path, clv: bool = True) -> Path:
    """Write the fixture marts to a DuckDB file; the funnel mart is empty."""
    with duckdb.connect(str(path)) as conn:
        for name, frame in _marts(clv).items():
            conn.register("frame", frame)
            conn.execute(f"create table {name} as select * from frame")
            conn.unregister("frame")
        conn.execute(
            "create table fct_funnel_daily (event_date date, sessions bigint, "
            "users bigint, users_viewed bigint, users_carted bigint, "
            "users_purchased bigint, views bigint, carts bigint, removals bigint, "
            "purchases bigint, view_to_cart_rate double, "
            "cart_to_purchase_rate double, view_to_purchase_rate double, "
            "revenue double)"
        )
    return path


def page_text(path: Path) -> str:
    """The page with tags removed and entities decoded: what a reader sees."""
    markup = path.read_text(encoding="utf-8")
    body = markup[markup.index("<body>") :]
    body = re.sub(r"<script\b.*?</script>", " ", body, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", body))
    return re.sub(r"\s+", " ", text)

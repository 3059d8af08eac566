"""RFM scores against the pandas notebook recipe, on the real Online Retail file."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import ONLINE_RETAIL, require

SELECT = [
    "--select",
    "+fct_rfm_segment_summary",
    "--indirect-selection",
    "cautious",
    "--exclude",
    "test_type:unit",
]


def _build(run_dbt, **dbt_vars):
    path = require(ONLINE_RETAIL)
    result = run_dbt(
        ["build", *SELECT],
        {"input_format": "online_retail", "input_path": str(path), **dbt_vars},
    )
    assert result.returncode == 0, result.output
    with __import__("duckdb").connect(str(result.warehouse), read_only=True) as conn:
        rfm = conn.execute("select * from fct_customer_rfm").df()
        summary = conn.execute("select * from fct_rfm_segment_summary").df()
    return rfm, summary


def _pandas_qcut_scores(rfm: pd.DataFrame, bins: int) -> pd.DataFrame:
    """The classic notebook recipe; rank(method='first') in customer_id order."""
    df = rfm.sort_values("customer_id").reset_index(drop=True)
    labels = list(range(1, bins + 1))
    return pd.DataFrame(
        {
            "customer_id": df["customer_id"],
            "r_score": pd.qcut(
                df["recency_days"].rank(method="first"), bins, labels=labels[::-1]
            ).astype(int),
            "f_score": pd.qcut(
                df["frequency"].rank(method="first"), bins, labels=labels
            ).astype(int),
            "m_score": pd.qcut(
                df["monetary"].rank(method="first"), bins, labels=labels
            ).astype(int),
        }
    )


@pytest.mark.parametrize("bins", [5, 4])
def test_rank_first_reproduces_pandas_qcut(run_dbt, bins):
    rfm, _ = _build(run_dbt, rfm_tie_rule="rank_first", rfm_bins=bins)
    expected = _pandas_qcut_scores(rfm, bins)
    actual = (
        rfm[["customer_id", "r_score", "f_score", "m_score"]]
        .sort_values("customer_id")
        .reset_index(drop=True)
        .astype({"r_score": int, "f_score": int, "m_score": int})
    )
    pd.testing.assert_frame_equal(actual, expected)
    # Quantile bins hold (almost) equal numbers of customers.
    sizes = actual["f_score"].value_counts()
    assert sizes.max() - sizes.min() <= 1


def test_equal_values_default_never_splits_ties_and_summary_adds_up(run_dbt):
    rfm, summary = _build(run_dbt)
    assert len(rfm) == 4_338
    for value, score in [
        ("recency_days", "r_score"),
        ("frequency", "f_score"),
        ("monetary", "m_score"),
    ]:
        assert rfm.groupby(value)[score].nunique().max() == 1
        # Scores never decrease as the measure improves.
        ordered = rfm.sort_values(value)[score]
        if value == "recency_days":
            assert ordered.is_monotonic_decreasing
        else:
            assert ordered.is_monotonic_increasing
    # One-time buyers (about a third of this file) all share F = 1.
    assert set(rfm.loc[rfm["frequency"] == 1, "f_score"]) == {1}
    assert rfm["segment"].notna().all()
    assert summary["customers"].sum() == len(rfm)
    assert summary["customer_share"].sum() == pytest.approx(1.0)
    assert summary["revenue_share"].sum() == pytest.approx(1.0)
    assert len(summary) == 11


@pytest.mark.parametrize(
    ("dbt_vars", "message"),
    [
        ({"rfm_tie_rule": "dense"}, "Unknown rfm_tie_rule 'dense'"),
        ({"rfm_bins": 12}, "rfm_bins must be between 2 and 9"),
    ],
)
def test_bad_rfm_vars_fail_with_the_fix(run_dbt, dbt_vars, message):
    result = run_dbt(
        ["compile", "--select", "fct_customer_rfm"],
        {"input_format": "transactions", "input_path": "missing.csv", **dbt_vars},
    )
    assert result.returncode != 0
    assert message in result.output


def _pandas_transitions(conn, rule: str, bins: int = 5, months_kept: int = 13):
    """Segment moves recomputed the long way: every customer's totals at
    every month end, scored by pandas ranks, segments from the seed, and
    each customer's segment joined to the month end before."""
    months = conn.execute(
        "select customer_id, order_month, orders, last_order_date, "
        "cast(net_revenue * 10000 as bigint) as net "  # exact sums, in 1/10000
        "from int_customers_active_monthly"
    ).df()
    as_of = conn.execute("select max(as_of_date) from fct_customer_rfm").fetchall()
    segment_map = conn.execute("select * from rfm_segment_map").df()
    spine = pd.date_range(
        months["order_month"].min(), months["order_month"].max(), freq="MS"
    )
    snapshots = spine[-months_kept:]
    segments = {}
    for month in snapshots:
        upto = months[months["order_month"] <= month]
        totals = upto.groupby("customer_id").agg(
            frequency=("orders", "sum"),
            last_order_date=("last_order_date", "max"),
            monetary=("net", "sum"),
        )
        totals = totals[totals["frequency"] > 0].sort_index()
        snapshot_date = min(month + pd.DateOffset(months=1), pd.Timestamp(as_of[0][0]))
        totals["recency_days"] = (
            snapshot_date - pd.to_datetime(totals["last_order_date"])
        ).dt.days
        n = len(totals)
        scores = {}
        for prefix, value, ascending in [
            ("r", "recency_days", False),
            ("f", "frequency", True),
            ("m", "monetary", True),
        ]:
            if rule == "equal_values":  # rank - 1 = customers with a worse value
                worse = totals[value].rank(method="min", ascending=ascending) - 1
                scores[prefix] = (1 + (bins * worse // n)).astype(int)
            else:  # qcut of ranks, ties in customer_id order (sorted index)
                labels = list(range(1, bins + 1))
                ranks = totals[value].rank(method="first")
                scores[prefix] = (
                    pd.qcut(
                        ranks, bins, labels=labels if ascending else labels[::-1]
                    ).astype(int)
                    if n > 1
                    else pd.Series(1, index=totals.index)
                )
        fm = (scores["f"] + scores["m"] + 1) // 2
        cells = pd.DataFrame({"r": scores["r"], "fm": fm})
        segment = pd.Series(index=cells.index, dtype=object)
        for row in segment_map.itertuples():
            hit = cells["r"].between(row.r_score_min, row.r_score_max) & cells[
                "fm"
            ].between(row.fm_score_min, row.fm_score_max)
            segment[hit] = row.segment
        segments[month] = segment
    moves = []
    for before, month in zip(snapshots[:-1], snapshots[1:], strict=True):
        frm = segments[before].reindex(segments[month].index).fillna("(new customer)")
        counts = pd.DataFrame({"from_segment": frm, "to_segment": segments[month]})
        counts = counts.value_counts().rename("customers").reset_index()
        counts["to_month"] = month.date()
        moves.append(counts)
    return pd.concat(moves)


@pytest.mark.parametrize("rule", ["equal_values", "rank_first"])
def test_segment_transitions_match_a_pandas_recomputation(run_dbt, rule):
    """fct_rfm_segment_transitions scores the month before from thresholds
    (equal_values) or by a join to it (rank_first); both must give the moves
    of scoring every customer at every month end from scratch."""
    path = require(ONLINE_RETAIL)
    result = run_dbt(
        ["build", *SELECT[:2], "+fct_rfm_segment_transitions", *SELECT[2:]],
        {
            "input_format": "online_retail",
            "input_path": str(path),
            "rfm_tie_rule": rule,
        },
    )
    assert result.returncode == 0, result.output
    with __import__("duckdb").connect(str(result.warehouse), read_only=True) as conn:
        expected = _pandas_transitions(conn, rule)
        actual = conn.execute(
            "select to_month, from_segment, to_segment, customers "
            "from fct_rfm_segment_transitions"
        ).df()
    key = ["to_month", "from_segment", "to_segment"]
    expected = expected[[*key, "customers"]].sort_values(key).reset_index(drop=True)
    actual = actual.sort_values(key).reset_index(drop=True)
    actual["to_month"] = pd.to_datetime(actual["to_month"]).dt.date
    assert len(actual) > 100
    assert (actual["from_segment"] != "(new customer)").sum() > 50
    pd.testing.assert_frame_equal(
        actual.astype({"customers": "int64"}), expected.astype({"customers": "int64"})
    )

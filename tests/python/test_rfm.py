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

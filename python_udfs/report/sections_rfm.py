"""Report sections on RFM: the segments and their month-to-month migration."""

from __future__ import annotations

import plotly.graph_objects as go

from python_udfs.report.charts import (
    _BLUE,
    _GREY,
    _add_bars,
    _chart_section,
    _heatmap,
    _style,
)
from python_udfs.report.formatting import _month, _num, _pct, _short_month, _text
from python_udfs.report.page import (
    _Cell,
    _Context,
    _empty_section,
    _mart_rows,
    _missing_section,
    _Section,
    _share_takeaway,
    _Table,
)
from python_udfs.report.warehouse import _Warehouse

_NEW_CUSTOMER = "(new customer)"


def _segments_section(wh: _Warehouse, ctx: _Context) -> _Section:
    title = "RFM segments"
    df = _mart_rows(
        wh, "segments", title, "fct_rfm_segment_summary", "rfm_segment_summary"
    )
    if isinstance(df, _Section):
        return df
    if not df["customers"].sum():
        return _empty_section(
            "segments",
            title,
            "No customer has a sale up to the as-of date, so none has an RFM "
            "segment (fct_rfm_segment_summary lists the segments with 0).",
        )
    takeaway = _share_takeaway(
        df,
        "segment",
        lambda top: (
            f"{top['segment']} are {_pct(top['customer_share'])} of customers and "
            f"bring {_pct(top['revenue_share'])} of net revenue"
        ),
        lambda largest: (
            f"; {largest['segment']} is the largest segment "
            f"({_pct(largest['customer_share'])} of customers, "
            f"{_pct(largest['revenue_share'])} of revenue)."
        ),
    )
    fig = go.Figure()
    _add_bars(
        fig,
        df["segment"],
        [
            (df["customer_share"] * 100, "% of customers", _GREY),
            (df["revenue_share"] * 100, "% of net revenue", _BLUE),
        ],
        "%{y}<br>%{x:.1f}{name}<extra></extra>",
        orientation="h",
    )
    _style(
        fig,
        max(300, 34 * len(df) + 90),
        barmode="group",
        bargap=0.25,
        bargroupgap=0.05,
        xaxis={"title": "Share (%)", "ticksuffix": "%"},
        yaxis={"autorange": "reversed", "automargin": True},
        margin={"l": 140, "r": 24, "t": 36, "b": 48},
    )
    table = _Table(
        columns=[
            "Segment",
            "Customers",
            "Net revenue",
            "Avg recency (days)",
            "Avg orders",
            "Avg net revenue",
            "Recommended action",
        ],
        rows=[
            [
                _Cell([_text(r["segment"])], _text(r["description"])),
                _Cell([_num(r["customers"])], _pct(r["customer_share"])),
                _Cell([_num(r["net_revenue"])], _pct(r["revenue_share"])),
                _num(r["avg_recency_days"]),
                _num(r["avg_frequency"], 1),
                _num(r["avg_monetary"]),
                _text(r["recommended_action"]),
            ]
            for _, r in df.iterrows()
        ],
        numeric={1, 2, 3, 4, 5},
        wide={0, 6},
        caption="RFM segment summary, in priority order",
    )
    return _chart_section(
        "segments",
        title,
        (
            "Customers scored on recency, frequency and monetary value and named "
            "by segment; the table says what to do with each."
        ),
        fig,
        takeaway,
        tables=[table],
    )


def _migration_section(wh: _Warehouse, ctx: _Context) -> _Section:
    title = "Segment migration"
    if missing := wh.missing("fct_rfm_segment_transitions"):
        return _missing_section("migration", title, missing)
    df = wh.df("latest_segment_transitions")
    if df.empty:
        return _empty_section(
            "migration",
            title,
            "fct_rfm_segment_transitions has no rows: it needs at least two "
            "month ends.",
        )
    order: list[str] = []
    if "fct_rfm_segment_summary" in wh.tables:
        order = wh.column("segment_order")
    seen = set(df["from_segment"]) | set(df["to_segment"])
    order = [s for s in order if s in seen] + sorted(
        seen - set(order) - {_NEW_CUSTOMER}
    )
    from_order = ([_NEW_CUSTOMER] if _NEW_CUSTOMER in seen else []) + order
    counts = (
        df.pivot_table(
            index="from_segment",
            columns="to_segment",
            values="customers",
            aggfunc="sum",
        )
        .reindex(index=from_order, columns=order)
        .fillna(0)
    )
    row_share = counts.div(counts.sum(axis=1).where(lambda s: s > 0), axis=0) * 100
    existing = df[df["from_segment"] != _NEW_CUSTOMER]
    stayed = existing.loc[existing["is_same_segment"], "customers"].sum()
    moved = existing[~existing["is_same_segment"]]
    new = df.loc[df["from_segment"] == _NEW_CUSTOMER, "customers"].sum()
    from_month, to_month = df["from_month"].iloc[0], df["to_month"].iloc[0]
    takeaway = (
        f"From the end of {_month(from_month)} to the end of {_month(to_month)}, "
        f"{_pct(stayed / existing['customers'].sum() if len(existing) else 0, 0)} "
        "of customers stayed in their segment"
    )
    if not moved.empty:
        biggest = moved.loc[moved["customers"].idxmax()]
        takeaway += (
            f"; the largest move was {_num(biggest['customers'])} customers from "
            f"{biggest['from_segment']} to {biggest['to_segment']}"
        )
    takeaway += f"; {_num(new)} new customers joined." if new else "."
    fig = _heatmap(
        row_share.values,
        list(counts.columns),
        list(counts.index),
        (
            "%{y} \u2192 %{x}<br>%{customdata:,} customers "
            "(%{z:.1f}% of %{y})<extra></extra>"
        ),
        {"title": {"text": "% of row"}, "ticksuffix": "%"},
        customdata=counts.values,
        zmin=0,
        zmax=100,
        text=counts.astype(int).astype(str).where(counts > 0, "").values,
        texttemplate="%{text}",
        textfont={"size": 10},
        xgap=1,
        ygap=1,
    )
    _style(
        fig,
        max(340, 30 * len(from_order) + 150),
        xaxis={
            "title": f"Segment at the end of {_short_month(to_month)}",
            "tickangle": -35,
            "automargin": True,
        },
        yaxis={
            "title": f"Segment at the end of {_short_month(from_month)}",
            "autorange": "reversed",
            "automargin": True,
        },
        margin={"l": 150, "r": 24, "t": 16, "b": 110},
    )
    return _chart_section(
        "migration",
        title,
        (
            "Where each segment's customers were one month later: numbers are "
            "customers, colour is the share of the row."
        ),
        fig,
        takeaway,
    )

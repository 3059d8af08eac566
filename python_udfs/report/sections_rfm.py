"""Report sections on RFM: the segments and their month-to-month migration."""

from __future__ import annotations

import plotly.graph_objects as go

from python_udfs.report.charts import (
    _BLUE,
    _GREY,
    _HEATMAP,
    _chart,
    _style,
)
from python_udfs.report.formatting import (
    _month,
    _num,
    _pct,
    _short_month,
    _text,
)
from python_udfs.report.page import (
    _Cell,
    _Context,
    _empty_section,
    _missing_section,
    _Section,
    _Table,
)
from python_udfs.report.warehouse import _Warehouse

_NEW_CUSTOMER = "(new customer)"


def _segments_section(wh: _Warehouse, ctx: _Context) -> _Section:
    title = "RFM segments"
    if missing := wh.missing("fct_rfm_segment_summary"):
        return _missing_section("segments", title, missing)
    df = wh.df("rfm_segment_summary")
    if df.empty:
        return _empty_section("segments", title, "fct_rfm_segment_summary has no rows.")
    top = df.loc[df["revenue_share"].idxmax()]
    largest = df.loc[df["customers"].idxmax()]
    takeaway = (
        f"{top['segment']} are {_pct(top['customer_share'])} of customers and bring "
        f"{_pct(top['revenue_share'])} of net revenue"
    )
    if largest["segment"] != top["segment"]:
        takeaway += (
            f"; {largest['segment']} is the largest segment "
            f"({_pct(largest['customer_share'])} of customers, "
            f"{_pct(largest['revenue_share'])} of revenue)."
        )
    else:
        takeaway += "."
    fig = go.Figure()
    fig.add_bar(
        y=df["segment"],
        x=df["customer_share"] * 100,
        name="% of customers",
        orientation="h",
        marker_color=_GREY,
        hovertemplate="%{y}<br>%{x:.1f}% of customers<extra></extra>",
    )
    fig.add_bar(
        y=df["segment"],
        x=df["revenue_share"] * 100,
        name="% of net revenue",
        orientation="h",
        marker_color=_BLUE,
        hovertemplate="%{y}<br>%{x:.1f}% of net revenue<extra></extra>",
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
    return _Section(
        id="segments",
        title=title,
        intro=(
            "Customers scored on recency, frequency and monetary value and named "
            "by segment; the table says what to do with each."
        ),
        charts=[_chart(fig, "segments", takeaway)],
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
    fig = go.Figure(
        go.Heatmap(
            z=row_share.values,
            x=list(counts.columns),
            y=list(counts.index),
            customdata=counts.values,
            colorscale=_HEATMAP,
            zmin=0,
            zmax=100,
            text=counts.astype(int).astype(str).where(counts > 0, "").values,
            texttemplate="%{text}",
            textfont={"size": 10},
            hovertemplate=(
                "%{y} \u2192 %{x}<br>%{customdata:,} customers "
                "(%{z:.1f}% of %{y})<extra></extra>"
            ),
            colorbar={"title": {"text": "% of row"}, "ticksuffix": "%"},
            xgap=1,
            ygap=1,
        )
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
    return _Section(
        id="migration",
        title=title,
        intro=(
            "Where each segment's customers were one month later: numbers are "
            "customers, colour is the share of the row."
        ),
        charts=[_chart(fig, "migration", takeaway)],
    )

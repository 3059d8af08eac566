"""Report sections on revenue: by month, by weekday and hour, by store."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from python_udfs.report.charts import (
    _BLUE,
    _GREEN,
    _GREY,
    _LIGHT_BLUE,
    _RED,
    _chart_section,
    _heatmap,
    _style,
)
from python_udfs.report.formatting import (
    _date,
    _is_missing,
    _money,
    _month,
    _pct,
    _short_month,
    _signed_pct,
    _text,
)
from python_udfs.report.page import _Context, _mart_rows, _Section
from python_udfs.report.warehouse import _Warehouse

_WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def _revenue_section(wh: _Warehouse, ctx: _Context) -> _Section:
    title = "Monthly net revenue"
    df = _mart_rows(wh, "revenue", title, "fct_revenue_monthly", "revenue_monthly")
    if isinstance(df, _Section):
        return df
    df["month"] = pd.to_datetime(df["month"])
    ref = ctx.reference_month
    if ref is None:
        takeaway = "There is no complete month yet to report on."
    else:
        row = df[df["month"] == ref].iloc[0]
        growth = row["net_revenue_growth_pct"]
        if _is_missing(growth):
            takeaway = (
                f"Net revenue was {_money(row['net_revenue'])} in {_month(ref)}, "
                "the first month with orders."
            )
        else:
            verb = "grew" if growth >= 0 else "fell"
            takeaway = (
                f"Net revenue {verb} {abs(growth):.1f}% in {_month(ref)}, the last "
                f"full month, to {_money(row['net_revenue'])}."
            )
    if ctx.partial_month is not None:
        takeaway += (
            f" {_month(ctx.partial_month)} is incomplete (data up to "
            f"{_date(ctx.as_of - pd.Timedelta(days=1))}) and drawn lighter."
        )
    partial = df["month"] == ctx.partial_month
    colors = [_LIGHT_BLUE if p else _BLUE for p in partial]
    growth = df["net_revenue_growth_pct"]
    labels = [
        "partial" if p else ("" if _is_missing(g) else _signed_pct(g, 0))
        for p, g in zip(partial, growth, strict=True)
    ]
    label_colors = [
        _GREY if p else (_RED if g < 0 else _GREEN)
        for p, g in zip(partial, growth.fillna(0), strict=True)
    ]
    fig = go.Figure()
    fig.add_bar(
        x=[_short_month(m) for m in df["month"]],
        y=df["net_revenue"],
        name="Net revenue",
        marker_color=colors,
        # Growth on top of each bar, green up and red down.
        text=labels,
        textposition="outside",
        textfont={"color": label_colors},
        cliponaxis=False,
        customdata=df[["gross_revenue", "returns_amount", "orders"]].assign(
            growth=growth
        ),
        hovertemplate=(
            "%{x}<br>Net revenue %{y:,.0f} (%{customdata[3]:+.1f}%)"
            "<br>Gross %{customdata[0]:,.0f}<br>Returns %{customdata[1]:,.0f}"
            "<br>Orders %{customdata[2]:,}<extra></extra>"
        ),
    )
    _style(
        fig,
        360,
        yaxis={
            "title": "Net revenue",
            "tickformat": "~s",
            "range": [0, float(df["net_revenue"].max()) * 1.12],
        },
        xaxis={"type": "category"},
        bargap=0.25,
        showlegend=False,
        margin={"t": 20},
    )
    return _chart_section(
        "revenue",
        title,
        (
            "Net revenue = sales minus returns, by calendar month; labels give "
            "the change from the previous month."
        ),
        fig,
        takeaway,
    )


def _weekday_hour_section(wh: _Warehouse, ctx: _Context) -> _Section:
    title = "When customers buy"
    df = _mart_rows(
        wh,
        "weekday-hour",
        title,
        "fct_revenue_by_weekday_hour",
        "revenue_by_weekday_hour",
    )
    if isinstance(df, _Section):
        return df
    total = df["net_revenue"].sum()
    busy = df[df["orders"] > 0]
    if busy.empty:
        busy = df
    hours = list(
        range(int(busy["hour_of_day"].min()), int(busy["hour_of_day"].max()) + 1)
    )
    grid = (
        df.pivot_table(
            index="iso_weekday",
            columns="hour_of_day",
            values="net_revenue",
            aggfunc="sum",
        )
        .reindex(index=range(1, 8), columns=hours)
        .fillna(0.0)
    )
    names = dict(zip(df["iso_weekday"], df["weekday_name"], strict=False))
    peak = df.loc[df["net_revenue"].idxmax()]
    by_day = df.groupby("iso_weekday")["net_revenue"].sum()
    best_day = int(by_day.idxmax())
    orders_by_day = busy.groupby("iso_weekday")["orders"].sum()
    empty_days = [_WEEKDAYS[d - 1] for d in range(1, 8) if orders_by_day.get(d, 0) == 0]
    takeaway = (
        f"Revenue peaks on {names.get(int(peak['iso_weekday']), peak['weekday_name'])} "
        f"{int(peak['hour_of_day']):02d}:00\u2013{int(peak['hour_of_day']) + 1:02d}:00 "
        f"({_pct(peak['net_revenue'] / total)} of net revenue); "
        f"{names.get(best_day, _WEEKDAYS[best_day - 1])} is the strongest day "
        f"({_pct(by_day[best_day] / total, 0)})"
    )
    takeaway += f"; no orders on {', '.join(empty_days)}." if empty_days else "."
    fig = _heatmap(
        grid.values,
        [f"{h:02d}" for h in hours],
        _WEEKDAYS,
        "%{y} %{x}:00<br>Net revenue %{z:,.0f}<extra></extra>",
        {"title": {"text": "Net revenue"}, "tickformat": "~s"},
        xgap=1,
        ygap=1,
    )
    _style(
        fig,
        330,
        xaxis={"title": "Hour of day (reporting time zone)", "type": "category"},
        yaxis={"autorange": "reversed"},
    )
    return _chart_section(
        "weekday-hour",
        title,
        "Net revenue by weekday and hour of the order.",
        fig,
        takeaway,
    )


def _store_section(wh: _Warehouse, ctx: _Context) -> _Section:
    title = "Revenue by store"
    df = _mart_rows(wh, "stores", title, "fct_revenue_by_store_monthly", "store_totals")
    if isinstance(df, _Section):
        return df
    df["store_id"] = df["store_id"].map(lambda v: _text(v) or "(none)")
    total = df["net_revenue"].sum()
    if len(df) == 1:
        return _Section(
            id="stores",
            title=title,
            status="empty",
            note=(
                f"All net revenue ({_money(total)}) is in one store, "
                f"{df['store_id'].iloc[0]!r}: the input has no store column or a "
                "single store."
            ),
        )
    top_n = 12
    shown = df.head(top_n).copy()
    if len(df) > top_n:
        rest = df.iloc[top_n:]
        shown.loc[len(shown)] = [
            f"Other ({len(rest)} stores)",
            rest["net_revenue"].sum(),
            rest["orders"].sum(),
            None,
        ]
    first, second = df.iloc[0], df.iloc[1]
    top3 = df.head(3)["net_revenue"].sum() / total
    takeaway = (
        f"The largest store, {first['store_id']}, brings "
        f"{_pct(first['net_revenue'] / total)} of net revenue; the next, "
        f"{second['store_id']}, {_pct(second['net_revenue'] / total)}."
    )
    if len(df) > 3:
        takeaway += f" The top 3 of {len(df)} stores make {_pct(top3, 0)}."
    shares = shown["net_revenue"] / total
    fig = go.Figure(
        go.Bar(
            x=shown["net_revenue"],
            y=shown["store_id"],
            orientation="h",
            marker_color=[
                _GREY if s.startswith("Other (") else _BLUE for s in shown["store_id"]
            ],
            text=[_pct(s) for s in shares],
            textposition="outside",
            cliponaxis=False,
            customdata=shown[["orders"]],
            hovertemplate=(
                "%{y}<br>Net revenue %{x:,.0f}<br>Orders %{customdata[0]:,}"
                "<extra></extra>"
            ),
        )
    )
    _style(
        fig,
        max(260, 28 * len(shown) + 80),
        xaxis={"title": "Net revenue (whole period)", "tickformat": "~s"},
        yaxis={"autorange": "reversed", "automargin": True},
        margin={"l": 140, "r": 60, "t": 16, "b": 48},
        showlegend=False,
    )
    return _chart_section(
        "stores",
        title,
        "Net revenue over the whole period by store (country, branch or market).",
        fig,
        takeaway,
    )

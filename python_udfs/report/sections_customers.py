"""Report sections on customers: active/new/returning, cohorts, the funnel."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from python_udfs.report.charts import (
    _BLUE,
    _GREY,
    _LIGHT_BLUE,
    _ORANGE,
    _PERCENT_AXIS,
    _add_bars,
    _add_percent_line,
    _chart_section,
    _heatmap,
    _style,
)
from python_udfs.report.formatting import (
    _date,
    _is_missing,
    _month,
    _num,
    _pct,
    _short_month,
)
from python_udfs.report.page import (
    _Context,
    _empty_section,
    _mart_rows,
    _missing_section,
    _Section,
)
from python_udfs.report.warehouse import _Warehouse

_MAX_COHORTS = 36  # rows of the cohort heatmap


def _customers_section(wh: _Warehouse, ctx: _Context) -> _Section:
    title = "Active, new and returning customers"
    df = _mart_rows(
        wh, "customers", title, "fct_customers_monthly", "customers_monthly"
    )
    if isinstance(df, _Section):
        return df
    df["month"] = pd.to_datetime(df["month"])
    ref = ctx.reference_month
    refs = df[df["month"] == ref] if ref is not None else df.iloc[0:0]
    if refs.empty:
        refs = df.tail(1)
    row = refs.iloc[0]
    takeaway = (
        f"In {_month(row['month'])}, {_num(row['active_customers'])} customers "
        f"bought: {_num(row['new_customers'])} new "
        f"({_pct(row['new_customer_ratio'], 0)}) and "
        f"{_num(row['returning_customers'])} returning"
    )
    if not _is_missing(row["retention_rate"]):
        takeaway += (
            f"; {_pct(row['retention_rate'], 0)} of the previous month's "
            "customers came back."
        )
    else:
        takeaway += "."
    months = [_short_month(m) for m in df["month"]]
    fig = go.Figure()
    opacity = [0.45 if m == ctx.partial_month else 1.0 for m in df["month"]]
    _add_bars(
        fig,
        months,
        [
            (df["returning_customers"], "Returning", _BLUE),
            (df["new_customers"], "New", _LIGHT_BLUE),
        ],
        "%{x}<br>{name} %{y:,}<extra></extra>",
        marker_opacity=opacity,
    )
    _add_percent_line(
        fig,
        months,
        df["retention_rate"] * 100,
        "Retention rate (%)",
        "%{x}<br>Retention %{y:.1f}%<extra></extra>",
    )
    _style(
        fig,
        380,
        barmode="stack",
        bargap=0.25,
        yaxis={"title": "Active customers", "tickformat": "~s"},
        yaxis2={"title": "Retention (%)", "range": [0, 100], **_PERCENT_AXIS},
        xaxis={"type": "category"},
        legend_traceorder="normal",
    )
    return _chart_section(
        "customers",
        title,
        (
            "Active = bought in the month; new = first purchase that month; "
            "retention = share of last month's customers who bought again."
        ),
        fig,
        takeaway,
    )


def _cohort_section(wh: _Warehouse, ctx: _Context) -> _Section:
    title = "Cohort retention"
    df = _mart_rows(wh, "cohorts", title, "fct_cohort_retention", "cohort_retention")
    if isinstance(df, _Section):
        return df
    df["cohort_month"] = pd.to_datetime(df["cohort_month"])
    df["month"] = pd.to_datetime(df["month"])
    cohorts = sorted(df["cohort_month"].unique())
    dropped = max(0, len(cohorts) - _MAX_COHORTS)
    if dropped:  # keep the page readable: the latest cohorts only
        df = df[df["cohort_month"] >= cohorts[dropped]]
    grid = df.pivot(index="cohort_month", columns="m", values="retention_rate")
    sizes = df.groupby("cohort_month")["cohort_customers"].max()
    later = df[df["m"] >= 1]
    # An incomplete last month understates retention: leave it out of the sums.
    month1 = df[(df["m"] == 1) & (df["month"] != ctx.partial_month)]
    if month1.empty:
        takeaway = "No cohort is old enough yet to show repeat purchases."
    else:
        weighted = (month1["retention_rate"] * month1["cohort_customers"]).sum()
        avg1 = weighted / month1["cohort_customers"].sum()
        best = month1.loc[month1["retention_rate"].idxmax()]
        takeaway = (
            f"On average {_pct(avg1, 0)} of a cohort buys again the month after "
            "its first purchase; the best cohort, "
            f"{_short_month(best['cohort_month'])} "
            f"({_num(best['cohort_customers'])} customers), kept "
            f"{_pct(best['retention_rate'], 0)}."
        )
    labels = [f"{_short_month(c)} ({_num(sizes[c])})" for c in grid.index]
    z = (grid * 100).round(1)
    zmax = float(later["retention_rate"].max() * 100) if not later.empty else 100.0
    show_text = len(grid.columns) <= 25
    fig = _heatmap(
        z.values,
        [str(c) for c in grid.columns],
        labels,
        "Cohort %{y}<br>Month %{x}: %{z:.1f}% active<extra></extra>",
        {"title": {"text": "% active"}, "ticksuffix": "%"},
        zmin=0,
        zmax=max(zmax, 1.0),
        texttemplate="%{z:.0f}" if show_text else None,
        textfont={"size": 10},
        hoverongaps=False,
    )
    _style(
        fig,
        max(320, 22 * len(grid) + 110),
        xaxis={"title": "Months since first purchase", "side": "bottom"},
        yaxis={"autorange": "reversed", "title": None},
        margin={"l": 130, "r": 24, "t": 24, "b": 48},
    )
    return _chart_section(
        "cohorts",
        title,
        (
            "Each row is the customers who first bought in that month (size in "
            "brackets); cells show the % who bought again N months later. "
            "Month 0 is always 100% and the colour scale starts at month 1."
            + (f" Showing the latest {_MAX_COHORTS} cohorts." if dropped else "")
            + (
                f" The last diagonal is {_month(ctx.partial_month)}, an incomplete "
                "month."
                if ctx.partial_month is not None
                else ""
            )
        ),
        fig,
        takeaway,
    )


def _funnel_section(wh: _Warehouse, ctx: _Context, input_format: str) -> _Section:
    title = "Conversion funnel"
    if missing := wh.missing("fct_funnel_daily"):
        return _missing_section("funnel", title, missing)
    row = wh.df("funnel_totals").iloc[0]
    if not row["days"]:
        fmt = f" (input format: {input_format})" if input_format != "unknown" else ""
        return _empty_section(
            "funnel",
            title,
            f"The input has no clickstream events{fmt}, so there is no "
            "conversion funnel: it is built from an events input (views, carts "
            "and purchases).",
        )
    viewed, carted, purchased = (
        float(row[c] or 0) for c in ("viewed", "carted", "purchased")
    )

    first_day, last_day = _date(row["first_day"]), _date(row["last_day"])
    days = f"on {first_day}" if first_day == last_day else f"{first_day} to {last_day}"
    takeaway = (
        f"Of the users who viewed a product, {_pct(row['view_to_cart'])} added one "
        f"to the cart and {_pct(row['view_to_purchase'])} bought; of those who "
        f"carted, {_pct(row['cart_to_purchase'])} bought ({days})."
    )
    fig = go.Figure(
        go.Funnel(
            y=["Viewed", "Added to cart", "Purchased"],
            x=[viewed, carted, purchased],
            textinfo="value+percent initial",
            marker={"color": [_BLUE, _LIGHT_BLUE, _ORANGE]},
            connector={"line": {"color": _GREY, "width": 1}},
            hovertemplate="%{y}: %{x:,} user-days<extra></extra>",
        )
    )
    _style(fig, 300, margin={"l": 120, "r": 24, "t": 16, "b": 24}, showlegend=False)
    return _chart_section(
        "funnel",
        title,
        (
            "Users who viewed, carted and purchased, summed over the days of "
            "fct_funnel_daily (a user active on two days counts twice); "
            "rates are the mart's, weighted by users."
            + (
                " More users purchased than carted: some buy without the cart."
                if purchased > carted
                else ""
            )
        ),
        fig,
        takeaway,
    )

"""Report sections on customer lifetime value and its validation."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from python_udfs.report.charts import (
    _BLUE,
    _GREY,
    _ORANGE,
    _PERCENT_AXIS,
    _RED,
    _add_bars,
    _add_percent_line,
    _chart,
    _chart_section,
    _style,
)
from python_udfs.report.formatting import (
    _date,
    _is_missing,
    _money,
    _num,
    _pct,
    _power_of_ten,
    _signed_pct,
    _text,
)
from python_udfs.report.page import (
    _Context,
    _empty_section,
    _missing_section,
    _Section,
    _Table,
)
from python_udfs.report.warehouse import _Warehouse


def _clv_section(wh: _Warehouse, ctx: _Context, variables: dict[str, Any]) -> _Section:
    title = "Customer lifetime value"
    if missing := wh.missing("fct_customer_clv", "fct_clv_summary"):
        return _missing_section(
            "clv",
            title,
            missing,
            intro="Predicted value of each customer over the coming months.",
        )
    summary = wh.df("clv_summary")
    stats = wh.df("clv_stats").iloc[0]
    if summary.empty or not stats["customers"]:
        return _empty_section("clv", title, "fct_customer_clv has no rows.")
    horizon = int(stats["horizon"])
    top = summary[summary["clv_decile"] == 1]
    top_share = float(top["predicted_clv_share"].iloc[0]) if len(top) else float("nan")
    takeaway1 = (
        f"The top 10% of customers hold {_pct(top_share, 0)} of the predicted "
        f"{horizon}-month CLV of {_money(stats['total'])}; the median customer is "
        f"worth {_money(stats['median'])}."
    )
    # Histogram on a log10 axis, binned in SQL so a million customers stay cheap.
    hist = wh.df("clv_histogram")
    below_one = int(wh.scalar("clv_below_one") or 0)
    fig1 = go.Figure(
        go.Bar(
            x=hist["bin"] + 0.125,
            y=hist["customers"],
            width=0.24,
            marker_color=_BLUE,
            customdata=pd.DataFrame(
                {"lo": 10 ** hist["bin"], "hi": 10 ** (hist["bin"] + 0.25)}
            ),
            hovertemplate=(
                "CLV %{customdata[0]:,.0f} \u2013 %{customdata[1]:,.0f}"
                "<br>%{y:,} customers<extra></extra>"
            ),
        )
    )
    lo = int(math.floor(hist["bin"].min())) if len(hist) else 0
    hi = int(math.ceil(hist["bin"].max() + 0.25)) if len(hist) else 1
    ticks = list(range(lo, hi + 1))
    _style(
        fig1,
        320,
        xaxis={
            "title": f"Predicted {horizon}-month CLV (log scale)"
            + (
                f"; {below_one:,} {'customer' if below_one == 1 else 'customers'} "
                "below 1 not shown"
                if below_one
                else ""
            ),
            "tickvals": ticks,
            "ticktext": [_power_of_ten(t) for t in ticks],
            "range": [lo, hi],
        },
        yaxis={
            "title": "Customers",
            "tickformat": "~s",
            "range": [0, float(hist["customers"].max() if len(hist) else 1) * 1.2],
            "dtick": 1 if len(hist) and hist["customers"].max() <= 5 else None,
        },
        bargap=0,
        showlegend=False,
    )
    if not _is_missing(stats["median"]) and stats["median"] >= 1:
        fig1.add_vline(
            x=math.log10(float(stats["median"])),
            line={"color": _ORANGE, "width": 2, "dash": "dash"},
            annotation_text=f"median {_money(stats['median'])}",
            annotation_position="top right",
            annotation_font_color=_ORANGE,
        )
    at_risk = float(summary["revenue_at_risk"].sum())
    historic = float(summary["historic_revenue"].sum())
    threshold = variables.get("clv_at_risk_p_alive")
    rule = (
        f"P(alive) below {threshold}"
        if threshold is not None
        else "P(alive) below the at-risk threshold (clv_at_risk_p_alive)"
    )
    takeaway2 = (
        f"Revenue at risk: {_money(at_risk)} "
        f"({_pct(at_risk / historic if historic else float('nan'))} of historic "
        f"revenue) comes from customers with {rule}; the average customer is "
        f"{_pct(stats['p_alive'])} likely to still be active."
    )
    labels = [f"D{int(d)}" for d in summary["clv_decile"]]
    fig2 = go.Figure()
    fig2.add_bar(
        x=labels,
        y=summary["predicted_clv"],
        name=f"Predicted {horizon}-month CLV",
        marker_color=_BLUE,
        customdata=summary[["customers", "predicted_clv_share"]],
        hovertemplate=(
            "Decile %{x}: %{customdata[0]:,} customers<br>Predicted CLV %{y:,.0f} "
            "(%{customdata[1]:.1%})<extra></extra>"
        ),
    )
    _add_bars(
        fig2,
        labels,
        [
            (summary["historic_revenue"], "Historic revenue", _GREY),
            (summary["revenue_at_risk"], "Revenue at risk", _RED),
        ],
        "Decile %{x}<br>{name} %{y:,.0f}<extra></extra>",
    )
    _add_percent_line(
        fig2,
        labels,
        summary["cumulative_predicted_clv_share"] * 100,
        "Cumulative % of predicted CLV",
        "Deciles 1\u2013%{x}: %{y:.1f}% of predicted CLV<extra></extra>",
    )
    _style(
        fig2,
        380,
        barmode="group",
        bargap=0.2,
        xaxis={"title": "CLV decile (D1 = top 10%)"},
        yaxis={"title": "Amount", "tickformat": "~s"},
        yaxis2={"title": "Cumulative share (%)", "range": [0, 105], **_PERCENT_AXIS},
    )
    tables = [_top_customers_table(wh, horizon)]
    return _Section(
        id="clv",
        title=title,
        intro=(
            f"Predicted value of each customer over the next {horizon} months "
            "(transaction model x Gamma-Gamma order value, discounted), by "
            "decile of predicted CLV."
        ),
        charts=[
            _chart(fig1, "clv-distribution", takeaway1),
            _chart(fig2, "clv-deciles", takeaway2),
        ],
        tables=tables,
    )


def _top_customers_table(wh: _Warehouse, horizon: int) -> _Table:
    df = wh.df(
        "top_customers"
        if "dim_customers" in wh.tables
        else "top_customers_without_dim_customers"
    )
    return _Table(
        columns=[
            "Rank",
            "Customer",
            "RFM segment",
            "Cluster",
            "P(alive)",
            "Repeat purchases",
            "Historic value",
            f"Expected purchases, {horizon} m",
            f"Predicted CLV, {horizon} m",
        ],
        rows=[
            [
                _num(r["clv_rank"]),
                str(r["customer_id"]),
                _text(r["rfm_segment"]) or "-",
                _text(r["cluster_name"]) or "-",
                _pct(r["p_alive"]),
                _num(r["frequency"]),
                _num(r["historic_value"]),
                _num(r["expected_purchases_long"], 1),
                _num(r["clv_long"]),
            ]
            for _, r in df.iterrows()
        ],
        numeric={0, 4, 5, 6, 7, 8},
        caption="Top 20 customers by predicted CLV",
    )


def _validation_section(wh: _Warehouse, ctx: _Context) -> _Section:
    title = "CLV model validation"
    if missing := wh.missing("fct_clv_validation"):
        return _missing_section(
            "clv-validation",
            title,
            missing,
            intro="Predicted against actual repeat purchases on a holdout period.",
        )
    df = wh.df("clv_validation")
    if df.empty:
        return _empty_section(
            "clv-validation", title, "fct_clv_validation has no rows."
        )
    overall = df[df["group_name"] == "all"]
    groups = df[df["group_name"] != "all"].sort_values("calibration_frequency_min")
    if len(overall):
        o = overall.iloc[0]
        days = (
            pd.Timestamp(o["holdout_end"]) - pd.Timestamp(o["calibration_end"])
        ).days
        takeaway = (
            f"Refitted on data up to {_date(o['calibration_end'])} and tested on the "
            f"{days} days to {_date(o['holdout_end'])}, the model predicted "
            f"{_num(o['predicted_repeat_purchases'])} repeat purchases against "
            f"{_num(o['actual_repeat_purchases'])} actual"
        )
        if not _is_missing(o["error_pct"]):
            takeaway += f" ({_signed_pct(float(o['error_pct']))})"
        if not _is_missing(o["correlation"]):
            takeaway += f"; per-customer correlation {float(o['correlation']):.2f}"
        takeaway += "."
    else:
        takeaway = "Predicted against actual repeat purchases by calibration frequency."
    labels = [str(g).replace("frequency ", "") for g in groups["group_name"]]
    groups = groups.assign(label=labels)
    sizable = groups[groups["customers"] >= 30].dropna(subset=["error_pct"])
    if len(sizable):
        worst = sizable.loc[sizable["error_pct"].abs().idxmax()]
        direction = "under" if worst["error_pct"] < 0 else "over"
        noun = "purchase" if worst["label"] == "1" else "purchases"
        takeaway += (
            f" It {direction}-predicts most for customers with {worst['label']} "
            f"repeat {noun} in calibration "
            f"({_signed_pct(float(worst['error_pct']))})."
        )
    top = float(
        groups[["actual_repeat_purchases", "predicted_repeat_purchases"]].max().max()
    )
    fig = go.Figure()
    fig.add_bar(
        x=labels,
        y=groups["actual_repeat_purchases"],
        name="Actual",
        marker_color=_GREY,
        customdata=groups[["customers"]],
        hovertemplate=(
            "Calibration frequency %{x}<br>%{customdata[0]:,} customers"
            "<br>Actual %{y:,.0f}<extra></extra>"
        ),
    )
    fig.add_bar(
        x=labels,
        y=groups["predicted_repeat_purchases"],
        name="Predicted",
        marker_color=_BLUE,
        text=[
            _signed_pct(float(e), 0) if not _is_missing(e) else ""
            for e in groups["error_pct"]
        ],
        textposition="outside",
        cliponaxis=False,
        hovertemplate=(
            "Calibration frequency %{x}<br>Predicted %{y:,.0f}<extra></extra>"
        ),
    )
    _style(
        fig,
        360,
        barmode="group",
        bargap=0.25,
        xaxis={
            "title": "Repeat purchases in the calibration period",
            "type": "category",
        },
        yaxis={
            "title": "Repeat purchases in the holdout",
            "tickformat": "~s",
            "range": [0, top * 1.15 if top > 0 else 1],
        },
    )
    return _chart_section(
        "clv-validation",
        title,
        (
            "How far to trust the CLV: the model refitted on an earlier period, "
            "its predicted repeat purchases compared with what customers then did "
            "(labels: prediction error)."
        ),
        fig,
        takeaway,
    )

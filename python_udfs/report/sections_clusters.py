"""Report section on the behaviour clusters."""

from __future__ import annotations

import math

import plotly.graph_objects as go

from python_udfs.report.charts import _INK, _chart_section, _style
from python_udfs.report.formatting import _num, _pct
from python_udfs.report.page import (
    _Context,
    _mart_rows,
    _Section,
    _share_takeaway,
    _Table,
)
from python_udfs.report.warehouse import _Warehouse


def _cluster_section(wh: _Warehouse, ctx: _Context) -> _Section:
    title = "Customer clusters"
    df = _mart_rows(wh, "clusters", title, "dim_cluster_profiles", "cluster_profiles")
    if isinstance(df, _Section):
        return df
    takeaway = _share_takeaway(
        df,
        "cluster_id",
        lambda top: (
            f"{top['cluster_name']} ({_pct(top['customer_share'])} of customers) "
            f"bring {_pct(top['revenue_share'])} of net revenue"
        ),
        lambda largest: (
            f"; {largest['cluster_name']}, the largest cluster "
            f"({_pct(largest['customer_share'])}), brings "
            f"{_pct(largest['revenue_share'])}."
        ),
    )
    size = df["customers"].astype(float)
    monetary = df["centroid_monetary"].clip(lower=1)
    fig = go.Figure(
        go.Scatter(
            x=df["centroid_recency_days"],
            y=monetary,
            mode="markers+text",
            text=df["cluster_name"],
            textposition="top center",
            marker={
                "size": size,
                "sizemode": "area",
                "sizeref": 2.0 * size.max() / 70**2,
                "sizemin": 8,
                "color": df["revenue_share"] * 100,
                "colorscale": [[0, "#dbeafe"], [1, "#1e3a8a"]],
                "cmin": 0,
                "opacity": 0.9,
                "line": {"color": _INK, "width": 1},
                "colorbar": {"title": {"text": "% revenue"}, "ticksuffix": "%"},
            },
            customdata=df[
                ["customers", "customer_share", "centroid_frequency", "revenue_share"]
            ],
            hovertemplate=(
                "%{text}<br>%{customdata[0]:,} customers (%{customdata[1]:.1%})"
                "<br>Mean recency %{x:.0f} days<br>Mean orders %{customdata[2]:.1f}"
                "<br>Mean monetary %{y:,.0f}<br>%{customdata[3]:.1%} of revenue"
                "<extra></extra>"
            ),
        )
    )
    _style(
        fig,
        380,
        xaxis={
            "title": "Mean recency (days since last order)",
            "range": [0, float(df["centroid_recency_days"].max()) * 1.15 + 1],
        },
        yaxis={
            "title": "Mean net revenue (log scale)",
            "type": "log",
            "dtick": 1,
            "tickformat": "~s",
            "range": [
                math.log10(float(monetary.min())) - 0.35,
                math.log10(float(monetary.max())) + 0.45,
            ],
        },
        showlegend=False,
    )
    table = _Table(
        columns=[
            "Cluster",
            "Customers",
            "% customers",
            "Mean recency (days)",
            "Mean orders",
            "Mean monetary",
            "Net revenue",
            "% revenue",
        ],
        rows=[
            [
                f"{int(r['cluster_id'])}. {r['cluster_name']}",
                _num(r["customers"]),
                _pct(r["customer_share"]),
                _num(r["centroid_recency_days"]),
                _num(r["centroid_frequency"], 1),
                _num(r["centroid_monetary"]),
                _num(r["net_revenue"]),
                _pct(r["revenue_share"]),
            ]
            for _, r in df.iterrows()
        ],
        numeric={1, 2, 3, 4, 5, 6, 7},
        caption="Cluster profiles (1 = lowest value)",
    )
    return _chart_section(
        "clusters",
        title,
        (
            "Behaviour clusters on recency, frequency and monetary value: bubble "
            "area is the number of customers, colour the share of revenue."
        ),
        fig,
        takeaway,
        tables=[table],
    )

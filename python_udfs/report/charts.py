"""Plotly styling shared by every chart, and the chart ``<div>`` of a figure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from markupsafe import Markup

from python_udfs.report.page import _Chart, _Section, _Table

# Colours: one accent, a muted grey for context, red/green for direction.
_BLUE = "#2563eb"
_LIGHT_BLUE = "#93c5fd"
_GREY = "#94a3b8"
_ORANGE = "#f59e0b"
_RED = "#dc2626"
_GREEN = "#16a34a"
_INK = "#1e293b"
_HEATMAP = "Blues"
_FONT = (
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, "
    "'DejaVu Sans', sans-serif"
)
# Hover values stay; the toolbar (zoom, pan, download) is hidden: this is a
# page to read, and the toolbar hid legends and labels in narrow charts.
_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "displayModeBar": False}
# Secondary percentage axes: fixed ticks (plotly otherwise aligns them with
# the primary axis grid, which gives ticks such as 28.5%).
_PERCENT_AXIS = {
    "overlaying": "y",
    "side": "right",
    "showgrid": False,
    "zeroline": False,
    "tickmode": "linear",
    "tick0": 0,
    "dtick": 20,
    "ticksuffix": "%",
}


def _style(
    fig: go.Figure,
    height: int,
    margin: dict[str, int] | None = None,
    **layout: Any,
) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 64, "r": 24, "t": 36, "b": 48, **(margin or {})},
        font={"family": _FONT, "size": 13, "color": _INK},
        legend={
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.02,
            "xanchor": "left",
            "x": 0,
        },
        hoverlabel={"font": {"family": _FONT}},
        colorway=[_BLUE, _ORANGE, _GREY, _GREEN, _RED],
        **layout,
    )
    return fig


def _chart(fig: go.Figure, chart_id: str, takeaway: str) -> _Chart:
    html = pio.to_html(
        fig,
        full_html=False,
        include_plotlyjs=False,
        include_mathjax=False,
        div_id=f"chart-{chart_id}",
        config=_PLOTLY_CONFIG,
        default_width="100%",
        default_height=f"{fig.layout.height}px",
    )
    return _Chart(takeaway=takeaway, html=Markup(html))


def _add_bars(
    fig: go.Figure,
    categories: Any,
    bars: Sequence[tuple[Any, str, str]],
    hover: str,
    orientation: str = "v",
    **trace: Any,
) -> None:
    """Add one bar trace per ``(values, name, colour)`` of ``bars``.

    Each bar's hover template is ``hover`` with ``{name}`` replaced by its
    name; ``orientation="h"`` puts the categories on the y axis.
    """
    if orientation == "h":
        trace["orientation"] = "h"
    for values, name, color in bars:
        axes = (
            {"x": values, "y": categories}
            if orientation == "h"
            else {"x": categories, "y": values}
        )
        fig.add_bar(
            **axes,
            name=name,
            marker_color=color,
            hovertemplate=hover.replace("{name}", name),
            **trace,
        )


def _add_percent_line(
    fig: go.Figure, x: Any, percent: Any, name: str, hover: str
) -> None:
    """Add an orange line of percentages on the secondary axis ``y2``.

    Its axis is styled by ``_PERCENT_AXIS`` (``yaxis2`` of :func:`_style`).
    """
    fig.add_scatter(
        x=x,
        y=percent,
        name=name,
        yaxis="y2",
        mode="lines+markers",
        line={"color": _ORANGE, "width": 2},
        hovertemplate=hover,
    )


def _chart_section(
    section_id: str,
    title: str,
    intro: str,
    fig: go.Figure,
    takeaway: str,
    tables: Sequence[_Table] = (),
) -> _Section:
    """Return a section of one chart (div id ``chart-<section_id>``) and tables."""
    return _Section(
        id=section_id,
        title=title,
        intro=intro,
        charts=[_chart(fig, section_id, takeaway)],
        tables=list(tables),
    )


def _heatmap(
    z: Any, x: Any, y: Any, hover: str, colorbar: dict[str, Any], **trace: Any
) -> go.Figure:
    """Return a figure of one heatmap in the report's colour scale."""
    return go.Figure(
        go.Heatmap(
            z=z,
            x=x,
            y=y,
            colorscale=_HEATMAP,
            hovertemplate=hover,
            colorbar=colorbar,
            **trace,
        )
    )

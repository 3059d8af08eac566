"""The page structure handed to the template: sections, charts, tables."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pandas as pd
from markupsafe import Markup

from python_udfs.report.warehouse import _Warehouse


@dataclass
class _Cell:
    """A table cell of several lines, with an optional smaller, muted line."""

    lines: list[str]
    sub: str | None = None


@dataclass
class _Table:
    """A small HTML table: header labels, right-aligned columns, cell text."""

    columns: list[str]
    rows: list[list[str | _Cell]]
    numeric: set[int] = field(default_factory=set)
    caption: str | None = None
    wide: set[int] = field(default_factory=set)  # columns of prose


@dataclass
class _Chart:
    """One chart (plotly ``<div>``) with the sentence shown above it."""

    takeaway: str
    html: Markup


@dataclass
class _Section:
    """One report section: charts and tables, or a note when it cannot be drawn."""

    id: str
    title: str
    intro: str | None = None
    charts: list[_Chart] = field(default_factory=list)
    tables: list[_Table] = field(default_factory=list)
    note: str | None = None
    status: str = "ok"  # ok | missing | empty


@dataclass
class _Provenance:
    """What the report is based on (shown in the header)."""

    warehouse: str
    input_format: str
    input_path: str
    input_source: str
    input_files: list[str]
    as_of_date: str
    period: str
    total_rows: int | None
    row_status: list[tuple[str, int]]
    accepted_total: int
    rejected: list[tuple[str, int]]
    rejected_total: int
    params: _Table | None
    params_note: str | None
    dbt_run: str | None


def _missing_section(
    section_id: str, title: str, tables: Iterable[str], intro: str | None = None
) -> _Section:
    names = list(tables)
    verb = "is" if len(names) == 1 else "are"
    return _Section(
        id=section_id,
        title=title,
        intro=intro,
        status="missing",
        note=(
            f"Not built in this warehouse: {' and '.join(names)} {verb} missing. "
            "Run dbt build to create them, then render the report again."
        ),
    )


def _empty_section(section_id: str, title: str, note: str) -> _Section:
    return _Section(id=section_id, title=title, status="empty", note=note)


@dataclass
class _Context:
    """Facts shared by several sections."""

    as_of: pd.Timestamp | None
    reference_month: pd.Timestamp | None  # last full month
    partial_month: pd.Timestamp | None  # last month, if incomplete


def _mart_rows(
    wh: _Warehouse, section_id: str, title: str, table: str, query: str
) -> pd.DataFrame | _Section:
    """Return the rows of ``query``, or the section's note when they are none.

    The note says that ``table`` is missing from the warehouse, or that it
    has no rows.
    """
    if missing := wh.missing(table):
        return _missing_section(section_id, title, missing)
    df = wh.df(query)
    if df.empty:
        return _empty_section(section_id, title, f"{table} has no rows.")
    return df


def _share_takeaway(
    df: pd.DataFrame,
    key: str,
    top_text: Callable[[pd.Series], str],
    largest_text: Callable[[pd.Series], str],
) -> str:
    """Sentence on the group of most revenue, and on the largest if another.

    ``top_text`` describes the row of highest ``revenue_share``;
    ``largest_text`` (appended) the row of most ``customers`` when its
    ``key`` differs, else the sentence ends there.
    """
    # A share is null where the total net revenue is 0 (only returns, say).
    top = df.loc[df["revenue_share"].fillna(0).idxmax()]
    largest = df.loc[df["customers"].idxmax()]
    if largest[key] != top[key]:
        return top_text(top) + largest_text(largest)
    return top_text(top) + "."

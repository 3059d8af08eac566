"""Reading warehouse tables into the dbt Python models.

dbt-duckdb hands a Python model its refs as DuckDB relations. The models
need only a few columns of wide tables, and want them in a fixed order
(so the pure functions downstream need not sort millions of rows); DuckDB
projects and sorts in parallel before anything reaches pandas.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pandas as pd

__all__ = ["RUN_COLUMNS", "load_columns", "table_names"]

#: Columns that record the run that computed a row (its timestamps, the
#: input file or path it came from), not what the row says: left out when
#: two builds of the same data are compared.
RUN_COLUMNS = ("computed_at", "updated_at", "fitted_at", "source_file", "input_path")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load_columns(
    relation: duckdb.DuckDBPyRelation,
    columns: Sequence[str],
    order_by: Sequence[str] = (),
) -> pd.DataFrame:
    """Load the ``columns`` of ``relation`` that it has, sorted by ``order_by``.

    A column the relation lacks is left out rather than raising here, so
    the function that receives the frame reports it with its own message;
    ``order_by`` names must be among the loaded columns.
    """
    present = [column for column in columns if column in relation.columns]
    if not present:
        raise ValueError(
            f"none of the columns {list(columns)} is in the relation "
            f"(it has {relation.columns})"
        )
    selected = relation.project(", ".join(_quote(c) for c in present))
    order = [column for column in order_by if column in present]
    if order:
        selected = selected.order(", ".join(_quote(c) for c in order))
    return selected.df()


def table_names(conn: duckdb.DuckDBPyConnection, prefixes: Sequence[str]) -> list[str]:
    """Names of the warehouse's tables in the layers ``prefixes``, sorted.

    A layer is a name prefix before ``_`` (``fct``, ``dim``, ``int``,
    ``base``), as the project names its models.
    """
    pattern = "(" + "|".join(prefixes) + ")_.*"
    rows = conn.execute(
        "select table_name from information_schema.tables "
        "where table_name similar to ? order by 1",
        [pattern],
    ).fetchall()
    return [row[0] for row in rows]

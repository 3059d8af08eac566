"""python_udfs.relations: what the dbt Python models load from the warehouse."""

from __future__ import annotations

import duckdb
import pytest

from python_udfs.relations import load_columns


@pytest.fixture
def relation():
    conn = duckdb.connect()
    conn.execute(
        "create table t as select * from (values "
        "('c3', 3, 1.5, 'x'), ('c1', 1, 2.5, 'y'), ('c2', 2, 0.5, 'z')) "
        'as v(customer_id, frequency, "T", wide)'
    )
    yield conn.table("t")
    conn.close()


def test_loads_only_the_columns_asked_for_in_order(relation):
    df = load_columns(relation, ["customer_id", "T"], order_by=["customer_id"])
    assert list(df.columns) == ["customer_id", "T"]
    assert df["customer_id"].tolist() == ["c1", "c2", "c3"]
    assert df["T"].tolist() == [2.5, 0.5, 1.5]


def test_sorts_by_several_columns_and_skips_missing_ones(relation):
    df = load_columns(relation, ["T", "nope", "frequency"], order_by=["T", "nope"])
    assert list(df.columns) == ["T", "frequency"]
    assert df["T"].tolist() == [0.5, 1.5, 2.5]


def test_no_known_column_is_an_error(relation):
    with pytest.raises(ValueError, match="none of the columns"):
        load_columns(relation, ["nope"])


def test_table_names_lists_the_layers_sorted() -> None:
    from python_udfs.relations import table_names

    conn = duckdb.connect()
    for name in ("fct_b", "dim_a", "int_c", "fct_a", "stg_d", "fctx_e"):
        conn.execute(f"create table {name} (x integer)")
    assert table_names(conn, ("fct", "dim")) == ["dim_a", "fct_a", "fct_b"]
    assert table_names(conn, ("int",)) == ["int_c"]

r"""DuckDB scalar UDFs for CLV scoring and the dbt-duckdb plugin registering them.

The UDFs are vectorised Arrow functions: DuckDB hands each call a batch of
rows (at most 2,048 in DuckDB 2.0) as ``pyarrow`` arrays; they are converted
to numpy, scored with the closed forms of :mod:`python_udfs.clv` and returned
as a ``pyarrow`` array. Every argument, model parameters included, is a SQL
argument evaluated per row, so a model can join the stored parameter table
and score all customers in one ``select``::

    select
        customers.customer_id,
        cv_bgnbd_p_alive(
            params.r, params.alpha, params.a, params.b,
            customers.frequency, customers.recency, customers.T
        ) as p_alive
    from customers
    cross join params

All arguments and results are ``DOUBLE`` (integers are cast implicitly). A
``NULL`` argument gives a ``NULL`` result (DuckDB's default null handling,
also enforced inside the functions); invalid but non-null inputs (e.g. a
negative parameter) give ``NaN``, as the numpy functions do.

Functions (times in the model time unit, e.g. weeks):

* ``cv_bgnbd_p_alive(r, alpha, a, b, frequency, recency, T)``
* ``cv_bgnbd_expected_purchases(t, r, alpha, a, b, frequency, recency, T)``
* ``cv_mbgnbd_p_alive(r, alpha, a, b, frequency, recency, T)``
* ``cv_mbgnbd_expected_purchases(t, r, alpha, a, b, frequency, recency, T)``
* ``cv_pareto_nbd_p_alive(r, alpha, s, beta, frequency, recency, T)``
* ``cv_pareto_nbd_expected_purchases(t, r, alpha, s, beta, frequency, recency,
  T)``
* ``cv_gamma_gamma_expected_spend(p, q, v, frequency, monetary_value)``
* ``cv_bgnbd_clv(months, discount_rate, periods_per_month, r, alpha, a, b, p,
  q, v, frequency, recency, T, monetary_value)``: lifetimes'
  ``customer_lifetime_value`` with a BG/NBD forecast and Gamma-Gamma spend
  (``periods_per_month``: 4.345 for a weekly model, 30 daily, 1 monthly).

This is the only ``python_udfs`` module importing duckdb (through dbt-duckdb)
and pyarrow.

References
----------
.. [1] dbt-duckdb ``README.md`` (plugins) and ``tests/create_function_plugin.py``.
.. [2] DuckDB Python function API, ``DuckDBPyConnection.create_function``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from dbt.adapters.duckdb.plugins import BasePlugin

from python_udfs import clv

__all__ = ["UDFS", "Plugin", "UdfSpec", "register_udfs"]

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True)
class UdfSpec:
    """One SQL function: its argument names and the numpy implementation.

    Attributes
    ----------
    arguments : tuple[str, ...]
        SQL argument names, in call order (all ``DOUBLE``).
    func : Callable[..., numpy.ndarray]
        Takes one float64 array per argument (same length) and returns the
        float64 result.
    """

    arguments: tuple[str, ...]
    func: Callable[..., FloatArray]


def _clv_for(model: str, names: tuple[str, str, str, str]) -> Callable[..., FloatArray]:
    """Discounted ``model`` x Gamma-Gamma CLV UDF, row-wise (lifetimes semantics).

    The returned function takes ``months, discount_rate, periods_per_month``,
    the four transaction-model parameters ``names``, ``p, q, v``,
    ``frequency, recency, T, monetary_value``. Rows are grouped by
    (months, periods_per_month), which fix the monthly grid; within a group
    every other argument may vary per row. Rows with a non-finite or
    non-positive grid get NaN.
    """

    def _clv(
        months: FloatArray,
        discount_rate: FloatArray,
        periods_per_month: FloatArray,
        p1: FloatArray,
        p2: FloatArray,
        p3: FloatArray,
        p4: FloatArray,
        p: FloatArray,
        q: FloatArray,
        v: FloatArray,
        frequency: FloatArray,
        recency: FloatArray,
        T: FloatArray,
        monetary_value: FloatArray,
    ) -> FloatArray:
        spend = clv.gamma_gamma_expected_spend(frequency, monetary_value, p, q, v)
        out = np.full(frequency.shape, np.nan)
        if months.size == 0:
            return out
        if np.all(months == months[0]) and np.all(
            periods_per_month == periods_per_month[0]
        ):
            keys = np.array([[months[0], periods_per_month[0]]])  # usual: constants
            inverse = np.zeros(months.size, dtype=np.intp)
        else:
            grid = np.column_stack([months, periods_per_month])
            keys, inverse = np.unique(grid, axis=0, return_inverse=True)
            inverse = inverse.reshape(-1)
        for k, (n_months, factor) in enumerate(keys):
            if not (np.isfinite(n_months) and np.isfinite(factor) and factor > 0):
                continue
            rows = slice(None) if keys.shape[0] == 1 else inverse == k
            values = (p1[rows], p2[rows], p3[rows], p4[rows])
            params = dict(zip(names, values, strict=True))
            out[rows] = clv.discounted_clv(
                model,
                params,
                frequency[rows],
                recency[rows],
                T[rows],
                spend[rows],
                months=float(n_months),
                discount_rate=discount_rate[rows],
                periods_per_month=float(factor),
            )
        return out

    return _clv


_RFM = ("frequency", "recency", "T")

#: SQL name -> specification of every UDF :func:`register_udfs` creates.
UDFS: dict[str, UdfSpec] = {
    "cv_bgnbd_p_alive": UdfSpec(
        ("r", "alpha", "a", "b", *_RFM),
        lambda r, alpha, a, b, x, tx, T: clv.bgnbd_p_alive(x, tx, T, r, alpha, a, b),
    ),
    "cv_bgnbd_expected_purchases": UdfSpec(
        ("t", "r", "alpha", "a", "b", *_RFM),
        lambda t, r, alpha, a, b, x, tx, T: clv.bgnbd_conditional_expected_purchases(
            t, x, tx, T, r, alpha, a, b
        ),
    ),
    "cv_mbgnbd_p_alive": UdfSpec(
        ("r", "alpha", "a", "b", *_RFM),
        lambda r, alpha, a, b, x, tx, T: clv.mbgnbd_p_alive(x, tx, T, r, alpha, a, b),
    ),
    "cv_mbgnbd_expected_purchases": UdfSpec(
        ("t", "r", "alpha", "a", "b", *_RFM),
        lambda t, r, alpha, a, b, x, tx, T: clv.mbgnbd_conditional_expected_purchases(
            t, x, tx, T, r, alpha, a, b
        ),
    ),
    "cv_pareto_nbd_p_alive": UdfSpec(
        ("r", "alpha", "s", "beta", *_RFM),
        lambda r, alpha, s, beta, x, tx, T: clv.pareto_nbd_p_alive(
            x, tx, T, r, alpha, s, beta
        ),
    ),
    "cv_pareto_nbd_expected_purchases": UdfSpec(
        ("t", "r", "alpha", "s", "beta", *_RFM),
        lambda t, r, alpha, s, beta, x, tx, T: (
            clv.pareto_nbd_conditional_expected_purchases(
                t, x, tx, T, r, alpha, s, beta
            )
        ),
    ),
    "cv_gamma_gamma_expected_spend": UdfSpec(
        ("p", "q", "v", "frequency", "monetary_value"),
        lambda p, q, v, x, m: clv.gamma_gamma_expected_spend(x, m, p, q, v),
    ),
}
_CLV_ARGS = ("months", "discount_rate", "periods_per_month")
_SPEND_ARGS = ("p", "q", "v")
for _model, _names in [
    ("bgnbd", ("r", "alpha", "a", "b")),
    ("mbgnbd", ("r", "alpha", "a", "b")),
    ("pareto_nbd", ("r", "alpha", "s", "beta")),
]:
    UDFS[f"cv_{_model}_clv"] = UdfSpec(
        (*_CLV_ARGS, *_names, *_SPEND_ARGS, *_RFM, "monetary_value"),
        _clv_for(_model, _names),
    )


def _to_numpy(column: pa.Array | pa.ChunkedArray) -> tuple[FloatArray, FloatArray]:
    """Return (float64 values with NaN for nulls, null mask) of an Arrow column."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if column.type != pa.float64():
        column = column.cast(pa.float64())
    mask = (
        np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        if column.null_count
        else np.zeros(len(column), dtype=bool)
    )
    values = column.to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float64), mask


def _arrow_udf(spec: UdfSpec) -> Callable[..., pa.Array]:
    """Wrap a numpy UDF as an Arrow UDF with NULL-in -> NULL-out semantics."""

    def udf(*columns: pa.Array | pa.ChunkedArray) -> pa.Array:
        converted = [_to_numpy(column) for column in columns]
        values = [pair[0] for pair in converted]
        null = np.logical_or.reduce([pair[1] for pair in converted])
        with np.errstate(all="ignore"):
            result = np.asarray(spec.func(*values), dtype=np.float64)
        result = np.broadcast_to(result, null.shape)
        return pa.array(result, type=pa.float64(), mask=null if null.any() else None)

    # DuckDB checks the arity from the signature: expose the named arguments.
    udf.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(arg, inspect.Parameter.POSITIONAL_OR_KEYWORD)
            for arg in spec.arguments
        ]
    )
    return udf


def register_udfs(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Register the CLV scoring UDFs on a DuckDB connection.

    Works on any connection (``duckdb.connect()``) as well as inside dbt via
    :class:`Plugin`. Re-registering replaces earlier definitions.

    Parameters
    ----------
    conn : duckdb.DuckDBPyConnection
        Connection to register on.

    Returns
    -------
    list[str]
        Names of the registered SQL functions (the keys of :data:`UDFS`).

    References
    ----------
    .. [1] Fader, Hardie & Lee (2005), Marketing Science 24(2) (BG/NBD); see
       :mod:`python_udfs.clv` for each formula and its equation.
    """
    for name, spec in UDFS.items():
        try:
            conn.remove_function(name)
        except duckdb.InvalidInputException:
            pass  # not registered yet
        conn.create_function(
            name,
            _arrow_udf(spec),
            parameters=["DOUBLE"] * len(spec.arguments),
            return_type="DOUBLE",
            type="arrow",
            null_handling="default",
            side_effects=False,
        )
    return list(UDFS)


class Plugin(BasePlugin):
    """dbt-duckdb plugin registering the CLV UDFs on every connection.

    Enable it in ``profiles.yml``::

        plugins:
          - module: python_udfs.duckdb_plugin

    References
    ----------
    .. [1] dbt-duckdb ``README.md``, section "Writing Your Own Plugins".
    """

    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        """Register the UDFs of :data:`UDFS` on ``conn``.

        Parameters
        ----------
        conn : duckdb.DuckDBPyConnection
            The connection dbt-duckdb opened.
        """
        register_udfs(conn)

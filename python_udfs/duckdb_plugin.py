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
* ``cv_bgnbd_forecast(short_months, long_months, discount_rate,
  periods_per_month, r, alpha, a, b, frequency, recency, T)``: a ``STRUCT``
  of :data:`FORECAST_FIELDS` (P(alive), the expected purchases and the
  discounted purchases at both horizons) from one monthly grid; the CLV of
  a horizon is the expected spend times its discounted purchases. Also
  ``cv_mbgnbd_forecast`` and ``cv_pareto_nbd_forecast``.

This is the only ``python_udfs`` module importing duckdb (through dbt-duckdb)
and pyarrow.

References
----------
.. [1] dbt-duckdb ``README.md`` (plugins) and ``tests/create_function_plugin.py``.
.. [2] DuckDB Python function API, ``DuckDBPyConnection.create_function``.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from dbt.adapters.duckdb.plugins import BasePlugin

from python_udfs import serving
from python_udfs._imports import import_serially

# The registry only: it names the scoring functions without importing them.
from python_udfs.clv import registry


def _forecast_module() -> ModuleType:
    """:mod:`python_udfs.clv.forecast`, imported when a UDF first runs.

    Not at module import: dbt opens the warehouse, and so loads this plugin,
    before any model runs, and importing the scoring modules (scipy, pandas)
    there added about 0.35 s to every run's startup. The closed forms are
    likewise resolved through :mod:`python_udfs.clv.registry` when called.
    An ``import`` is thread-safe (the import lock), and once loaded this is
    a dict lookup.
    """
    return import_serially("python_udfs.clv.forecast")[0]


__all__ = [
    "FORECAST_FIELDS",
    "UDFS",
    "Plugin",
    "UdfSpec",
    "register_serving_udfs",
    "register_udfs",
]

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
        float64 result, or one float64 array per field of ``fields``.
    fields : tuple[str, ...], optional
        Field names when the function returns a ``STRUCT`` of ``DOUBLE``
        (one array per field, in this order); empty for a ``DOUBLE``.
    """

    arguments: tuple[str, ...]
    func: Callable[..., Any]
    fields: tuple[str, ...] = ()

    @property
    def return_type(self) -> str:
        """The SQL return type: ``DOUBLE`` or ``STRUCT(field DOUBLE, ...)``."""
        if not self.fields:
            return "DOUBLE"
        return "STRUCT(" + ", ".join(f"{f} DOUBLE" for f in self.fields) + ")"


def _grid_groups(*keys: FloatArray) -> Iterator[tuple[tuple[float, ...], Any]]:
    """Yield (key values, row selector) per distinct row of the ``keys`` columns.

    The keys (horizons, periods per month) fix the monthly forecast grid, so
    rows are scored one grid at a time. Usually they are constants, and the
    one group selects every row without copying.
    """
    if keys[0].size == 0:
        return
    if all(np.all(key == key[0]) for key in keys):
        yield tuple(float(key[0]) for key in keys), slice(None)
        return
    grid = np.column_stack(keys)
    distinct, inverse = np.unique(grid, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    for k, row in enumerate(distinct):
        yield tuple(float(v) for v in row), inverse == k


def _valid_grid(months: Sequence[float], factor: float) -> bool:
    """Return whether the horizons and periods per month give a usable grid."""
    return bool(np.all(np.isfinite(months))) and np.isfinite(factor) and factor > 0


def _clv_for(model: str, names: tuple[str, ...]) -> Callable[..., FloatArray]:
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
        spend = registry.GAMMA_GAMMA.function("expected_spend")(
            frequency, monetary_value, p, q, v
        )
        out = np.full(frequency.shape, np.nan)
        for (n_months, factor), rows in _grid_groups(months, periods_per_month):
            if not _valid_grid([n_months], factor):
                continue
            params = dict(
                zip(names, (p1[rows], p2[rows], p3[rows], p4[rows]), strict=True)
            )
            out[rows] = _forecast_module().discounted_clv(
                model,
                params,
                frequency[rows],
                recency[rows],
                T[rows],
                spend[rows],
                months=n_months,
                discount_rate=discount_rate[rows],
                periods_per_month=factor,
            )
        return out

    return _clv


#: Fields of the STRUCT the cv_<model>_forecast functions return.
FORECAST_FIELDS = (
    "p_alive",
    "expected_purchases_short",
    "expected_purchases_long",
    "discounted_purchases_short",
    "discounted_purchases_long",
)


def _forecast_for(
    model: str, names: tuple[str, ...]
) -> Callable[..., tuple[FloatArray, ...]]:
    """Both horizons' forecasts of ``model`` from one monthly grid, row-wise.

    The returned function takes ``short_months, long_months, discount_rate,
    periods_per_month``, the four parameters ``names`` and ``frequency,
    recency, T``, and returns the arrays of :data:`FORECAST_FIELDS` (see
    :func:`python_udfs.clv.forecast.forecast_horizons`): the CLV of a horizon is the
    customer's expected spend times its discounted purchases. Rows with a
    non-finite or non-positive grid get NaN.
    """

    def _forecast(
        short_months: FloatArray,
        long_months: FloatArray,
        discount_rate: FloatArray,
        periods_per_month: FloatArray,
        p1: FloatArray,
        p2: FloatArray,
        p3: FloatArray,
        p4: FloatArray,
        frequency: FloatArray,
        recency: FloatArray,
        T: FloatArray,
    ) -> tuple[FloatArray, ...]:
        out = tuple(np.full(frequency.shape, np.nan) for _ in FORECAST_FIELDS)
        groups = _grid_groups(short_months, long_months, periods_per_month)
        for (short, long, factor), rows in groups:
            if not _valid_grid([short, long], factor):
                continue
            params = dict(
                zip(names, (p1[rows], p2[rows], p3[rows], p4[rows]), strict=True)
            )
            forecast = _forecast_module().forecast_horizons(
                model,
                params,
                frequency[rows],
                recency[rows],
                T[rows],
                months=(short, long),
                discount_rate=discount_rate[rows],
                periods_per_month=factor,
            )
            values = (
                forecast.p_alive,
                *forecast.expected_purchases,
                *forecast.discounted_purchases,
            )
            for target, value in zip(out, values, strict=True):
                target[rows] = value
        return out

    return _forecast


_RFM = ("frequency", "recency", "T")
_CLV_ARGS = ("months", "discount_rate", "periods_per_month")
_FORECAST_ARGS = ("short_months", "long_months", "discount_rate", "periods_per_month")


def _p_alive_for(model: registry.TransactionModel) -> Callable[..., FloatArray]:
    """``cv_<model>_p_alive(parameters..., frequency, recency, T)``."""
    k = len(model.parameters)

    def _p_alive(*args: FloatArray) -> FloatArray:
        return model.function("p_alive")(*args[k:], *args[:k])

    return _p_alive


def _expected_purchases_for(
    model: registry.TransactionModel,
) -> Callable[..., FloatArray]:
    """``cv_<model>_expected_purchases(t, parameters..., frequency, recency, T)``."""
    k = len(model.parameters)

    def _expected_purchases(t: FloatArray, *args: FloatArray) -> FloatArray:
        function = model.function("conditional_expected_purchases")
        return function(t, *args[k:], *args[:k])

    return _expected_purchases


def _expected_spend(*args: FloatArray) -> FloatArray:
    """``cv_gamma_gamma_expected_spend(p, q, v, frequency, monetary_value)``."""
    k = len(registry.GAMMA_GAMMA.parameters)
    return registry.GAMMA_GAMMA.function("expected_spend")(*args[k:], *args[:k])


def _udfs() -> dict[str, UdfSpec]:
    """Build the UDFs of every model of :mod:`python_udfs.clv.registry`."""
    spend = registry.GAMMA_GAMMA
    udfs: dict[str, UdfSpec] = {}
    for model in registry.TRANSACTION_MODELS.values():
        udfs[f"cv_{model.name}_p_alive"] = UdfSpec(
            (*model.parameters, *_RFM), _p_alive_for(model)
        )
        udfs[f"cv_{model.name}_expected_purchases"] = UdfSpec(
            ("t", *model.parameters, *_RFM), _expected_purchases_for(model)
        )
    udfs[f"cv_{spend.name}_expected_spend"] = UdfSpec(
        (*spend.parameters, "frequency", "monetary_value"), _expected_spend
    )
    for model in registry.TRANSACTION_MODELS.values():
        udfs[f"cv_{model.name}_clv"] = UdfSpec(
            (*_CLV_ARGS, *model.parameters, *spend.parameters, *_RFM, "monetary_value"),
            _clv_for(model.name, model.parameters),
        )
        udfs[f"cv_{model.name}_forecast"] = UdfSpec(
            (*_FORECAST_ARGS, *model.parameters, *_RFM),
            _forecast_for(model.name, model.parameters),
            FORECAST_FIELDS,
        )
    return udfs


#: SQL name -> specification of every UDF :func:`register_udfs` creates.
UDFS: dict[str, UdfSpec] = _udfs()


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
    """Wrap a numpy UDF as an Arrow UDF with NULL-in -> NULL-out semantics.

    A row with any NULL argument gives a NULL result (a NULL struct for a
    ``STRUCT`` function).
    """

    def udf(*columns: pa.Array | pa.ChunkedArray) -> pa.Array:
        converted = [_to_numpy(column) for column in columns]
        values = [pair[0] for pair in converted]
        null = np.logical_or.reduce([pair[1] for pair in converted])
        mask = null if null.any() else None
        with np.errstate(all="ignore"):
            result = spec.func(*values)
        if not spec.fields:
            result = np.broadcast_to(np.asarray(result, dtype=np.float64), null.shape)
            return pa.array(result, type=pa.float64(), mask=mask)
        arrays = [
            pa.array(np.broadcast_to(np.asarray(field, dtype=np.float64), null.shape))
            for field in result
        ]
        return pa.StructArray.from_arrays(
            arrays,
            names=list(spec.fields),
            mask=pa.array(null) if mask is not None else None,
        )

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
            return_type=spec.return_type,
            type="arrow",
            null_handling="default",
            side_effects=False,
        )
    return list(UDFS)


#: Build locks this process holds, by working warehouse: dbt-duckdb may
#: create its environment (and so this plugin) more than once per process,
#: and a second flock on the same file from the same process would conflict.
_BUILD_LOCKS: dict[str, serving.BuildLock] = {}


def register_serving_udfs(conn: duckdb.DuckDBPyConnection, warehouse: str) -> list[str]:
    """Register the SQL functions the publishing hooks call.

    ``cv_serving_path()`` (where BI tools read the marts of ``warehouse``),
    ``cv_replace_file(source, target)`` and
    ``cv_remove_stale_temp_files(target)``: see :mod:`python_udfs.serving`.
    Returns their names.
    """
    functions: dict[str, tuple[Callable[..., Any], list[str]]] = {
        "cv_serving_path": (lambda: str(serving.serving_path(warehouse)), []),
        "cv_replace_file": (serving.replace_file, ["VARCHAR", "VARCHAR"]),
        "cv_remove_stale_temp_files": (
            serving.remove_stale_temp_files,
            ["VARCHAR"],
        ),
    }
    return_types = {"cv_remove_stale_temp_files": "BIGINT"}
    for name, (func, parameters) in functions.items():
        try:
            conn.remove_function(name)
        except duckdb.InvalidInputException:
            pass  # not registered yet
        conn.create_function(
            name,
            func,
            parameters=parameters,
            return_type=return_types.get(name, "VARCHAR"),
            side_effects=True,
        )
    return list(functions)


class Plugin(BasePlugin):
    """dbt-duckdb plugin: the build lock, the CLV UDFs, publishing functions.

    Enable it in ``profiles.yml``::

        plugins:
          - module: python_udfs.duckdb_plugin

    When dbt creates it (before DuckDB opens the warehouse) it takes the
    warehouse's build lock (:class:`python_udfs.serving.BuildLock`), waiting
    up to ``CV_BUILD_LOCK_WAIT_SECONDS`` (default 0) for another build.

    References
    ----------
    .. [1] dbt-duckdb ``README.md``, section "Writing Your Own Plugins".
    """

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        """Take the build lock of the warehouse dbt is about to open.

        Parameters
        ----------
        plugin_config : dict
            The plugin's ``config`` from the profile (unused).

        Raises
        ------
        RuntimeError
            (:class:`python_udfs.serving.BuildLockedError`) naming the build
            that holds the lock; dbt reports it as a connection error.
        """
        path = getattr(self.creds, "path", None)
        if not path or path == ":memory:" or path in _BUILD_LOCKS:
            return
        wait = float(os.environ.get("CV_BUILD_LOCK_WAIT_SECONDS") or 0)
        lock = serving.BuildLock(path, wait_seconds=wait)
        try:
            serving.check_no_reader(path)
        except serving.BuildLockedError:
            lock.release()
            raise
        _BUILD_LOCKS[path] = lock

    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        """Register the UDFs of :data:`UDFS` and the publishing functions.

        Parameters
        ----------
        conn : duckdb.DuckDBPyConnection
            The connection dbt-duckdb opened.
        """
        register_udfs(conn)
        register_serving_udfs(conn, getattr(self.creds, "path", None) or ":memory:")

"""Tests of the DuckDB CLV UDFs and the dbt-duckdb plugin class."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import duckdb
import numpy as np
import pandas as pd
import pytest
from dbt.adapters.duckdb.plugins import BasePlugin

from python_udfs import clv
from python_udfs.duckdb_plugin import UDFS, Plugin, register_udfs

lifetimes = pytest.importorskip("lifetimes")

from conftest import BG_KEYS, GG_KEYS, PARETO_KEYS, cdnow_sample_summary  # noqa: E402


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    """CDNOW_sample summary in weeks (2,357 rows: more than one 2,048 batch)."""
    return cdnow_sample_summary().reset_index()


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    register_udfs(connection)
    yield connection
    connection.close()


def _params(fitter: object, keys: tuple[str, ...]) -> dict[str, float]:
    return {k: float(fitter.params_[k]) for k in keys}


def _register_customers(
    con: duckdb.DuckDBPyConnection,
    cdnow: pd.DataFrame,
    lt_models: dict,
    model: str,
    names: tuple[str, ...],
) -> tuple[dict[str, float], dict[str, float], pd.DataFrame]:
    """Register CDNOW as `customers_view`; return the params and the rows."""
    customers = cdnow.sort_values("customer_id").reset_index(drop=True)
    con.register("customers_view", customers)
    return (
        _params(lt_models[model], names),
        _params(lt_models["gamma_gamma"], GG_KEYS),
        customers,
    )


def _registered(connection: duckdb.DuckDBPyConnection) -> set[str]:
    rows = connection.execute(
        "select distinct function_name from duckdb_functions() "
        "where function_name like 'cv_%'"
    ).fetchall()
    return {row[0] for row in rows}


def _score(
    connection: duckdb.DuckDBPyConnection, customers: pd.DataFrame, params: dict
) -> pd.DataFrame:
    """Score all customers in SQL, joining a one-row parameter table."""
    connection.register("customers", customers)
    connection.register("params", pd.DataFrame([params]))
    return connection.execute(
        """
        select
            customers.customer_id,
            cv_bgnbd_p_alive(
                params.bg_r, params.bg_alpha, params.bg_a, params.bg_b,
                customers.frequency, customers.recency, customers."T"
            ) as bg_p_alive,
            cv_bgnbd_expected_purchases(
                39, params.bg_r, params.bg_alpha, params.bg_a, params.bg_b,
                customers.frequency, customers.recency, customers."T"
            ) as bg_expected,
            cv_mbgnbd_p_alive(
                params.mbg_r, params.mbg_alpha, params.mbg_a, params.mbg_b,
                customers.frequency, customers.recency, customers."T"
            ) as mbg_p_alive,
            cv_mbgnbd_expected_purchases(
                39, params.mbg_r, params.mbg_alpha, params.mbg_a, params.mbg_b,
                customers.frequency, customers.recency, customers."T"
            ) as mbg_expected,
            cv_pareto_nbd_p_alive(
                params.pn_r, params.pn_alpha, params.pn_s, params.pn_beta,
                customers.frequency, customers.recency, customers."T"
            ) as pn_p_alive,
            cv_pareto_nbd_expected_purchases(
                39, params.pn_r, params.pn_alpha, params.pn_s, params.pn_beta,
                customers.frequency, customers.recency, customers."T"
            ) as pn_expected,
            cv_gamma_gamma_expected_spend(
                params.p, params.q, params.v,
                customers.frequency, customers.monetary_value
            ) as expected_spend,
            cv_bgnbd_clv(
                12, 0.01, 4.345,
                params.bg_r, params.bg_alpha, params.bg_a, params.bg_b,
                params.p, params.q, params.v,
                customers.frequency, customers.recency, customers."T",
                customers.monetary_value
            ) as clv_12m
        from customers
        cross join params
        order by customers.customer_id
        """
    ).df()


def _all_params(fits: dict) -> dict[str, float]:
    out = {f"bg_{k}": v for k, v in _params(fits["bgnbd"], BG_KEYS).items()}
    out |= {f"mbg_{k}": v for k, v in _params(fits["mbgnbd"], BG_KEYS).items()}
    out |= {f"pn_{k}": v for k, v in _params(fits["pareto_nbd"], PARETO_KEYS).items()}
    out |= _params(fits["gamma_gamma"], GG_KEYS)
    return out


def test_register_udfs_creates_every_function(con: duckdb.DuckDBPyConnection) -> None:
    assert _registered(con) == set(UDFS)
    assert set(register_udfs(con)) == set(UDFS)  # re-registering replaces
    assert _registered(con) == set(UDFS)
    assert UDFS["cv_bgnbd_clv"].arguments[-4:] == (
        "frequency",
        "recency",
        "T",
        "monetary_value",
    )


def test_udfs_equal_numpy_and_lifetimes(
    con: duckdb.DuckDBPyConnection, cdnow: pd.DataFrame, lt_models: dict
) -> None:
    scored = _score(con, cdnow, _all_params(lt_models))
    customers = cdnow.sort_values("customer_id")
    assert len(scored) == len(customers) == 2357
    x, tx, age, m = (
        customers[c].to_numpy() for c in ("frequency", "recency", "T", "monetary_value")
    )
    bg, mbg, pnbd, gg = (
        lt_models[k] for k in ("bgnbd", "mbgnbd", "pareto_nbd", "gamma_gamma")
    )
    pb, pm = _params(bg, BG_KEYS), _params(mbg, BG_KEYS)
    pp, pg = _params(pnbd, PARETO_KEYS), _params(gg, GG_KEYS)
    spend = clv.gamma_gamma_expected_spend(x, m, **pg)
    numpy_values = {
        "bg_p_alive": clv.bgnbd_p_alive(x, tx, age, **pb),
        "bg_expected": clv.bgnbd_conditional_expected_purchases(39, x, tx, age, **pb),
        "mbg_p_alive": clv.mbgnbd_p_alive(x, tx, age, **pm),
        "mbg_expected": clv.mbgnbd_conditional_expected_purchases(39, x, tx, age, **pm),
        "pn_p_alive": clv.pareto_nbd_p_alive(x, tx, age, **pp),
        "pn_expected": clv.pareto_nbd_conditional_expected_purchases(
            39, x, tx, age, **pp
        ),
        "expected_spend": spend,
        "clv_12m": clv.discounted_clv("bgnbd", pb, x, tx, age, spend, 12, 0.01, "W"),
    }
    lifetimes_values = {
        "bg_p_alive": bg.conditional_probability_alive(x, tx, age),
        "bg_expected": bg.predict(39, x, tx, age),
        "mbg_p_alive": mbg.conditional_probability_alive(x, tx, age),
        "mbg_expected": mbg.predict(39, x, tx, age),
        "pn_p_alive": pnbd.conditional_probability_alive(x, tx, age),
        "pn_expected": pnbd.predict(39, x, tx, age),
        "expected_spend": gg.conditional_expected_average_profit(
            customers["frequency"], customers["monetary_value"]
        ),
        "clv_12m": gg.customer_lifetime_value(
            bg,
            customers["frequency"],
            customers["recency"],
            customers["T"],
            customers["monetary_value"],
            time=12,
            discount_rate=0.01,
            freq="W",
        ),
    }
    for column, expected in numpy_values.items():
        got = scored[column].to_numpy(dtype=float)
        assert np.all(np.isfinite(got)), column
        np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg=column)
        np.testing.assert_allclose(
            got, np.asarray(lifetimes_values[column], float), rtol=1e-6, err_msg=column
        )


def test_udfs_compute_elementwise_with_per_row_parameters(
    con: duckdb.DuckDBPyConnection, cdnow: pd.DataFrame
) -> None:
    """Parameters may differ inside one batch (e.g. one fit per cohort)."""
    customers = cdnow.sort_values("customer_id").reset_index(drop=True)
    rng = np.random.default_rng(4)
    customers["r"] = rng.choice([0.24, 0.5], len(customers))
    customers["alpha"] = rng.choice([4.4, 6.0], len(customers))
    customers["months"] = rng.choice([3.0, 12.0], len(customers))
    customers["rate"] = rng.choice([0.01, 0.02], len(customers))
    con.register("customers", customers)
    got = con.execute(
        """
        select
            cv_bgnbd_expected_purchases(
                52, r, alpha, 0.79, 2.43, frequency, recency, "T"
            ) as expected,
            cv_bgnbd_clv(
                months, rate, 4.345, r, alpha, 0.79, 2.43, 6.25, 3.74, 15.4,
                frequency, recency, "T", monetary_value
            ) as clv
        from customers
        order by customer_id
        """
    ).df()
    x, tx, age, m, r, alpha, months, rate = (
        customers[c].to_numpy()
        for c in (
            "frequency",
            "recency",
            "T",
            "monetary_value",
            "r",
            "alpha",
            "months",
            "rate",
        )
    )
    expected = clv.bgnbd_conditional_expected_purchases(
        52, x, tx, age, r, alpha, 0.79, 2.43
    )
    np.testing.assert_allclose(got["expected"], expected, rtol=1e-12)
    spend = clv.gamma_gamma_expected_spend(x, m, 6.25, 3.74, 15.4)
    reference = np.empty(len(customers))
    for i in range(len(customers)):  # one customer at a time, scalar params
        params = {"r": r[i], "alpha": alpha[i], "a": 0.79, "b": 2.43}
        reference[i] = clv.discounted_clv(
            "bgnbd",
            params,
            x[i],
            tx[i],
            age[i],
            spend[i],
            months[i],
            rate[i],
            4.345,
        )
    np.testing.assert_allclose(got["clv"], reference, rtol=1e-12)
    assert len(np.unique(months)) == 2


@pytest.mark.parametrize("name", sorted(UDFS))
def test_null_in_gives_null_out(con: duckdb.DuckDBPyConnection, name: str) -> None:
    spec = UDFS[name]
    valid = {  # plausible value per argument name
        "t": 39.0,
        "months": 12.0,
        "short_months": 3.0,
        "long_months": 12.0,
        "discount_rate": 0.01,
        "periods_per_month": 4.345,
        "r": 0.24,
        "alpha": 4.4,
        "a": 0.79,
        "b": 2.43,
        "s": 0.6,
        "beta": 11.7,
        "p": 6.25,
        "q": 3.74,
        "v": 15.4,
        "frequency": 2.0,
        "recency": 30.43,
        "T": 38.86,
        "monetary_value": 22.3,
    }
    values = [valid[arg] for arg in spec.arguments]
    n = len(values)
    # Row k has NULL in argument k; the last row has none.
    rows = [[None if j == k else v for j, v in enumerate(values)] for k in range(n)]
    rows.append(values)
    frame = pd.DataFrame(rows, columns=[f"c{j}" for j in range(n)], dtype="Float64")
    con.register("args", frame)
    call = ", ".join(f"c{j}" for j in range(n))
    got = [row[0] for row in con.execute(f"select {name}({call}) from args").fetchall()]
    assert got[:n] == [None] * n
    direct = spec.func(*[np.array([v]) for v in values])
    if spec.fields:  # a STRUCT: one value per field
        assert list(got[n]) == list(spec.fields)
        for field, array in zip(spec.fields, direct, strict=True):
            assert got[n][field] == pytest.approx(float(array[0]), rel=1e-12)
            assert np.isfinite(got[n][field])
    else:
        assert got[n] == pytest.approx(float(direct[0]), rel=1e-12)
        assert np.isfinite(got[n])


def test_null_rows_do_not_shift_other_rows(con: duckdb.DuckDBPyConnection) -> None:
    frame = pd.DataFrame(
        {
            "frequency": [2.0, None, 0.0, 7.0, None],
            "recency": [30.43, 10.0, 0.0, 29.43, 5.0],
            "T": [38.86, 38.0, 38.43, 38.86, None],
        },
        dtype="Float64",
    )
    con.register("customers", frame)
    got = con.execute(
        'select cv_bgnbd_p_alive(0.24, 4.4, 0.79, 2.43, frequency, recency, "T") '
        "from customers"
    ).fetchall()
    values = [row[0] for row in got]
    assert values[1] is None and values[4] is None
    expected = clv.bgnbd_p_alive(
        [2.0, 0.0, 7.0],
        [30.43, 0.0, 29.43],
        [38.86, 38.43, 38.86],
        0.24,
        4.4,
        0.79,
        2.43,
    )
    np.testing.assert_allclose([values[0], values[2], values[3]], expected, rtol=1e-12)


def test_integer_arguments_are_cast(con: duckdb.DuckDBPyConnection) -> None:
    got = con.execute(
        "select cv_gamma_gamma_expected_spend(6, 4, 15, 2::integer, 20::bigint)"
    ).fetchone()[0]
    assert got == pytest.approx(6 * (15 + 2 * 20) / (6 * 2 + 4 - 1))


def test_plugin_configure_connection_registers_udfs() -> None:
    plugin = Plugin(name="clv", plugin_config={})
    assert isinstance(plugin, BasePlugin)
    connection = duckdb.connect()
    try:
        assert not _registered(connection)
        plugin.configure_connection(connection)
        assert _registered(connection) == set(UDFS) | {
            "cv_serving_path",
            "cv_replace_file",
            "cv_remove_stale_temp_files",
        }
        got = connection.execute(
            "select cv_bgnbd_p_alive(0.24, 4.4, 0.79, 2.43, 0, 0, 38)"
        ).fetchone()[0]
        assert got == 1.0
    finally:
        connection.close()


def test_plugin_loads_through_dbt_duckdb_factory() -> None:
    """dbt-duckdb builds plugins with BasePlugin.create(module, config=...)."""
    plugin = BasePlugin.create("python_udfs.duckdb_plugin", config={})
    assert type(plugin) is Plugin
    assert plugin.name == "duckdb_plugin"
    connection = duckdb.connect()
    try:
        plugin.configure_connection(connection)
        cursor = connection.cursor()  # dbt runs models on cursors
        got = cursor.execute(
            "select cv_bgnbd_expected_purchases(0, 0.24, 4.4, 0.79, 2.43, 2, 30, 38)"
        ).fetchone()[0]
        assert got == 0.0
    finally:
        connection.close()


def test_arrow_wrapper_masks_nulls_itself() -> None:
    """The wrapper is NULL-safe even if DuckDB passed NULLs through."""
    import pyarrow as pa

    from python_udfs.duckdb_plugin import _arrow_udf

    udf = _arrow_udf(UDFS["cv_gamma_gamma_expected_spend"])
    columns = [
        pa.chunked_array([[6.0, 6.0], [6.0]]),
        pa.chunked_array([[4.0, None, 4.0]]),
        pa.array([15.0, 15.0, 15.0]),
        pa.array([2, 1, 0], type=pa.int64()),
        pa.array([20.0, 10.0, None]),
    ]
    got = udf(*columns)
    assert got.type == pa.float64()
    assert got.to_pylist()[1:] == [None, None]
    assert got.to_pylist()[0] == pytest.approx(6 * (15 + 2 * 20) / (6 * 2 + 4 - 1))


@pytest.mark.parametrize(
    ("model", "names"),
    [("mbgnbd", BG_KEYS), ("pareto_nbd", PARETO_KEYS)],
)
def test_clv_udfs_of_other_models_equal_numpy(
    con: duckdb.DuckDBPyConnection, cdnow: pd.DataFrame, lt_models: dict, model, names
) -> None:
    params, spend_params, customers = _register_customers(
        con, cdnow, lt_models, model, names
    )
    args = ", ".join(str(params[k]) for k in names)
    gg = ", ".join(str(spend_params[k]) for k in GG_KEYS)
    got = (
        con.execute(
            f"""
        select cv_{model}_clv(12, 0.01, 4.345, {args}, {gg},
            frequency, recency, "T", monetary_value) as clv
        from customers_view order by customer_id
        """
        )
        .df()["clv"]
        .to_numpy()
    )
    x, tx, age, m = (
        customers[c].to_numpy() for c in ("frequency", "recency", "T", "monetary_value")
    )
    expected = clv.discounted_clv(
        model,
        params,
        x,
        tx,
        age,
        clv.gamma_gamma_expected_spend(x, m, **spend_params),
        months=12,
        discount_rate=0.01,
        periods_per_month=4.345,
    )
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    assert np.all(got >= 0)


@pytest.mark.parametrize(
    ("model", "names"),
    [("bgnbd", BG_KEYS), ("mbgnbd", BG_KEYS), ("pareto_nbd", PARETO_KEYS)],
)
def test_forecast_udf_equals_the_separate_functions(
    con: duckdb.DuckDBPyConnection, cdnow: pd.DataFrame, lt_models: dict, model, names
) -> None:
    """One cv_<model>_forecast call gives P(alive), both horizons' expected
    purchases and (times the expected spend) both horizons' CLV, as the
    single-purpose UDFs do."""
    params, spend_params, customers = _register_customers(
        con, cdnow, lt_models, model, names
    )
    args = ", ".join(str(params[k]) for k in names)
    gg = ", ".join(str(spend_params[k]) for k in GG_KEYS)
    rfm = 'frequency, recency, "T"'
    got = con.execute(
        f"""
        select
            forecast.p_alive,
            forecast.expected_purchases_short,
            forecast.expected_purchases_long,
            spend * forecast.discounted_purchases_short as clv_short,
            spend * forecast.discounted_purchases_long as clv_long,
            cv_{model}_p_alive({args}, {rfm}) as p_alive_alone,
            cv_{model}_expected_purchases(3 * 4.345, {args}, {rfm}) as short_alone,
            cv_{model}_expected_purchases(12 * 4.345, {args}, {rfm}) as long_alone,
            cv_{model}_clv(3, 0.01, 4.345, {args}, {gg}, {rfm}, monetary_value)
                as clv_short_alone,
            cv_{model}_clv(12, 0.01, 4.345, {args}, {gg}, {rfm}, monetary_value)
                as clv_long_alone
        from (
            select
                *,
                cv_{model}_forecast(3, 12, 0.01, 4.345, {args}, {rfm}) as forecast,
                cv_gamma_gamma_expected_spend({gg}, frequency, monetary_value)
                    as spend
            from customers_view
        )
        order by customer_id
        """
    ).df()
    assert len(got) == len(customers) > 2_048  # more than one batch
    np.testing.assert_array_equal(got["p_alive"], got["p_alive_alone"])
    np.testing.assert_array_equal(got["expected_purchases_short"], got["short_alone"])
    np.testing.assert_array_equal(got["expected_purchases_long"], got["long_alone"])
    np.testing.assert_allclose(got["clv_short"], got["clv_short_alone"], rtol=1e-12)
    np.testing.assert_allclose(got["clv_long"], got["clv_long_alone"], rtol=1e-12)
    assert (got["clv_long"] > got["clv_short"]).all()


def test_forecast_udf_scores_each_grid_of_horizons(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Rows with different horizons or periods per month use their own grid;
    a non-positive grid gives NaN."""
    got = con.execute(
        """
        select cv_bgnbd_forecast(short, long, 0.01, ppm, 0.24, 4.4, 0.79, 2.43,
                2, 30.43, 38.86) as f
        from (values (3, 12, 4.345), (1, 6, 4.345), (3, 12, 30.0), (3, 12, 0.0))
            as t(short, long, ppm)
        """
    ).fetchall()
    for row, (short, long, ppm) in zip(
        got[:3], [(3, 12, 4.345), (1, 6, 4.345), (3, 12, 30.0)], strict=True
    ):
        forecast = clv.forecast_horizons(
            "bgnbd",
            dict(zip(BG_KEYS, (0.24, 4.4, 0.79, 2.43), strict=True)),
            2,
            30.43,
            38.86,
            (short, long),
            0.01,
            ppm,
        )
        assert row[0]["expected_purchases_long"] == pytest.approx(
            float(forecast.expected_purchases[1]), rel=1e-15
        )
        assert row[0]["discounted_purchases_short"] == pytest.approx(
            float(forecast.discounted_purchases[0]), rel=1e-15
        )
    assert all(np.isnan(v) for v in got[3][0].values())


def test_plugin_loads_the_scoring_module_only_when_a_udf_runs():
    """Opening the warehouse (loading the plugin) does not import scipy; the
    first UDF call imports its python_udfs.clv module and scores as usual
    (the plugin imports only python_udfs.clv.registry, which is light)."""
    script = """
import sys
import duckdb
from python_udfs.duckdb_plugin import register_udfs
conn = duckdb.connect()
register_udfs(conn)
print("scipy" in sys.modules, "python_udfs.clv.gamma_gamma" in sys.modules)
value = conn.execute(
    "select cv_gamma_gamma_expected_spend(6.25, 3.74, 15.44, 2, 30.0)"
).fetchall()[0][0]
print("python_udfs.clv.gamma_gamma" in sys.modules, round(value, 6))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    spend = clv.gamma_gamma_expected_spend(2, 30.0, 6.25, 3.74, 15.44)
    assert done.stdout.split("\n")[:2] == [
        "False False",
        f"True {round(float(spend), 6)}",
    ]

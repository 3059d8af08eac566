"""Shared fixtures: run dbt on a given input into a throw-away warehouse."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
SHARED_DATA = PROJECT_DIR.parent / "shared" / "data"
FIXTURES = PROJECT_DIR / "tests" / "fixtures"
ONLINE_RETAIL = SHARED_DATA / "online_retail" / "online_retail.csv"
EVENTS_SAMPLE = SHARED_DATA / "ecommerce_behavior_sample" / "2019-Oct_head17434.csv"


def lifetimes_dataset(name: str) -> Path:
    """Path of a data file shipped inside the lifetimes package."""
    import lifetimes

    return Path(lifetimes.__file__).parent / "datasets" / name


BG_KEYS = ("r", "alpha", "a", "b")
PARETO_KEYS = ("r", "alpha", "s", "beta")
GG_KEYS = ("p", "q", "v")


def cdnow_sample_summary():
    """CDNOW_sample as lifetimes summarises it in weeks (days / 7), indexed by
    customer_id, as in the formula sheet §5; skips when the file is absent."""
    import warnings

    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from lifetimes.utils import summary_data_from_transaction_data

    path = require(lifetimes_dataset("CDNOW_sample.txt"))
    transactions = pd.read_csv(
        str(path),
        sep=r"\s+",
        header=None,
        names=["customer_id", "customer_index", "date", "quantity", "amount"],
        dtype={"date": str},
    )
    transactions["date"] = pd.to_datetime(transactions["date"], format="%Y%m%d")
    return summary_data_from_transaction_data(
        transactions,
        "customer_id",
        "date",
        monetary_value_col="amount",
        observation_period_end="1997-09-30",
        freq="D",
        freq_multiplier=7,
    )


@pytest.fixture(scope="module")
def cdnow():
    """CDNOW_sample summary in weeks (days / 7), as in the formula sheet §5
    (the CLV test modules; test_duckdb_plugin.py has its own)."""
    return cdnow_sample_summary()


@pytest.fixture(scope="module")
def lt_models(cdnow):
    """lifetimes' own fits on CDNOW (penalizer 0), the reference the CLV
    tests and the UDF tests compare with."""
    import lifetimes
    import numpy as np

    x, tx, age = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    repeat = cdnow[cdnow["frequency"] > 0]
    np.random.seed(0)  # noqa: NPY002 -- lifetimes Pareto starts from np.random
    return {
        "bgnbd": lifetimes.BetaGeoFitter().fit(x, tx, age),
        "mbgnbd": lifetimes.ModifiedBetaGeoFitter().fit(x, tx, age),
        "pareto_nbd": lifetimes.ParetoNBDFitter().fit(x, tx, age),
        "gamma_gamma": lifetimes.GammaGammaFitter().fit(
            repeat["frequency"], repeat["monetary_value"]
        ),
    }


def require(path: Path) -> Path:
    """Skip the calling test, saying why, when a data file is absent."""
    if not path.exists():
        pytest.skip(f"data file not present: {path}")
    return path


def declared_check_constraints(models_dir: Path) -> dict[str, list[str]]:
    """The `type: check` constraints (column and model level) declared in the
    YAML files under `models_dir`, by model, rendered with the project's
    default vars."""
    import jinja2
    import yaml

    project_vars = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    env = jinja2.Environment()
    env.globals["var"] = project_vars["vars"].__getitem__
    declared: dict[str, list[str]] = {}
    for path in models_dir.rglob("*.yml"):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            constraints = list(model.get("constraints") or [])
            for column in model.get("columns") or []:
                constraints += column.get("constraints") or []
            declared[model["name"]] = [
                env.from_string(c["expression"]).render().strip()
                for c in constraints
                if c.get("type") == "check"
            ]
    return declared


@dataclass
class DbtResult:
    """Outcome of one dbt invocation."""

    returncode: int
    output: str
    warehouse: Path

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as conn:
            return conn.execute(sql).fetchall()

    def scalar(self, sql: str):
        return self.query(sql)[0][0]


def _dbt_executable() -> str:
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else shutil.which("dbt") or "dbt"


def dbt_invocation(
    tmp_path: Path,
    args: list[str],
    dbt_vars: dict | None = None,
    warehouse: Path | None = None,
) -> tuple[list[str], dict[str, str], Path]:
    """The command, environment and warehouse of one dbt run against a
    warehouse in tmp_path (for tests that start dbt themselves)."""
    warehouse = warehouse or tmp_path / "warehouse.duckdb"
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(PROJECT_DIR / "profiles"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "CV_WAREHOUSE_PATH": str(warehouse),
        # The serving snapshot beside the warehouse, whatever the caller set.
        "CV_SERVING_PATH": "",
        "CV_DUCKDB_TEMP_DIR": str(tmp_path / "duckdb_tmp"),
        "CV_TARGET": "test",
    }
    command = [
        _dbt_executable(),
        *args,
        "--target-path",
        str(tmp_path / "target"),
        "--log-path",
        str(tmp_path / "logs"),
    ]
    if dbt_vars:
        command += ["--vars", json.dumps(dbt_vars)]
    return command, env, warehouse


def make_dbt_runner(tmp_path: Path):
    """Return a function that runs dbt against a fresh warehouse in tmp_path."""

    def _run(
        args: list[str], dbt_vars: dict | None = None, warehouse: Path | None = None
    ) -> DbtResult:
        command, env, warehouse = dbt_invocation(tmp_path, args, dbt_vars, warehouse)
        done = subprocess.run(
            command,
            cwd=PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        return DbtResult(done.returncode, done.stdout + done.stderr, warehouse)

    return _run


def tampered_data_test(
    run_dbt, dbt_vars: dict, selector: str, name: str, tamper_sql: str
) -> DbtResult:
    """Show that a data test can fail: run `selector` with --store-failures
    on the built warehouse (data test `name` must pass), change the data
    with `tamper_sql`, and return the second run, which must fail."""
    select = ["--select", selector, "--store-failures"]
    clean = run_dbt(["test", *select], dbt_vars)
    assert clean.returncode == 0, clean.output
    assert f"PASS {name}" in clean.output, clean.output
    with duckdb.connect(str(clean.warehouse)) as conn:
        conn.execute(tamper_sql)
    broken = run_dbt(["test", *select], dbt_vars)
    assert broken.returncode != 0, broken.output
    return broken


@pytest.fixture
def run_dbt(tmp_path):
    """Run a dbt command against a fresh warehouse under tmp_path."""
    return make_dbt_runner(tmp_path)


# The report tests' hand-made warehouse (tests/python/report_warehouse.py).
@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    from report_warehouse import build_warehouse

    return build_warehouse(tmp_path / "shop.duckdb")


@pytest.fixture
def warehouse_without_clv(tmp_path: Path) -> Path:
    from report_warehouse import build_warehouse

    return build_warehouse(tmp_path / "shop.duckdb", clv=False)


@pytest.fixture
def no_run_results(tmp_path: Path) -> Path:
    return tmp_path / "absent_run_results.json"

"""The CLV models and time units: the one table the package, the plugin and SQL read.

* :data:`TRANSACTION_MODELS`: each transaction model (``clv_model``), its
  parameter names in the order the ``cv_<model>_*`` DuckDB functions take
  them, and the module and names of its fitter, P(alive) and expected
  purchase functions;
* :data:`GAMMA_GAMMA`: the spend model, the same way;
* :data:`TIME_UNITS`: the model time units (``clv_time_unit``) with
  lifetimes' ``freq`` letter and the periods per month of its
  ``customer_lifetime_value``; :data:`PERIODS_PER_MONTH` by letter.

This module imports nothing heavy (no scipy, no pandas): the dbt-duckdb
plugin (:mod:`python_udfs.duckdb_plugin`) reads it when dbt opens the
warehouse, and it names the functions by module and name, so that
:meth:`TransactionModel.function` imports a scoring module only when a
function is first used.

SQL reads the same table from ``macros/clv/cv_clv_registry.sql``
(``cv_clv_registry()``, read by ``cv_clv_model()`` and
``cv_clv_periods_per_month()``). That file is generated from this module;
after changing a model or a time unit here, regenerate it and commit both::

    python -m python_udfs.clv.registry           # rewrite the macro file
    python -m python_udfs.clv.registry --check   # exit 1 if it is stale

``tests/python/test_clv_registry.py`` fails while the committed file differs
from what this module generates.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_udfs._imports import import_serially

__all__ = [
    "GAMMA_GAMMA",
    "PERIODS_PER_MONTH",
    "SQL_MACRO_PATH",
    "TIME_UNITS",
    "TRANSACTION_MODELS",
    "SpendModel",
    "TimeUnit",
    "TransactionModel",
    "main",
    "render_sql_macro",
]

_PACKAGE = "python_udfs.clv"


@dataclass(frozen=True)
class TransactionModel:
    """A transaction model: its parameters and where its functions live.

    Attributes
    ----------
    name : str
        The ``clv_model`` value and the ``model`` of its fit results.
    parameters : tuple[str, ...]
        Parameter names, in the order the closed forms and the
        ``cv_<name>_*`` DuckDB functions take them.
    module : str
        The module defining the functions below.
    fit, p_alive, conditional_expected_purchases, expected_purchases_new : str
        Names of the public functions in ``module``.
    forecaster : str
        Name of the module's private
        ``(x, tx, T, *parameters) -> (p_alive, t -> E[Y(t)])`` helper,
        which :func:`python_udfs.clv.forecast.forecast_horizons` calls.
    """

    name: str
    parameters: tuple[str, ...]
    module: str
    fit: str
    p_alive: str
    conditional_expected_purchases: str
    expected_purchases_new: str
    forecaster: str = "_forecaster"

    def function(self, role: str) -> Callable[..., Any]:
        """Return the function of ``role`` (an attribute name, e.g. ``"fit"``).

        The module is imported on the first call; later calls find it in
        ``sys.modules``.

        Parameters
        ----------
        role : str
            ``"fit"``, ``"p_alive"``, ``"conditional_expected_purchases"``,
            ``"expected_purchases_new"`` or ``"forecaster"``.

        Returns
        -------
        Callable
            The function.
        """
        return getattr(import_serially(self.module)[0], getattr(self, role))


@dataclass(frozen=True)
class SpendModel:
    """The spend model: its parameters and where its functions live.

    Attributes
    ----------
    name : str
        The ``model`` of its fit results.
    parameters : tuple[str, ...]
        Parameter names, in the order the closed form and
        ``cv_gamma_gamma_expected_spend`` take them.
    module : str
        The module defining the functions below.
    fit, expected_spend : str
        Names of the public functions in ``module``.
    """

    name: str
    parameters: tuple[str, ...]
    module: str
    fit: str
    expected_spend: str

    def function(self, role: str) -> Callable[..., Any]:
        """Return the function of ``role`` (``"fit"`` or ``"expected_spend"``).

        Parameters
        ----------
        role : str
            Attribute naming the function.

        Returns
        -------
        Callable
            The function; its module is imported on the first call.
        """
        return getattr(import_serially(self.module)[0], getattr(self, role))


@dataclass(frozen=True)
class TimeUnit:
    """A model time unit (``clv_time_unit``).

    Attributes
    ----------
    name : str
        ``"day"``, ``"week"`` or ``"month"``.
    freq : str
        lifetimes' ``freq`` letter for it.
    periods_per_month : float
        Units per month in lifetimes' ``customer_lifetime_value``.
    """

    name: str
    freq: str
    periods_per_month: float


def _transaction_model(name: str, parameters: tuple[str, ...]) -> TransactionModel:
    """Return the entry of ``name``, whose functions follow the package's names.

    Module ``python_udfs.clv.<name>`` defines ``fit_<name>``,
    ``<name>_p_alive``, ``<name>_conditional_expected_purchases``,
    ``<name>_expected_purchases_new`` and ``_forecaster``.
    """
    return TransactionModel(
        name=name,
        parameters=parameters,
        module=f"{_PACKAGE}.{name}",
        fit=f"fit_{name}",
        p_alive=f"{name}_p_alive",
        conditional_expected_purchases=f"{name}_conditional_expected_purchases",
        expected_purchases_new=f"{name}_expected_purchases_new",
    )


#: The transaction models by ``clv_model`` name.
TRANSACTION_MODELS: dict[str, TransactionModel] = {
    model.name: model
    for model in (
        _transaction_model("bgnbd", ("r", "alpha", "a", "b")),
        _transaction_model("mbgnbd", ("r", "alpha", "a", "b")),
        _transaction_model("pareto_nbd", ("r", "alpha", "s", "beta")),
    )
}

#: The Gamma-Gamma spend model.
GAMMA_GAMMA = SpendModel(
    name="gamma_gamma",
    parameters=("p", "q", "v"),
    module=f"{_PACKAGE}.gamma_gamma",
    fit="fit_gamma_gamma",
    expected_spend="gamma_gamma_expected_spend",
)

#: The model time units by ``clv_time_unit`` value.
TIME_UNITS: dict[str, TimeUnit] = {
    unit.name: unit
    for unit in (
        TimeUnit("day", "D", 30.0),
        TimeUnit("week", "W", 4.345),
        TimeUnit("month", "M", 1.0),
    )
}

#: Model time units per month by lifetimes' ``freq`` letter, as in its
#: ``customer_lifetime_value``: weekly models use 4.345 periods per month.
#: ``H`` (hours, 720) has no ``clv_time_unit``; it is here for parity with
#: lifetimes where a letter is accepted.
PERIODS_PER_MONTH: dict[str, float] = {
    **{unit.freq: unit.periods_per_month for unit in TIME_UNITS.values()},
    "H": 720.0,
}

#: The generated macro file, in the dbt project this package belongs to.
SQL_MACRO_PATH = Path(__file__).resolve().parents[2] / "macros/clv/cv_clv_registry.sql"

_SQL_TEMPLATE = """\
{{#- generated by `python -m python_udfs.clv.registry`; do not edit -#}}
{{#-
    The CLV models and time units of python_udfs/clv/registry.py: each
    transaction model (clv_model) with its parameter names in the order the
    cv_<model>_* DuckDB functions take them, the Gamma-Gamma parameters, and
    the periods per month of each clv_time_unit (lifetimes'
    customer_lifetime_value). Read it through cv_clv_model() and
    cv_clv_periods_per_month().
-#}}
{{% macro cv_clv_registry() -%}}
    {{{{ return({{
        'transaction_models': {{
{models}
        }},
        'gamma_gamma': {gamma_gamma},
        'periods_per_month': {{
{units}
        }},
    }}) }}}}
{{%- endmacro %}}
"""


def _sql_list(names: tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{name}'" for name in names) + "]"


def render_sql_macro() -> str:
    """Return the text of ``macros/clv/cv_clv_registry.sql`` for this registry.

    Returns
    -------
    str
        A dbt macro file defining ``cv_clv_registry()``, which returns
        ``{'transaction_models': {name: [parameter, ...]}, 'gamma_gamma':
        [parameter, ...], 'periods_per_month': {time unit: float}}``.
    """
    models = "\n".join(
        f"            '{model.name}': {_sql_list(model.parameters)},"
        for model in TRANSACTION_MODELS.values()
    )
    units = "\n".join(
        f"            '{unit.name}': {unit.periods_per_month!r},"
        for unit in TIME_UNITS.values()
    )
    return _SQL_TEMPLATE.format(
        models=models, gamma_gamma=_sql_list(GAMMA_GAMMA.parameters), units=units
    )


def main(argv: list[str] | None = None) -> int:
    """Write the SQL copy of the registry, or with ``--check`` test it.

    Parameters
    ----------
    argv : list[str], optional
        Command-line arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0, or 1 when ``--check`` finds the file missing or stale.
    """
    parser = argparse.ArgumentParser(
        prog="python -m python_udfs.clv.registry",
        description="Generate macros/clv/cv_clv_registry.sql from the registry.",
    )
    parser.add_argument("--path", type=Path, default=SQL_MACRO_PATH)
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if the file differs from the registry",
    )
    args = parser.parse_args(argv)
    text = render_sql_macro()
    current = args.path.read_text() if args.path.exists() else None
    if args.check:
        if current != text:
            print(
                f"{args.path} is stale: run python -m python_udfs.clv.registry",
                file=sys.stderr,
            )
            return 1
        return 0
    if current != text:
        args.path.write_text(text)
        print(f"wrote {args.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

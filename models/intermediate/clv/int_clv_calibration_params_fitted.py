from python_udfs.clv import FIT_INPUT_COLUMNS, fit_clv_params_from_config
from python_udfs.relations import load_columns


def model(dbt, session):
    # dbt exposes only the configs it sees in literal dbt.config.get calls.
    dbt.config(materialized="table")
    # Only the columns the fit reads, sorted by them in DuckDB.
    inputs = dbt.ref("int_customer_clv_calibration")
    customers = load_columns(inputs, FIT_INPUT_COLUMNS, order_by=FIT_INPUT_COLUMNS)
    return fit_clv_params_from_config(
        customers, dbt.config.get("clv_model"), dbt.config.get("clv_penalizer")
    )

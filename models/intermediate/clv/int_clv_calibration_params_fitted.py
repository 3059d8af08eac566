from python_udfs.clv import fit_clv_params_table


def model(dbt, session):
    # dbt exposes only the configs it sees in literal dbt.config.get calls.
    dbt.config(materialized="table")
    customers = dbt.ref("int_customer_clv_calibration").df()
    return fit_clv_params_table(
        customers,
        model=dbt.config.get("clv_model"),
        penalizer=float(dbt.config.get("clv_penalizer")),
    )

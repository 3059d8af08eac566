from python_udfs.clv import FIT_INPUT_COLUMNS, fit_clv_params_table


def model(dbt, session):
    # dbt exposes only the configs it sees in literal dbt.config.get calls.
    dbt.config(materialized="table")
    # Only the columns the fit reads (a missing one is reported by it).
    inputs = dbt.ref("int_customer_clv_inputs")
    columns = [c for c in FIT_INPUT_COLUMNS if c in inputs.columns]
    # Sorted here (in parallel), so the fit need not sort them.
    quoted = ", ".join(f'"{c}"' for c in columns)
    customers = inputs.project(quoted).order(quoted).df()
    return fit_clv_params_table(
        customers,
        model=dbt.config.get("clv_model"),
        penalizer=float(dbt.config.get("clv_penalizer")),
    )

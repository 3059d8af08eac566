from python_udfs.clustering import choose_k_table, input_columns, parse_features
from python_udfs.relations import load_columns


def model(dbt, session):
    # dbt exposes only the configs it sees in literal dbt.config.get calls.
    dbt.config(materialized="table")
    features = parse_features(dbt.config.get("cluster_features"))
    # Only the columns clustering reads, sorted by id in DuckDB.
    customers = load_columns(
        dbt.ref("fct_customer_rfm"), input_columns(features), order_by=["customer_id"]
    )
    return choose_k_table(
        customers,
        method=dbt.config.get("cluster_method"),
        k=dbt.config.get("cluster_k"),
        features=features,
        transform=dbt.config.get("cluster_transform"),
        scaling=dbt.config.get("cluster_scaling"),
        k_min=int(dbt.config.get("cluster_k_min")),
        k_max=int(dbt.config.get("cluster_k_max")),
        sample_size=int(dbt.config.get("cluster_sample_size")),
        kmeans_sample_size=int(dbt.config.get("cluster_fit_sample_size")),
        n_init=int(dbt.config.get("cluster_n_init")),
        random_seed=int(dbt.config.get("cluster_random_seed")),
    )

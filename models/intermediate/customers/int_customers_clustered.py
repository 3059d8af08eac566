from python_udfs.clustering import cluster_with_chosen_k, input_columns, parse_features
from python_udfs.relations import load_columns


def model(dbt, session):
    # dbt exposes only the configs it sees in literal dbt.config.get calls.
    dbt.config(materialized="table")
    features = parse_features(dbt.config.get("cluster_features"))
    # Only the columns clustering reads, sorted by id in DuckDB.
    customers = load_columns(
        dbt.ref("fct_customer_rfm"), input_columns(features), order_by=["customer_id"]
    )
    return cluster_with_chosen_k(
        customers,
        dbt.ref("int_customers_cluster_k_chosen").df(),
        method=dbt.config.get("cluster_method"),
        features=features,
        transform=dbt.config.get("cluster_transform"),
        scaling=dbt.config.get("cluster_scaling"),
        sample_size=int(dbt.config.get("cluster_sample_size")),
        kmeans_sample_size=int(dbt.config.get("cluster_fit_sample_size")),
        n_init=int(dbt.config.get("cluster_n_init")),
        random_seed=int(dbt.config.get("cluster_random_seed")),
    )

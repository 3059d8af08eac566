from python_udfs.clustering import choose_k, input_columns, parse_features


def model(dbt, session):
    # dbt exposes only the configs it sees in literal dbt.config.get calls.
    dbt.config(materialized="table")
    features = parse_features(dbt.config.get("cluster_features"))
    # Only the columns clustering reads (a missing one is reported by it).
    rfm = dbt.ref("fct_customer_rfm")
    columns = [c for c in input_columns(features) if c in rfm.columns]
    # Sorted here (in parallel), so clustering need not sort the ids.
    customers = rfm.project(", ".join(f'"{c}"' for c in columns))
    customers = customers.order("customer_id").df()
    return choose_k(
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

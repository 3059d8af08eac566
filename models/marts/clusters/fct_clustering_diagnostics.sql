with

diagnostics as (
    {#- Without a k (clustering_status not_clustered: too few distinct
        customers) there is nothing to diagnose: the mart is empty. -#}
    select * from {{ ref('int_customers_cluster_k_chosen') }}
    where k is not null
),

final as (
    {#- Types as the contract declares them (it checks each one): k is the
        one column the Python model writes as bigint. -#}
    select
        method,
        cast(k as integer) as k,
        inertia,
        silhouette,
        davies_bouldin,
        calinski_harabasz,
        chosen
    from diagnostics
)

select * from final

with

diagnostics as (
    select * from {{ ref('int_customers_cluster_k_chosen') }}
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

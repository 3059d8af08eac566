with

diagnostics as (
    select * from {{ ref('int_customers_cluster_k_chosen') }}
),

final as (
    select
        cast(method as varchar) as method,
        cast(k as integer) as k,
        cast(inertia as double) as inertia,
        cast(silhouette as double) as silhouette,
        cast(davies_bouldin as double) as davies_bouldin,
        cast(calinski_harabasz as double) as calinski_harabasz,
        cast(chosen as boolean) as chosen
    from diagnostics
)

select * from final

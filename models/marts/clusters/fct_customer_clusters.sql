with

clustered as (
    select * from {{ ref('int_customers_clustered') }}
),

final as (
    {#- The contract checks every column's type; only the two ids the Python
        model writes as bigint need a cast. -#}
    select
        customer_id,
        cast(cluster_id as integer) as cluster_id,
        cluster_name,
        method,
        cast(k as integer) as k,
        distance_to_centroid
    from clustered
)

select * from final

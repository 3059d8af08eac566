with

clustered as (
    select * from {{ ref('int_customers_clustered') }}
),

final as (
    select
        cast(customer_id as varchar) as customer_id,
        cast(cluster_id as integer) as cluster_id,
        cast(cluster_name as varchar) as cluster_name,
        cast(method as varchar) as method,
        cast(k as integer) as k,
        cast(distance_to_centroid as double) as distance_to_centroid
    from clustered
)

select * from final

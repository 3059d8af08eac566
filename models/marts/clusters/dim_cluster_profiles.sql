with

clusters as (
    select
        customer_id,
        cluster_id,
        cluster_name
    from {{ ref('fct_customer_clusters') }}
),

rfm as (
    select
        customer_id,
        recency_days,
        frequency,
        monetary,
        net_revenue
    from {{ ref('fct_customer_rfm') }}
),

clv as (
    {%- if var('clv_enabled') %}
    select
        customer_id,
        clv_long
    from {{ ref('fct_customer_clv') }}
    {%- else %}
    {#- CLV disabled (clv_enabled: false): mean_predicted_clv stays null. #}
    select
        cast(null as varchar) as customer_id,
        cast(null as double) as clv_long
    where false
    {%- endif %}
),

members as (
    select
        clusters.cluster_id,
        clusters.cluster_name,
        rfm.recency_days,
        rfm.frequency,
        rfm.monetary,
        rfm.net_revenue,
        clv.clv_long
    from clusters
    inner join rfm
        on clusters.customer_id = rfm.customer_id
    left join clv
        on clusters.customer_id = clv.customer_id
),

profiles as (
    select
        cluster_id,
        cluster_name,
        count(*) as customers,
        avg(recency_days) as centroid_recency_days,
        avg(frequency) as centroid_frequency,
        {{ cv_exact_avg('monetary') }} as centroid_monetary,
        {{ cv_median('recency_days') }} as median_recency_days,
        {{ cv_median('frequency') }} as median_frequency,
        {{ cv_median('monetary') }} as median_monetary,
        {{ cv_exact_sum('net_revenue') }} as net_revenue,
        {{ cv_exact_avg('clv_long') }} as mean_predicted_clv
    from members
    group by cluster_id, cluster_name
),

final as (
    select
        cast(cluster_id as integer) as cluster_id,
        cast(cluster_name as varchar) as cluster_name,
        cast(customers as bigint) as customers,
        {{ cv_safe_divide('customers', 'sum(customers) over ()') }}
            as customer_share,
        cast(centroid_recency_days as double) as centroid_recency_days,
        cast(centroid_frequency as double) as centroid_frequency,
        cast(centroid_monetary as double) as centroid_monetary,
        cast(median_recency_days as double) as median_recency_days,
        cast(median_frequency as double) as median_frequency,
        cast(median_monetary as double) as median_monetary,
        cast(net_revenue as double) as net_revenue,
        {{ cv_safe_divide('net_revenue', 'sum(net_revenue) over ()') }}
            as revenue_share,
        cast(mean_predicted_clv as double) as mean_predicted_clv
    from profiles
)

select * from final

with

customers as (
    select
        segment,
        recency_days,
        frequency,
        monetary,
        net_revenue
    from {{ ref('fct_customer_rfm') }}
),

segment_map as (
    select
        segment,
        priority,
        description,
        recommended_action
    from {{ ref('rfm_segment_map') }}
),

segments as (
    select
        segment,
        count(*) as customers,
        {{ cv_exact_sum('net_revenue') }} as net_revenue,
        avg(recency_days) as avg_recency_days,
        avg(frequency) as avg_frequency,
        {{ cv_exact_avg('monetary') }} as avg_monetary
    from customers
    group by segment
),

totals as (
    select
        count(*) as customers,
        {{ cv_exact_sum('net_revenue') }} as net_revenue
    from customers
),

final as (
    select
        segment_map.segment,
        segment_map.priority as segment_priority,
        cast(coalesce(segments.customers, 0) as bigint) as customers,
        coalesce(
            {{ cv_safe_divide('segments.customers', 'totals.customers') }}, 0
        ) as customer_share,
        cast(coalesce(segments.net_revenue, 0) as double) as net_revenue,
        {{ cv_safe_divide(
            'coalesce(segments.net_revenue, 0)', 'totals.net_revenue'
        ) }} as revenue_share,
        cast(segments.avg_recency_days as double) as avg_recency_days,
        cast(segments.avg_frequency as double) as avg_frequency,
        cast(segments.avg_monetary as double) as avg_monetary,
        segment_map.description,
        segment_map.recommended_action
    from segment_map
    cross join totals
    left join segments
        on segment_map.segment = segments.segment
)

select * from final

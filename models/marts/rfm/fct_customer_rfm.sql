{#-
    Customers' RFM as of as_of_date. When as_of_date is the day after the
    data (the default), every order counts and the per-customer totals come
    from the incremental int_orders_aggregated_to_customers; with an
    as_of_date var they are summed from the orders up to that date.
-#}
-- depends_on: {{ ref('int_orders_aggregated_to_customers') }}
with

as_of as (
    select {{ cv_as_of_date(ref('int_orders_aggregated')) }} as as_of_date
),

{% if cv_as_of_date_is_after_data() -%}
customers as (
    select
        totals.customer_id,
        as_of.as_of_date,
        cast(totals.last_ordered_at_local as date) as last_order_date,
        totals.orders as frequency,
        totals.gross_revenue,
        totals.net_revenue
    from {{ ref('int_orders_aggregated_to_customers') }} as totals
    cross join as_of
),
{%- else -%}
orders as (
    select
        customer_id,
        cast(ordered_at_local as date) as order_date,
        is_sale,
        gross_revenue,
        net_revenue
    from {{ ref('int_orders_aggregated') }}
),

customers as (
    select
        orders.customer_id,
        as_of.as_of_date,
        max(case when orders.is_sale then orders.order_date end)
            as last_order_date,
        sum(case when orders.is_sale then 1 else 0 end) as frequency,
        sum(orders.gross_revenue) as gross_revenue,
        sum(orders.net_revenue) as net_revenue
    from orders
    cross join as_of
    where orders.order_date <= as_of.as_of_date
    group by orders.customer_id, as_of.as_of_date
),
{%- endif %}

features as (
    select
        customer_id,
        as_of_date,
        {{ dbt.datediff('last_order_date', 'as_of_date', 'day') }}
            as recency_days,
        frequency,
        {{ cv_rfm_monetary('net_revenue', 'gross_revenue', 'frequency') }}
            as monetary,
        net_revenue
    from customers
    where frequency > 0
),

scored as (
    {{ cv_rfm_scored('features') }}
),

segment_map as (
    select * from {{ ref('rfm_segment_map') }}
),

final as (
    select
        scored.customer_id,
        cast(scored.recency_days as integer) as recency_days,
        cast(scored.frequency as bigint) as frequency,
        cast(scored.monetary as double) as monetary,
        cast(scored.net_revenue as double) as net_revenue,
        scored.r_score,
        scored.f_score,
        scored.m_score,
        scored.fm_score,
        cast(scored.rfm_score as integer) as rfm_score,
        scored.rfm_cell,
        segment_map.segment,
        segment_map.priority as segment_priority,
        scored.value_tier,
        scored.as_of_date
    from scored
    left join segment_map
        on scored.r_score_5 between segment_map.r_score_min
            and segment_map.r_score_max
        and scored.fm_score_5 between segment_map.fm_score_min
            and segment_map.fm_score_max
)

select * from final

with

customers as (
    select * from {{ ref('int_orders_aggregated_to_customers') }}
),

rfm as (
    select
        customer_id,
        r_score,
        f_score,
        m_score,
        rfm_cell,
        segment,
        value_tier
    from {{ ref('fct_customer_rfm') }}
),

segment_map as (
    select
        segment,
        fallback_lifecycle_stage
    from {{ ref('rfm_segment_map') }}
),

clusters as (
    select
        customer_id,
        cluster_id,
        cluster_name
    from {{ ref('fct_customer_clusters') }}
),

clv as (
    {%- if var('clv_enabled') %}
    select
        customer_id,
        p_alive,
        clv_long,
        clv_decile,
        frequency
    from {{ ref('fct_customer_clv') }}
    {%- else %}
    {#- CLV disabled (clv_enabled: false): the columns stay, empty. #}
    select
        cast(null as varchar) as customer_id,
        cast(null as double) as p_alive,
        cast(null as double) as clv_long,
        cast(null as integer) as clv_decile,
        cast(null as integer) as frequency
    where false
    {%- endif %}
),

clv_model as (
    {#- fct_customer_clv scores every customer with a purchase, or nobody
        (the model was not fitted, or CLV is switched off). #}
    select count(*) > 0 as is_scored from clv
),

as_of as (
    select {{ cv_as_of_date(ref('int_orders_aggregated')) }} as as_of_date
),

final as (
    select
        customers.customer_id,
        customers.first_ordered_at,
        customers.last_ordered_at,
        customers.first_order_month,
        customers.orders,
        customers.units,
        cast(customers.gross_revenue as double) as gross_revenue,
        cast(customers.returns_amount as double) as returns_amount,
        cast(customers.net_revenue as double) as net_revenue,
        {{ cv_safe_divide('customers.gross_revenue', 'customers.orders') }}
            as average_order_value,
        coalesce(customers.home_store_id, 'none') as home_store_id,
        cast({{ dbt.datediff(
            'cast(customers.last_ordered_at_local as date)',
            'as_of.as_of_date', 'day'
        ) }} as integer) as days_since_last_order,
        as_of.as_of_date,
        rfm.r_score,
        rfm.f_score,
        rfm.m_score,
        rfm.rfm_cell,
        rfm.segment as rfm_segment,
        rfm.value_tier,
        clusters.cluster_id,
        clusters.cluster_name,
        clv.p_alive,
        clv.clv_long as predicted_clv,
        {#- See doc lifecycle_stage: from the CLV model, or from the RFM
            segment when there is none; null for a customer with only
            returns. #}
        case
            when not clv_model.is_scored
                then segment_map.fallback_lifecycle_stage
            when clv.p_alive is null then null
            when clv.p_alive < 0.3 then 'Inactive'
            when clv.p_alive < 0.6 then 'Declining'
            when clv.clv_decile <= 2 then 'High Value'
            when clv.frequency = 0 then 'Developing'
            when clv.clv_decile <= 6 then 'Regular'
            else 'Low Activity'
        end as lifecycle_stage
    from customers
    cross join as_of
    cross join clv_model
    left join rfm
        on customers.customer_id = rfm.customer_id
    left join segment_map
        on rfm.segment = segment_map.segment
    left join clusters
        on customers.customer_id = clusters.customer_id
    left join clv
        on customers.customer_id = clv.customer_id
)

select * from final

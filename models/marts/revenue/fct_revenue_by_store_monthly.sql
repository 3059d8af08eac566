with

orders as (
    select
        order_month,
        store_id,
        customer_id,
        is_sale,
        gross_revenue,
        returns_amount,
        net_revenue
    from {{ ref('int_orders_aggregated') }}
),

store_months as (
    select
        order_month,
        store_id,
        sum(gross_revenue) as gross_revenue,
        sum(returns_amount) as returns_amount,
        sum(net_revenue) as net_revenue,
        sum(case when is_sale then 1 else 0 end) as orders,
        count(distinct case when is_sale then customer_id end) as customers
    from orders
    group by order_month, store_id
),

final as (
    select
        order_month as month,
        store_id,
        cast(gross_revenue as double) as gross_revenue,
        cast(returns_amount as double) as returns_amount,
        cast(net_revenue as double) as net_revenue,
        cast(orders as bigint) as orders,
        cast(customers as bigint) as customers,
        {{ cv_safe_divide('gross_revenue', 'orders') }}
            as average_order_value
    from store_months
)

select * from final

with

customers as (
    select * from {{ ref('int_orders_aggregated_to_customers') }}
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
        as_of.as_of_date
    from customers
    cross join as_of
)

select * from final

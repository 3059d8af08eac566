{#-
    Order lines rolled up to orders. An order's time is its first line's;
    all its amounts count in the month of that time.
-#}
with

order_lines as (
    select
        order_id,
        customer_id,
        ordered_at,
        {{ cv_to_reporting_tz('ordered_at') }} as ordered_at_local,
        quantity,
        line_amount,
        is_return,
        store_id
    from {{ ref('stg_input__order_lines') }}
),

orders as (
    select
        order_id,
        customer_id,
        min(ordered_at) as ordered_at,
        min(ordered_at_local) as ordered_at_local,
        min(store_id) as store_id,
        sum(case when is_return then 0 else 1 end) as sale_lines,
        sum(case when is_return then 1 else 0 end) as return_lines,
        sum(case when is_return then 0 else quantity end) as units,
        sum(case when is_return then 0 else line_amount end) as gross_revenue,
        sum(case when is_return then -line_amount else 0 end)
            as returns_amount,
        sum(line_amount) as net_revenue
    from order_lines
    group by order_id, customer_id
),

final as (
    select
        order_id,
        customer_id,
        ordered_at,
        ordered_at_local,
        cast({{ dbt.date_trunc('month', 'ordered_at_local') }} as date)
            as order_month,
        store_id,
        sale_lines > 0 as is_sale,
        cast(sale_lines as bigint) as sale_lines,
        cast(return_lines as bigint) as return_lines,
        cast(units as bigint) as units,
        cast(gross_revenue as double) as gross_revenue,
        cast(returns_amount as double) as returns_amount,
        cast(net_revenue as double) as net_revenue
    from orders
)

select * from final

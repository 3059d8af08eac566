{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='customer_id',
    on_schema_change='fail',
) }}

{#-
    Orders rolled up to customers. A customer with only returns (say, a
    cancellation of an order placed before the data starts) has zero orders
    and null first/last order times. Incremental: a run recomputes the
    customers whose orders cv_changed_customer_orders selects, from all of
    their orders.
    The purchase-day columns are the CLV summary over all of the data
    (lifetimes' periods are days for day and week units): days with a sale,
    the first and last, the sales' net revenue and that of the first day,
    so that int_customer_clv_inputs need not rescan the orders.
-#}
with

orders as (
    {{ cv_changed_customer_orders() }}
),

store_orders as (
    select
        customer_id,
        store_id,
        count(*) as store_order_count
    from orders
    where is_sale
    group by customer_id, store_id
),

ranked_stores as (
    select
        customer_id,
        store_id,
        row_number() over (
            partition by customer_id
            order by store_order_count desc, store_id
        ) as store_rank
    from store_orders
),

home_stores as (
    select
        customer_id,
        store_id as home_store_id
    from ranked_stores
    where store_rank = 1
),

purchase_days as (
    select
        customer_id,
        cast(ordered_at_local as date) as purchase_date,
        sum(net_revenue) as purchase_day_value
    from orders
    where is_sale
    group by customer_id, cast(ordered_at_local as date)
),

customer_purchase_days as (
    select
        customer_id,
        count(*) as purchase_days,
        sum(purchase_day_value) as purchases_net_revenue,
        {{ cv_arg_min('purchase_day_value', 'purchase_date') }}
            as first_purchase_day_net_revenue
    from purchase_days
    group by customer_id
),

customer_totals as (
    select
        customer_id,
        min(case when is_sale then ordered_at end) as first_ordered_at,
        max(case when is_sale then ordered_at end) as last_ordered_at,
        min(case when is_sale then ordered_at_local end)
            as first_ordered_at_local,
        max(case when is_sale then ordered_at_local end)
            as last_ordered_at_local,
        sum(case when is_sale then 1 else 0 end) as orders,
        sum(units) as units,
        sum(gross_revenue) as gross_revenue,
        sum(returns_amount) as returns_amount,
        sum(net_revenue) as net_revenue
    from orders
    group by customer_id
),

final as (
    select
        customer_totals.customer_id,
        customer_totals.first_ordered_at,
        customer_totals.last_ordered_at,
        customer_totals.first_ordered_at_local,
        customer_totals.last_ordered_at_local,
        cast({{ dbt.date_trunc(
            'month', 'customer_totals.first_ordered_at_local'
        ) }} as date) as first_order_month,
        cast(customer_totals.orders as bigint) as orders,
        cast(customer_totals.units as bigint) as units,
        customer_totals.gross_revenue,
        customer_totals.returns_amount,
        customer_totals.net_revenue,
        home_stores.home_store_id,
        cast(
            coalesce(customer_purchase_days.purchase_days, 0) as bigint
        ) as purchase_days,
        cast(customer_totals.first_ordered_at_local as date)
            as first_purchase_date,
        cast(customer_totals.last_ordered_at_local as date)
            as last_purchase_date,
        customer_purchase_days.purchases_net_revenue,
        customer_purchase_days.first_purchase_day_net_revenue,
        {{ cv_run_started_at() }}
            as updated_at
    from customer_totals
    left join home_stores
        on customer_totals.customer_id = home_stores.customer_id
    left join customer_purchase_days
        on customer_totals.customer_id = customer_purchase_days.customer_id
)

select * from final

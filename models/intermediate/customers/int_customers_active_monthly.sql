{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='customer_id',
    on_schema_change='fail',
) }}

{#-
    One row per customer and month in which the customer placed at least one
    order (sale) or returned something, with the customer's first-purchase
    month (cohort) and the month's amounts. Drives new/returning/retained
    counts, cohorts, RFM transitions and the monthly revenue mart (which so
    sums a row per customer and month instead of every order).
    Incremental: a run recomputes the customers whose orders
    cv_changed_customer_orders selects, from all of their orders.
-#}
with

orders as (
    {{ cv_changed_customer_orders() }}
),

customer_months as (
    select
        customer_id,
        order_month,
        sum(case when is_sale then 1 else 0 end) as orders,
        max(case when is_sale then cast(ordered_at_local as date) end)
            as last_order_date,
        sum(units) as units,
        sum(gross_revenue) as gross_revenue,
        sum(returns_amount) as returns_amount,
        sum(net_revenue) as net_revenue
    from orders
    group by customer_id, order_month
),

first_months as (
    {#- The cohort: the month of the first sale (first_order_month of
        int_orders_aggregated_to_customers), computed here so that this
        model need not wait for that one. -#}
    select
        customer_id,
        min(case when orders > 0 then order_month end) as first_order_month
    from customer_months
    group by customer_id
),

final as (
    select
        customer_months.customer_id,
        customer_months.order_month,
        first_months.first_order_month,
        customer_months.orders > 0 as is_active,
        customer_months.order_month = first_months.first_order_month
            as is_new,
        cast(customer_months.orders as bigint) as orders,
        customer_months.last_order_date,
        cast(customer_months.units as bigint) as units,
        customer_months.gross_revenue,
        customer_months.returns_amount,
        customer_months.net_revenue,
        {{ cv_run_started_at() }}
            as updated_at
    from customer_months
    inner join first_months
        on customer_months.customer_id = first_months.customer_id
)

select * from final

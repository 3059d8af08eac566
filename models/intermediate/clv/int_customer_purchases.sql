{{ config(materialized='view') }}

{#-
    One row per order with a sale: the purchases the CLV models see, valued
    at the order's net revenue (exact decimal), on its date in the
    reporting time zone. A view: the two CLV summaries read it once each.
-#}
with

orders as (
    select
        customer_id,
        ordered_at_local,
        net_revenue
    from {{ ref('int_orders_aggregated') }}
    where is_sale
),

final as (
    select
        customer_id,
        cast(ordered_at_local as date) as purchase_date,
        net_revenue as purchase_value
    from orders
)

select * from final

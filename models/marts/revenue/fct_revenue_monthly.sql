{#-
    Summed from one row per customer and month (int_customers_active_monthly)
    rather than from every order: the same exact decimal sums, and a month's
    active customers are its rows with a sale, so no count(distinct) over
    the orders is needed.
-#}
with

customer_months as (
    select
        order_month,
        is_active,
        orders,
        units,
        gross_revenue,
        returns_amount,
        net_revenue
    from {{ ref('int_customers_active_monthly') }}
),

months as (
    {{ cv_month_spine('customer_months', 'order_month') }}
),

monthly as (
    select
        order_month,
        sum(gross_revenue) as gross_revenue,
        sum(returns_amount) as returns_amount,
        sum(net_revenue) as net_revenue,
        sum(orders) as orders,
        sum(units) as units,
        sum(case when is_active then 1 else 0 end) as active_customers
    from customer_months
    group by order_month
),

filled as (
    select
        months.month,
        coalesce(monthly.gross_revenue, 0) as gross_revenue,
        coalesce(monthly.returns_amount, 0) as returns_amount,
        coalesce(monthly.net_revenue, 0) as net_revenue,
        coalesce(monthly.orders, 0) as orders,
        coalesce(monthly.units, 0) as units,
        coalesce(monthly.active_customers, 0) as active_customers
    from months
    left join monthly
        on months.month = monthly.order_month
),

final as (
    select
        month,
        cast(gross_revenue as double) as gross_revenue,
        cast(returns_amount as double) as returns_amount,
        cast(net_revenue as double) as net_revenue,
        cast(orders as bigint) as orders,
        cast(units as bigint) as units,
        cast(active_customers as bigint) as active_customers,
        {{ cv_safe_divide('gross_revenue', 'orders') }}
            as average_order_value,
        100 * (
            net_revenue - lag(net_revenue) over (order by month)
        ) / nullif(abs(lag(net_revenue) over (order by month)), 0)
            as net_revenue_growth_pct
    from filled
)

select * from final

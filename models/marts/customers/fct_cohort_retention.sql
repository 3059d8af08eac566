with

customer_months as (
    select
        customer_id,
        order_month,
        first_order_month,
        is_active,
        net_revenue
    from {{ ref('int_customers_active_monthly') }}
    where first_order_month is not null
),

months as (
    {{ cv_month_spine(ref('int_orders_aggregated'), 'order_month') }}
),

cohorts as (
    select
        first_order_month as cohort_month,
        count(distinct customer_id) as cohort_customers
    from customer_months
    group by first_order_month
),

cells as (
    select
        first_order_month as cohort_month,
        order_month,
        sum(case when is_active then 1 else 0 end) as active_customers,
        sum(net_revenue) as net_revenue
    from customer_months
    group by first_order_month, order_month
),

grid as (
    select
        cohorts.cohort_month,
        cohorts.cohort_customers,
        months.month,
        {{ dbt.datediff('cohorts.cohort_month', 'months.month', 'month') }}
            as months_since_first_purchase,
        coalesce(cells.active_customers, 0) as active_customers,
        coalesce(cells.net_revenue, 0) as net_revenue
    from cohorts
    inner join months
        on months.month >= cohorts.cohort_month
    left join cells
        on cohorts.cohort_month = cells.cohort_month
        and months.month = cells.order_month
),

final as (
    select
        cohort_month,
        cast(months_since_first_purchase as integer)
            as months_since_first_purchase,
        month,
        cast(cohort_customers as bigint) as cohort_customers,
        cast(active_customers as bigint) as active_customers,
        {{ cv_safe_divide('active_customers', 'cohort_customers') }}
            as retention_rate,
        cast(net_revenue as double) as net_revenue,
        {{ cv_safe_divide(
            'sum(net_revenue) over (partition by cohort_month order by month'
            ~ ' rows between unbounded preceding and current row)',
            'cohort_customers'
        ) }} as cumulative_revenue_per_customer
    from grid
)

select * from final

with

customer_months as (
    select
        customer_id,
        order_month,
        is_new
    from {{ ref('int_customers_active_monthly') }}
    where is_active
),

months as (
    {{ cv_month_spine(ref('int_orders_aggregated'), 'order_month') }}
),

retained as (
    select
        this_month.order_month,
        count(*) as retained_customers
    from customer_months as this_month
    inner join customer_months as previous_month
        on this_month.customer_id = previous_month.customer_id
        and previous_month.order_month = cast(
            {{ dbt.dateadd('month', -1, 'this_month.order_month') }} as date
        )
    group by this_month.order_month
),

monthly as (
    select
        order_month,
        count(*) as active_customers,
        sum(case when is_new then 1 else 0 end) as new_customers
    from customer_months
    group by order_month
),

filled as (
    select
        months.month,
        coalesce(monthly.active_customers, 0) as active_customers,
        coalesce(monthly.new_customers, 0) as new_customers,
        coalesce(retained.retained_customers, 0) as retained_customers
    from months
    left join monthly
        on months.month = monthly.order_month
    left join retained
        on months.month = retained.order_month
),

final as (
    select
        month,
        cast(active_customers as bigint) as active_customers,
        cast(new_customers as bigint) as new_customers,
        cast(active_customers - new_customers as bigint)
            as returning_customers,
        {{ cv_safe_divide('new_customers', 'active_customers') }}
            as new_customer_ratio,
        cast(retained_customers as bigint) as retained_customers,
        {{ cv_safe_divide(
            'retained_customers',
            'lag(active_customers) over (order by month)'
        ) }} as retention_rate
    from filled
)

select * from final

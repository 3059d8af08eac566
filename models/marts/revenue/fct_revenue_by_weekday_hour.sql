with

orders as (
    select
        {{ cv_iso_weekday('ordered_at_local') }} as iso_weekday,
        cast(extract(hour from ordered_at_local) as integer) as hour_of_day,
        is_sale,
        gross_revenue,
        net_revenue
    from {{ ref('int_orders_aggregated') }}
),

weekdays as (
    select 1 as iso_weekday, 'Monday' as weekday_name
    union all select 2, 'Tuesday'
    union all select 3, 'Wednesday'
    union all select 4, 'Thursday'
    union all select 5, 'Friday'
    union all select 6, 'Saturday'
    union all select 7, 'Sunday'
),

hours as (
    select cast(generated_number - 1 as integer) as hour_of_day
    from ({{ dbt.generate_series(24) }}) as series
),

cells as (
    select
        iso_weekday,
        hour_of_day,
        sum(case when is_sale then 1 else 0 end) as orders,
        sum(gross_revenue) as gross_revenue,
        sum(net_revenue) as net_revenue
    from orders
    group by iso_weekday, hour_of_day
),

final as (
    select
        weekdays.iso_weekday,
        weekdays.weekday_name,
        hours.hour_of_day,
        cast(coalesce(cells.orders, 0) as bigint) as orders,
        cast(coalesce(cells.gross_revenue, 0) as double) as gross_revenue,
        cast(coalesce(cells.net_revenue, 0) as double) as net_revenue,
        {{ cv_safe_divide('cells.gross_revenue', 'cells.orders') }}
            as average_order_value
    from weekdays
    cross join hours
    left join cells
        on weekdays.iso_weekday = cells.iso_weekday
        and hours.hour_of_day = cells.hour_of_day
)

select * from final

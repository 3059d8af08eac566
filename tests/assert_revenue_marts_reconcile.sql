{#-
    The revenue marts tie back to the accepted order lines: the net revenue
    of each one sums to the lines' total, to within half a cent. One scan of
    the lines serves the three marts (a cv_equal_totals test per mart read
    them three times, about 2 s each at 100M lines). Returns each mart that
    does not reconcile, with both totals.
-#}
with

lines as (
    select coalesce(sum(line_amount), 0) as total
    from {{ ref('stg_input__order_lines') }}
),

marts as (
    select
        'fct_revenue_monthly' as mart,
        coalesce(sum(net_revenue), 0) as total
    from {{ ref('fct_revenue_monthly') }}
    union all
    select
        'fct_revenue_by_store_monthly' as mart,
        coalesce(sum(net_revenue), 0) as total
    from {{ ref('fct_revenue_by_store_monthly') }}
    union all
    select
        'fct_revenue_by_weekday_hour' as mart,
        coalesce(sum(net_revenue), 0) as total
    from {{ ref('fct_revenue_by_weekday_hour') }}
)

select
    marts.mart,
    marts.total as mart_total,
    lines.total as lines_total
from marts
cross join lines
where abs(marts.total - lines.total) > 0.005

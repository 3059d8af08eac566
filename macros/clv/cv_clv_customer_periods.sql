{#-
    One row per customer of `periods`, a relation with one row per customer
    and purchase period (customer_id, period_start, period_value): periods
    (count), first_period, last_period, total_value and first_period_value
    (exact sums).
-#}
{% macro cv_clv_customer_periods(periods) -%}
    select
        customer_id,
        count(*) as periods,
        min(period_start) as first_period,
        max(period_start) as last_period,
        sum(period_value) as total_value,
        {{ cv_arg_min('period_value', 'period_start') }} as first_period_value
    from {{ periods }}
    group by customer_id
{%- endmacro %}

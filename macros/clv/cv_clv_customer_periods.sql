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

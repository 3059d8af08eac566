{% macro cv_clv_duration(from_period, to_period) -%}
    {%- set unit = cv_clv_time_unit() -%}
    {%- if unit == 'month' -%}
        cast({{ dbt.datediff(from_period, to_period, 'month') }} as double)
    {%- elif unit == 'week' -%}
        {{ dbt.datediff(from_period, to_period, 'day') }} / 7.0
    {%- else -%}
        cast({{ dbt.datediff(from_period, to_period, 'day') }} as double)
    {%- endif -%}
{%- endmacro %}

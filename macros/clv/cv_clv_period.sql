{% macro cv_clv_period(date_expr) -%}
    {%- if cv_clv_time_unit() == 'month' -%}
        cast({{ dbt.date_trunc('month', date_expr) }} as date)
    {%- else -%}
        cast({{ date_expr }} as date)
    {%- endif -%}
{%- endmacro %}

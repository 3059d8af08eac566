{% macro cv_clv_periods_per_month() -%}
    {{ cv_clv_registry()['periods_per_month'][cv_clv_time_unit()] }}
{%- endmacro %}

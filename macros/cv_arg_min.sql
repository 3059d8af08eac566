{% macro cv_arg_min(value, key) -%}
    {{ return(adapter.dispatch('cv_arg_min', 'customer_value')(value, key)) }}
{%- endmacro %}

{% macro default__cv_arg_min(value, key) -%}
    min_by({{ value }}, {{ key }})
{%- endmacro %}

{% macro duckdb__cv_arg_min(value, key) -%}
    arg_min({{ value }}, {{ key }})
{%- endmacro %}

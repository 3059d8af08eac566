{#-
    The value of `value` on the row with the smallest `key` (an aggregate;
    the key must be unique within the group, or the pick is arbitrary).
-#}
{% macro cv_arg_min(value, key) -%}
    {{ return(adapter.dispatch('cv_arg_min', 'customer_value')(value, key)) }}
{%- endmacro %}

{#- Snowflake, Databricks, Trino and others spell it min_by. -#}
{% macro default__cv_arg_min(value, key) -%}
    min_by({{ value }}, {{ key }})
{%- endmacro %}

{% macro duckdb__cv_arg_min(value, key) -%}
    arg_min({{ value }}, {{ key }})
{%- endmacro %}

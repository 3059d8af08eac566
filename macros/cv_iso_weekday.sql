{% macro cv_iso_weekday(expr) -%}
    {{ return(adapter.dispatch('cv_iso_weekday', 'customer_value')(expr)) }}
{%- endmacro %}

{% macro default__cv_iso_weekday(expr) -%}
    cast(extract(isodow from {{ expr }}) as integer)
{%- endmacro %}

{% macro snowflake__cv_iso_weekday(expr) -%}
    dayofweekiso({{ expr }})
{%- endmacro %}

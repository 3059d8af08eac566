{% macro cv_median(expr) -%}
    {{ return(adapter.dispatch('cv_median', 'customer_value')(expr)) }}
{%- endmacro %}

{% macro default__cv_median(expr) -%}
    percentile_cont(0.5) within group (order by {{ expr }})
{%- endmacro %}

{% macro duckdb__cv_median(expr) -%}
    median({{ expr }})
{%- endmacro %}

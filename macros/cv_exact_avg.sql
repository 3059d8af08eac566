{% macro cv_exact_avg(expr, over='') -%}
    cast(avg(cast({{ expr }} as decimal(38, 18))) {{ over }} as double)
{%- endmacro %}

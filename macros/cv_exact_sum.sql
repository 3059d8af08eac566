{% macro cv_exact_sum(expr) -%}
    sum(cast({{ expr }} as decimal(38, 18)))
{%- endmacro %}

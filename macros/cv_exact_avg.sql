{#-
    Mean of a numeric expression that does not depend on row order: each
    value rounded to 18 decimal places and summed exactly (see
    cv_exact_sum), then divided by the count; a double. With `over` (a
    window such as "over (partition by group_name)") it is a window
    function.
-#}
{% macro cv_exact_avg(expr, over='') -%}
    cast(avg(cast({{ expr }} as decimal(38, 18))) {{ over }} as double)
{%- endmacro %}

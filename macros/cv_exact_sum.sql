{#-
    Sum of a numeric expression with each value rounded to 18 decimal places
    and added exactly, as a decimal, so that the total does not depend on the
    order the rows arrive in. A float sum does, in its last bits, and the
    warehouse sums in parallel in whatever order its threads finish: without
    this, a summary mart would differ between two builds of the same data.
    Totals up to 1e20; the result is a decimal (cast it to double in `final`).
-#}
{% macro cv_exact_sum(expr) -%}
    sum(cast({{ expr }} as decimal(38, 18)))
{%- endmacro %}

{#-
    One `month` (first day, date) per calendar month from
    `bounds.first_month` to `bounds.last_month` inclusive (up to 100 years),
    for a CTE named in `bounds` with those two columns, so months without
    orders still get a row.
-#}
{% macro cv_month_spine(bounds) -%}
    {%- set month_expr = dbt.dateadd(
        'month', 'series.generated_number - 1', bounds ~ '.first_month'
    ) -%}
    select cast({{ month_expr }} as date) as month
    from {{ bounds }}
    cross join ({{ dbt.generate_series(1200) }}) as series
    where {{ month_expr }} <= {{ bounds }}.last_month
{%- endmacro %}

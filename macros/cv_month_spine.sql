{% macro cv_month_spine(relation, month_column) -%}
    {%- set month_expr = dbt.dateadd(
        'month', 'series.generated_number - 1', 'bounds.first_month'
    ) -%}
    select cast({{ month_expr }} as date) as month
    from (
        select
            min({{ month_column }}) as first_month,
            max({{ month_column }}) as last_month
        from {{ relation }}
    ) as bounds
    cross join ({{ dbt.generate_series(1200) }}) as series
    where {{ month_expr }} <= bounds.last_month
{%- endmacro %}

{% macro cv_as_of_date(orders_relation) -%}
    {%- set as_of = var('as_of_date') -%}
    {%- if as_of -%}
        cast('{{ as_of }}' as date)
    {%- else -%}
        (
            select cast({{ dbt.dateadd(
                'day', 1, 'cast(max(ordered_at_local) as date)'
            ) }} as date)
            from {{ orders_relation }}
        )
    {%- endif -%}
{%- endmacro %}

{% macro cv_as_of_date_is_after_data() -%}
    {{ return(not var('as_of_date')) }}
{%- endmacro %}

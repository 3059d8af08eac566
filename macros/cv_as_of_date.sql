{#-
    The reference date for recency and "days since": var('as_of_date') when
    set, else the day after the latest order line of `orders_relation` (a
    relation with `ordered_at_local`, the reporting-time-zone timestamp).
-#}
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

{#-
    True when as_of_date is the day after the data (var('as_of_date') not
    set): every order counts, so all-time per-customer totals
    (int_orders_aggregated_to_customers) equal totals up to as_of_date.
-#}
{% macro cv_as_of_date_is_after_data() -%}
    {{ return(not var('as_of_date')) }}
{%- endmacro %}

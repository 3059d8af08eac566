{% macro cv_changed_customer_orders() -%}
    select * from {{ ref('int_orders_aggregated') }}
    {%- if is_incremental() %}
    where customer_id in (
        select distinct customer_id
        from {{ ref('int_orders_aggregated') }}
        where updated_at > {{ cv_last_update('updated_at') }}
    )
    {%- endif %}
{%- endmacro %}

{#-
    The orders import of an incremental customer-level model: every order of
    int_orders_aggregated, or in an incremental run only the orders of the
    customers with an order (re)computed there since `this` was last
    updated (its max updated_at). Those customers' rows are recomputed from
    all of their orders and replace the old ones (delete+insert on
    customer_id), so the table equals a full refresh.
-#}
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

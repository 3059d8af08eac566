{#-
    Incremental customer-level models: the customers with an order
    (re)computed in int_orders_aggregated since `this` was last updated
    (its max updated_at). Those customers' rows are recomputed from all of
    their orders and replace the old ones (delete+insert on customer_id).
-#}
{% macro cv_changed_customers() -%}
    select distinct customer_id
    from {{ ref('int_orders_aggregated') }}
    where updated_at > (
        {#- An empty table (nothing to compare with) takes every customer. #}
        select coalesce(max(updated_at), timestamp '1900-01-01') from {{ this }}
    )
{%- endmacro %}

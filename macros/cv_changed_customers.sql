{#-
    Incremental customer-level models: the customers with an order
    (re)computed in int_orders_aggregated since `this` was last updated
    (its max updated_at). Those customers' rows are recomputed from all of
    their orders and replace the old ones (delete+insert on customer_id).
-#}
{% macro cv_changed_customers() -%}
    select distinct customer_id
    from {{ ref('int_orders_aggregated') }}
    where updated_at > {{ cv_last_update('updated_at') }}
{%- endmacro %}

{#-
    When `this` was last computed: the max of its run-timestamp `column`,
    or 1900 for an empty table, so that everything counts as changed (an
    empty table has nothing to compare with).
-#}
{% macro cv_last_update(column) -%}
    (select coalesce(max({{ column }}), timestamp '1900-01-01') from {{ this }})
{%- endmacro %}

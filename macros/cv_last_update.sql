{#-
    When `this` was last computed: the max of its run-timestamp `column`,
    or 1900 for an empty table, so that everything counts as changed (an
    empty table has nothing to compare with).
-#}
{% macro cv_last_update(column) -%}
    (select coalesce(max({{ column }}), timestamp '1900-01-01') from {{ this }})
{%- endmacro %}

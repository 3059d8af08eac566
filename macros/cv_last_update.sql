{% macro cv_last_update(column) -%}
    (select coalesce(max({{ column }}), timestamp '1900-01-01') from {{ this }})
{%- endmacro %}

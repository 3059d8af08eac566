{#-
    Written after `name as` in a CTE that several parts of a query read:
    DuckDB (and PostgreSQL) otherwise materialize such a CTE, which for the
    parsed input means holding every raw row at once (spilling gigabytes to
    disk at 100M rows); inlined, each reader streams the file. Other
    warehouses decide for themselves.
-#}
{% macro cv_not_materialized() -%}
    {{- 'not materialized' if target.type in ('duckdb', 'postgres') -}}
{%- endmacro %}

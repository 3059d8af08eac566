{% macro cv_not_materialized() -%}
    {{- 'not materialized' if target.type in ('duckdb', 'postgres') -}}
{%- endmacro %}

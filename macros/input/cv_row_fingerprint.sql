{#-
    DuckDB: a 64-bit hash of a row's raw values, for finding exact
    duplicates (always compared together with the parsed key columns, so a
    hash collision alone never marks a row as a duplicate).
-#}
{% macro cv_row_fingerprint(columns) -%}
    {%- if columns -%}
        hash({{ columns | join(', ') }})
    {%- else -%}
        cast(0 as ubigint)
    {%- endif -%}
{%- endmacro %}

{% macro cv_row_fingerprint(columns) -%}
    {%- if columns -%}
        hash({{ columns | join(', ') }})
    {%- else -%}
        cast(0 as ubigint)
    {%- endif -%}
{%- endmacro %}

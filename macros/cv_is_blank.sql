{% macro cv_is_blank(expr, source_type='VARCHAR') -%}
    {%- if source_type == 'VARCHAR' -%}
        coalesce(trim({{ expr }}) = '', true)
    {%- else -%}
        ({{ expr }} is null)
    {%- endif -%}
{%- endmacro %}

{#-
    A raw value as a number; null when it does not parse. For `integer`,
    text such as "6.0" is accepted but "6.5" is not (never silently rounded).
-#}
{% macro cv_parse_number(expr, source_type, target_type) -%}
    {%- if source_type == 'VARCHAR' and target_type == 'integer' -%}
        case
            when try_cast(trim({{ expr }}) as double)
                = floor(try_cast(trim({{ expr }}) as double))
                then try_cast(try_cast(trim({{ expr }}) as double) as integer)
        end
    {%- elif source_type == 'VARCHAR' -%}
        try_cast(trim({{ expr }}) as {{ target_type }})
    {%- else -%}
        try_cast({{ expr }} as {{ target_type }})
    {%- endif -%}
{%- endmacro %}

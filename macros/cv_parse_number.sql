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

{% macro cv_clean_text(expr, source_type='VARCHAR', strip_float_suffix=false) -%}
    {%- set text = expr if source_type == 'VARCHAR'
        else 'cast(' ~ expr ~ ' as varchar)' -%}
    {%- if strip_float_suffix -%}
        nullif(
            case
                when trim({{ text }}) like '%.%0'
                    then regexp_replace(trim({{ text }}), '\.0+$', '')
                else trim({{ text }})
            end,
            ''
        )
    {%- else -%}
        nullif(trim({{ text }}), '')
    {%- endif -%}
{%- endmacro %}

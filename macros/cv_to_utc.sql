{% macro cv_to_utc(expr) -%}
    {%- set tz = var('input_timezone') -%}
    {%- if tz | upper in ['UTC', 'Z', 'ETC/UTC'] -%}
        {{ expr }}
    {%- else -%}
        timezone('UTC', timezone('{{ tz }}', {{ expr }}))
    {%- endif -%}
{%- endmacro %}

{% macro cv_to_reporting_tz(expr) -%}
    {%- set tz = var('reporting_timezone') -%}
    {%- if tz | upper in ['UTC', 'Z', 'ETC/UTC'] -%}
        {{ expr }}
    {%- else -%}
        timezone('{{ tz }}', timezone('UTC', {{ expr }}))
    {%- endif -%}
{%- endmacro %}

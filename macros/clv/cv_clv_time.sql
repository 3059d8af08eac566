{% macro cv_clv_time_unit() -%}
    {%- set unit = var('clv_time_unit') -%}
    {%- if unit not in ['day', 'week', 'month'] -%}
        {{ exceptions.raise_compiler_error(
            "Unknown clv_time_unit '" ~ unit ~ "': use day, week or month."
        ) }}
    {%- endif -%}
    {{ return(unit) }}
{%- endmacro %}

{% macro cv_clv_time_unit() -%}
    {%- set units = cv_clv_registry()['periods_per_month'] | list -%}
    {%- set unit = var('clv_time_unit') -%}
    {%- if unit not in units -%}
        {{ exceptions.raise_compiler_error(
            "Unknown clv_time_unit '" ~ unit ~ "': use "
            ~ units[:-1] | join(', ') ~ " or " ~ units[-1] ~ "."
        ) }}
    {%- endif -%}
    {{ return(unit) }}
{%- endmacro %}

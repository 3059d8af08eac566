{% macro cv_rfm_bins() -%}
    {%- set bins = var('rfm_bins') | int -%}
    {%- if bins < 2 or bins > 9 -%}
        {{ exceptions.raise_compiler_error(
            "rfm_bins must be between 2 and 9, got " ~ bins ~ "."
        ) }}
    {%- endif -%}
    {{ return(bins) }}
{%- endmacro %}

{% macro cv_rfm_tie_rule() -%}
    {%- set rule = var('rfm_tie_rule') -%}
    {%- if rule not in ['equal_values', 'rank_first'] -%}
        {{ exceptions.raise_compiler_error(
            "Unknown rfm_tie_rule '" ~ rule
            ~ "': use equal_values or rank_first."
        ) }}
    {%- endif -%}
    {{ return(rule) }}
{%- endmacro %}

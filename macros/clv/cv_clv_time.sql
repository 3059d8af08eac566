{#-
    Time arithmetic of the CLV inputs, by var('clv_time_unit'):
    day   periods are days, durations in days (lifetimes freq='D');
    week  periods are days, durations in days / 7 (lifetimes freq='D',
          freq_multiplier=7, as in its CDNOW example);
    month periods are calendar months, durations in whole months.
-#}
{% macro cv_clv_time_unit() -%}
    {%- set unit = var('clv_time_unit') -%}
    {%- if unit not in ['day', 'week', 'month'] -%}
        {{ exceptions.raise_compiler_error(
            "Unknown clv_time_unit '" ~ unit ~ "': use day, week or month."
        ) }}
    {%- endif -%}
    {{ return(unit) }}
{%- endmacro %}

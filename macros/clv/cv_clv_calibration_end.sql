{% macro cv_clv_calibration_end(observation_end) -%}
    {%- if var('clv_calibration_end') -%}
        cast('{{ var("clv_calibration_end") }}' as date)
    {%- else -%}
        cast({{ dbt.dateadd(
            'day', -(var('clv_holdout_days') | int), observation_end
        ) }} as date)
    {%- endif -%}
{%- endmacro %}

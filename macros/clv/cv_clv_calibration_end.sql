{#-
    Last date of the calibration period: var('clv_calibration_end') or the
    observation end minus var('clv_holdout_days').
-#}
{% macro cv_clv_calibration_end(orders_relation) -%}
    {%- if var('clv_calibration_end') -%}
        cast('{{ var("clv_calibration_end") }}' as date)
    {%- else -%}
        cast({{ dbt.dateadd(
            'day', -(var('clv_holdout_days') | int),
            cv_clv_observation_end(orders_relation)
        ) }} as date)
    {%- endif -%}
{%- endmacro %}

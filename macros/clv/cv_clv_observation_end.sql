{% macro cv_clv_observation_end(orders_relation) -%}
    {%- if var('clv_observation_end') -%}
        cast('{{ var("clv_observation_end") }}' as date)
    {%- else -%}
        {{ cv_as_of_date(orders_relation) }}
    {%- endif -%}
{%- endmacro %}

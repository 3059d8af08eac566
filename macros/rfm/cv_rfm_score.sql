{% macro cv_rfm_score(value, higher_is_better=true, partition_by=none) -%}
    {%- set bins = cv_rfm_bins() -%}
    {%- set partition = 'partition by ' ~ partition_by if partition_by
        else '' -%}
    {%- set ascending_score -%}
        greatest(1, cast(ceil(
            (row_number() over (
                {{ partition }} order by {{ value }}, customer_id
            ) - 1) * {{ bins }}
            / cast(count(*) over ({{ partition }}) - 1 as double)
        ) as integer))
    {%- endset -%}
    {#- A lone customer (n = 1, no quantiles) scores 1 on every measure. -#}
    case
        when count(*) over ({{ partition }}) = 1 then 1
        {%- if higher_is_better %}
        else {{ ascending_score }}
        {%- else %}
        else {{ bins }} + 1 - {{ ascending_score }}
        {%- endif %}
    end
{%- endmacro %}

{% macro cv_rfm_score_from_worse(worse, customers) -%}
    {%- set bins = cv_rfm_bins() -%}
    cast(1 + floor(
        {{ bins }} * coalesce({{ worse }}, 0)
        / cast({{ customers }} as double)
    ) as integer)
{%- endmacro %}

{#-
    The two tie rules for a score (1..bins) of a measure among the
    customers of a partition; `higher_is_better=false` reverses the measure
    (recency). Under both rules a lone customer scores 1 on every measure.

    equal_values: customers with the same value get the same score, the
        score of the lowest-placed member of their tie group:
        1 + floor(bins * (rank - 1) / n), rank over the measure from worst
        to best with ties sharing the lowest rank, i.e. rank - 1 = the
        number of customers with a worse value. A one-time buyer is never
        split across two frequency scores. cv_rfm_scored computes it from
        counts per distinct value, as thresholds (cv_rfm_thresholds).
    rank_first: pandas qcut(x.rank(method='first'), bins, labels=1..bins):
        rank r = row_number over (value ascending, customer_id), score =
        the smallest k with r <= 1 + (n - 1) * k / bins; for recency the
        labels run backwards (bins + 1 - score), as in the notebooks. This
        macro is its window expression.
-#}
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

{#-
    equal_values score from the number of customers with a worse value
    (`worse`, null for none) among `customers`: 1 + floor(bins * worse / n).
-#}
{% macro cv_rfm_score_from_worse(worse, customers) -%}
    {%- set bins = cv_rfm_bins() -%}
    cast(1 + floor(
        {{ bins }} * coalesce({{ worse }}, 0)
        / cast({{ customers }} as double)
    ) as integer)
{%- endmacro %}

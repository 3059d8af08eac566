{% macro cv_rfm_scored(features, partition_by=none) -%}
    {%- set bins = cv_rfm_bins() -%}
    {%- set rule = cv_rfm_tie_rule() -%}
    with
    {% if rule == 'equal_values' %}
    {#- Equal values share a score that depends only on how many customers
        have a worse value: thresholds per partition from customer counts
        per distinct value, then an expression per customer (see
        cv_rfm_thresholds; cv_rfm_tie_rule defines both rules). -#}
    thresholds as (
        {{ cv_rfm_thresholds(features, partition_by) }}
    ),

    scores as (
        select
            features.*,
            {%- for prefix, value, higher_is_better in cv_rfm_measures() %}
            {{ cv_rfm_score_from_thresholds(
                prefix, 'features.' ~ value, 'thresholds'
            ) }} as {{ prefix }}_score{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ features }} as features
        {%- if partition_by %}
        inner join thresholds
            on features.{{ partition_by }} = thresholds.{{ partition_by }}
        {%- else %}
        cross join thresholds
        {%- endif %}
    ),
    {% else %}
    {#- rank_first: window expressions (ties broken by customer_id). -#}
    scores as (
        select
            *,
            {{ cv_rfm_score('recency_days', false, partition_by) }}
                as r_score,
            {{ cv_rfm_score('frequency', true, partition_by) }} as f_score,
            {{ cv_rfm_score('monetary', true, partition_by) }} as m_score
        from {{ features }}
    ),
    {% endif %}

    combined as (
        select
            *,
            {{ cv_rfm_fm_score('f_score', 'm_score') }} as fm_score,
            r_score + f_score + m_score as rfm_score
        from scores
    )

    select
        *,
        cast(r_score as varchar) || cast(f_score as varchar)
            || cast(m_score as varchar) as rfm_cell,
        {{ cv_rfm_rescale('r_score', bins) }} as r_score_5,
        {{ cv_rfm_rescale('fm_score', bins) }} as fm_score_5,
        case
            when rfm_score >= {{ var('rfm_value_tier_high_min_score') }}
                then 'High'
            when rfm_score >= {{ var('rfm_value_tier_mid_min_score') }}
                then 'Mid'
            else 'Low'
        end as value_tier
    from combined
{%- endmacro %}

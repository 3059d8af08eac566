{#-
    Select over CTE `features` (customer_id, recency_days, frequency,
    monetary, and the `partition_by` column if given) adding r/f/m scores,
    the FM score, the summed score, the RFM cell and the scores rescaled to
    the 1..5 scale of the segment map.
-#}
{% macro cv_rfm_scored(features, partition_by=none) -%}
    {%- set bins = var('rfm_bins') | int -%}
    {%- if bins < 2 or bins > 9 -%}
        {{ exceptions.raise_compiler_error(
            "rfm_bins must be between 2 and 9, got " ~ bins ~ "."
        ) }}
    {%- endif -%}
    with

    scores as (
        select
            *,
            {{ cv_rfm_score('recency_days', false, partition_by) }}
                as r_score,
            {{ cv_rfm_score('frequency', true, partition_by) }} as f_score,
            {{ cv_rfm_score('monetary', true, partition_by) }} as m_score
        from {{ features }}
    ),

    combined as (
        select
            *,
            cast(floor((f_score + m_score + 1) / 2) as integer) as fm_score,
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

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
    {%- set rule = var('rfm_tie_rule') -%}
    {%- if rule not in ['equal_values', 'rank_first'] -%}
        {{ exceptions.raise_compiler_error(
            "Unknown rfm_tie_rule '" ~ rule
            ~ "': use equal_values or rank_first."
        ) }}
    {%- endif -%}
    {%- set measures = [
        ('r', 'recency_days', false),
        ('f', 'frequency', true),
        ('m', 'monetary', true),
    ] -%}
    with
    {% if rule == 'equal_values' %}
    {#- Equal values share a score that depends only on how many customers
        have a worse value: count customers per distinct value (a few
        thousand recency and frequency values; monetary values repeat too)
        and accumulate over the distinct values, instead of ranking every
        customer with a window (see cv_rfm_score for both rules). -#}
    sizes as (
        select
            {{ partition_by ~ ',' if partition_by }}
            count(*) as customers
        from {{ features }}
        {{ 'group by ' ~ partition_by if partition_by }}
    ),
    {%- for prefix, value, higher_is_better in measures %}

    {{ prefix }}_values as (
        select
            {{ partition_by ~ ',' if partition_by }}
            {{ value }} as value,
            count(*) as customers
        from {{ features }}
        group by {{ partition_by ~ ',' if partition_by }} {{ value }}
    ),

    {{ prefix }}_value_scores as (
        select
            {%- if partition_by %}
            {{ prefix }}_values.{{ partition_by }},
            {%- endif %}
            {{ prefix }}_values.value,
            {{ cv_rfm_score_from_worse(
                'sum(' ~ prefix ~ '_values.customers) over ('
                ~ ('partition by ' ~ prefix ~ '_values.' ~ partition_by
                    if partition_by else '')
                ~ ' order by ' ~ prefix ~ '_values.value '
                ~ ('asc' if higher_is_better else 'desc')
                ~ ' rows between unbounded preceding and 1 preceding)',
                'sizes.customers'
            ) }} as score
        from {{ prefix }}_values
        {%- if partition_by %}
        inner join sizes
            on {{ prefix }}_values.{{ partition_by }} = sizes.{{ partition_by }}
        {%- else %}
        cross join sizes
        {%- endif %}
    ),
    {%- endfor %}

    scores as (
        select
            features.*,
            r_value_scores.score as r_score,
            f_value_scores.score as f_score,
            m_value_scores.score as m_score
        from {{ features }} as features
        {%- for prefix, value, higher_is_better in measures %}
        inner join {{ prefix }}_value_scores
            on features.{{ value }}
                is not distinct from {{ prefix }}_value_scores.value
            {%- if partition_by %}
            and features.{{ partition_by }}
                = {{ prefix }}_value_scores.{{ partition_by }}
            {%- endif %}
        {%- endfor %}
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

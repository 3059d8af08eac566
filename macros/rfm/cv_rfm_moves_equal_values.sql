{% macro cv_rfm_moves_equal_values(features, segment_cells) -%}
    {%- set bins = cv_rfm_bins() -%}
    with

    thresholds as (
        {{ cv_rfm_thresholds(features, partition_by='snapshot_month') }}
    ),

    scored as (
        select
            features.snapshot_month,
            features.previous_frequency > 0 as has_previous,
            {%- for period, alias in [('', 'thresholds'),
                ('previous_', 'previous_thresholds')] %}
            {%- for prefix, value, higher_is_better in cv_rfm_measures() %}
            {{ cv_rfm_score_from_thresholds(
                prefix, 'features.' ~ period ~ value, alias
            ) }} as {{ period }}{{ prefix }}_score{{ ',' if not loop.last }}
            {%- endfor %}
            {{- ',' if not loop.last }}
            {%- endfor %}
        from {{ features }} as features
        inner join thresholds
            on features.snapshot_month = thresholds.snapshot_month
        left join thresholds as previous_thresholds
            on previous_thresholds.snapshot_month = cast(
                {{ dbt.dateadd('month', -1, 'features.snapshot_month') }}
                as date
            )
        where features.snapshot_month
            > (select min(snapshot_month) from {{ features }})
    )

    select
        scored.snapshot_month as to_month,
        coalesce(previous_cells.segment, '(new customer)') as from_segment,
        this_cells.segment as to_segment
    from scored
    inner join {{ segment_cells }} as this_cells
        on {{ cv_rfm_rescale('scored.r_score', bins) }} = this_cells.r_score_5
        and {{ cv_rfm_rescale(
            cv_rfm_fm_score('scored.f_score', 'scored.m_score'), bins
        ) }} = this_cells.fm_score_5
    left join {{ segment_cells }} as previous_cells
        on scored.has_previous
        and {{ cv_rfm_rescale('scored.previous_r_score', bins) }}
            = previous_cells.r_score_5
        and {{ cv_rfm_rescale(
            cv_rfm_fm_score(
                'scored.previous_f_score', 'scored.previous_m_score'
            ),
            bins
        ) }} = previous_cells.fm_score_5
{%- endmacro %}

{% macro cv_rfm_moves_rank_first(features, segment_cells) -%}
    with

    scored as (
        {{ cv_rfm_scored(features, partition_by='snapshot_month') }}
    ),

    segmented as (
        select
            scored.customer_id,
            scored.snapshot_month,
            segment_cells.segment
        from scored
        inner join {{ segment_cells }} as segment_cells
            on scored.r_score_5 = segment_cells.r_score_5
            and scored.fm_score_5 = segment_cells.fm_score_5
    )

    select
        this_month.snapshot_month as to_month,
        coalesce(previous_month.segment, '(new customer)') as from_segment,
        this_month.segment as to_segment
    from segmented as this_month
    left join segmented as previous_month
        on this_month.customer_id = previous_month.customer_id
        and previous_month.snapshot_month = cast(
            {{ dbt.dateadd('month', -1, 'this_month.snapshot_month') }}
            as date
        )
    where this_month.snapshot_month > (
        select min(snapshot_month) from segmented
    )
{%- endmacro %}

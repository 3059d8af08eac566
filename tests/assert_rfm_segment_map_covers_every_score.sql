{#-
    Every (R, FM) score pair on the 1..5 scale maps to exactly one segment
    of seeds/rfm_segment_map.csv: returns the pairs with no segment (gap) or
    several (overlap).
-#}
with

scores as (
    select cast(generated_number as integer) as score
    from ({{ dbt.generate_series(5) }}) as series
),

pairs as (
    select
        r.score as r_score,
        fm.score as fm_score
    from scores as r
    cross join scores as fm
),

matches as (
    select
        pairs.r_score,
        pairs.fm_score,
        count(segment_map.segment) as segments
    from pairs
    left join {{ ref('rfm_segment_map') }} as segment_map
        on pairs.r_score between segment_map.r_score_min
            and segment_map.r_score_max
        and pairs.fm_score between segment_map.fm_score_min
            and segment_map.fm_score_max
    group by pairs.r_score, pairs.fm_score
)

select * from matches where segments <> 1

{#-
    What the warehouse was built from: the input rows by file, row status
    and reject reason, with the input vars and the as-of date of the build
    on every row (the report's header reads them here, from a mart).
-#}
with

base_input__rows as (
    select
        source_file,
        row_status,
        reject_reason
    from {{ ref('base_input__rows') }}
),

as_of as (
    select {{ cv_as_of_date(ref('int_orders_aggregated')) }} as as_of_date
),

row_counts as (
    select
        source_file,
        row_status,
        reject_reason,
        count(*) as row_count
    from base_input__rows
    group by source_file, row_status, reject_reason
),

final as (
    select
        row_counts.source_file,
        row_counts.row_status,
        row_counts.reject_reason,
        row_counts.row_count,
        '{{ var("input_format") }}' as input_format,
        '{{ var("input_path") | replace("'", "''") }}' as input_path,
        '{{ var("input_timezone") }}' as input_timezone,
        '{{ var("reporting_timezone") }}' as reporting_timezone,
        as_of.as_of_date
    from row_counts
    cross join as_of
)

select * from final

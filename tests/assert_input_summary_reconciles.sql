{#-
    fct_input_summary holds exactly the row counts of base_input__rows, by
    file, row status and reject reason: one row per combination that
    differs (missing on either side, or another count).
-#}
with

base_input__rows as (
    select
        source_file,
        row_status,
        reject_reason
    from {{ ref('base_input__rows') }}
),

fct_input_summary as (
    select
        source_file,
        row_status,
        reject_reason,
        row_count
    from {{ ref('fct_input_summary') }}
),

base_counts as (
    select
        source_file,
        row_status,
        reject_reason,
        count(*) as row_count
    from base_input__rows
    group by source_file, row_status, reject_reason
),

compared as (
    select
        coalesce(base_counts.source_file, fct_input_summary.source_file)
            as source_file,
        coalesce(base_counts.row_status, fct_input_summary.row_status)
            as row_status,
        coalesce(base_counts.reject_reason, fct_input_summary.reject_reason)
            as reject_reason,
        base_counts.row_count as base_row_count,
        fct_input_summary.row_count as summary_row_count
    from base_counts
    full outer join fct_input_summary
        on base_counts.source_file = fct_input_summary.source_file
        and base_counts.row_status = fct_input_summary.row_status
        and base_counts.reject_reason
        is not distinct from fct_input_summary.reject_reason
)

select * from compared
where base_row_count is distinct from summary_row_count

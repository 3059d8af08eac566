{#-
    Nothing is lost: every raw row of the input is a sale, a return, an event
    or a rejected row, and the staging models hold exactly those rows.
    Raw rows are counted straight from the file, independently of staging.
-#}
with

raw_rows as (
    select count(*) as raw_count from {{ cv_input_rows() }}
),

statuses as (
    select
        count(*) as staged_count,
        count(*) filter (where row_status = 'sale') as sales,
        count(*) filter (where row_status = 'return') as returns,
        count(*) filter (where row_status = 'event') as events,
        count(*) filter (where row_status = 'rejected') as rejected
    from {{ ref('base_input__rows') }}
),

order_lines as (
    select
        count(*) filter (where not is_return) as sales,
        count(*) filter (where is_return) as returns
    from {{ ref('stg_input__order_lines') }}
),

rejected_rows as (
    select count(*) as rejected from {{ ref('stg_input__rejected_rows') }}
),

checks as (
    select
        raw_rows.raw_count,
        statuses.sales,
        statuses.returns,
        statuses.events,
        statuses.rejected,
        raw_rows.raw_count
        = statuses.sales + statuses.returns + statuses.events
        + statuses.rejected as raw_reconciles,
        order_lines.sales = statuses.sales
        and order_lines.returns = statuses.returns as order_lines_reconcile,
        rejected_rows.rejected = statuses.rejected as rejects_reconcile
    from raw_rows
    cross join statuses
    cross join order_lines
    cross join rejected_rows
)

select * from checks
where not (raw_reconciles and order_lines_reconcile and rejects_reconcile)

{#-
    With events input, every accepted event is in stg_input__events and every
    accepted purchase event is an order line; with other inputs the events
    model is empty.
-#}
with

statuses as (
    select
        count(*) filter (where row_status in ('sale', 'event')) as events,
        count(*) filter (where row_status = 'sale') as purchases
    from {{ ref('base_input__rows') }}
),

events as (
    select
        count(*) as events,
        count(*) filter (where event_type = 'purchase') as purchases
    from {{ ref('stg_input__events') }}
),

checks as (
    select
        statuses.events as expected_events,
        events.events as staged_events,
        statuses.purchases as expected_purchases,
        events.purchases as staged_purchases
    from statuses
    cross join events
)

select * from checks
where
    {%- if var('input_format') == 'events' %}
    expected_events <> staged_events
    or expected_purchases <> staged_purchases
    {%- else %}
    staged_events <> 0
    {%- endif %}

{#- Empty, with all columns, when the input has no events. -#}
with

events as (
    select
        cast({{ cv_to_reporting_tz('event_at') }} as date) as event_date,
        customer_id,
        session_id,
        event_type,
        price
    from {{ ref('stg_input__events') }}
),

final as (
    {{ cv_funnel('events', 'event_date') }}
)

select * from final

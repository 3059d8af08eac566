{#-
    Whole period by product category (`unknown` when the event has none).
    Empty, with all columns, when the input has no events.
-#}
with

events as (
    select
        coalesce(product_category, 'unknown') as product_category,
        customer_id,
        session_id,
        event_type,
        price
    from {{ ref('stg_input__events') }}
),

final as (
    {{ cv_funnel('events', 'product_category') }}
)

select * from final

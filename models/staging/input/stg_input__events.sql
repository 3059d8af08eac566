{#- Empty (with the same columns) unless input_format is events. -#}
with

rows as (
    select * from {{ ref('base_input__rows') }}
    where row_status in ('sale', 'event')
        and {{ 'true' if var('input_format') == 'events' else 'false' }}
),

final as (
    select
        source_row_number as event_id,
        ordered_at as event_at,
        event_type,
        customer_id,
        session_id,
        product_id,
        product_category,
        category_id,
        brand,
        unit_price as price
    from rows
)

select * from final

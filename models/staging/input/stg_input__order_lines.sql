with

rows as (
    select * from {{ ref('base_input__rows') }}
    where row_status in ('sale', 'return')
),

final as (
    select
        source_row_number as order_line_id,
        order_id,
        customer_id,
        ordered_at,
        product_id,
        product_name,
        product_category,
        quantity,
        unit_price,
        line_amount,
        is_return,
        store_id
    from rows
)

select * from final

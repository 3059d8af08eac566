with

rows as (
    select * from {{ ref('base_input__rows') }}
    where row_status = 'rejected'
),

final as (
    select
        source_file,
        source_row_number,
        reject_reason,
        raw_record,
        order_id,
        customer_id,
        ordered_at,
        product_id,
        quantity,
        unit_price
    from rows
)

select * from final

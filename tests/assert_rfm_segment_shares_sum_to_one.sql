{#- Customer shares over all segments add up to 100% (when any exist). -#}
with

totals as (
    select
        sum(customer_share) as total_share,
        sum(customers) as customers
    from {{ ref('fct_rfm_segment_summary') }}
)

select * from totals
where customers > 0 and abs(total_share - 1) > 1e-9

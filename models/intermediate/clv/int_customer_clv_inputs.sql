{#-
    One row per customer with a purchase up to the observation end:
    frequency, recency, T, monetary_value (lifetimes' definitions, in
    clv_time_unit) and the historic value, from int_customer_purchases.
-#}
with

purchases as (
    select * from {{ ref('int_customer_purchases') }}
),

observation as (
    select
        {{ cv_clv_observation_end(ref('int_orders_aggregated')) }}
            as observation_end
),

summary as (
    {{ cv_clv_summary('purchases', '(select observation_end from observation)') }}
),

final as (
    select
        summary.customer_id,
        summary.frequency,
        summary.recency,
        summary."T",
        cast(summary.monetary_value as double) as monetary_value,
        cast(summary.historic_value as double) as historic_value,
        observation.observation_end,
        '{{ cv_clv_time_unit() }}' as time_unit
    from summary
    cross join observation
)

select * from final

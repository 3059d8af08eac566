{#-
    Calibration / holdout split for validating the CLV models, built in SQL
    (lifetimes' calibration_and_holdout_data fails on pandas 3): one row per
    customer with a purchase up to the calibration end, with the CLV inputs
    over the calibration period and, over the holdout period (after the
    calibration end up to the observation end), the number of purchase
    periods and their mean value.
-#}
with

purchases as (
    select * from {{ ref('int_customer_purchases') }}
),

dates as (
    {#- The calibration end: var('clv_calibration_end'), or the observation
        end minus var('clv_holdout_days'). -#}
    {%- set observation_end = cv_clv_observation_end(
        ref('int_orders_aggregated')
    ) %}
    select
        {{ cv_clv_calibration_end(observation_end) }} as calibration_end,
        {{ observation_end }} as observation_end
),

periods as (
    {#- One pass over the purchases: each customer's purchase periods,
        split at the calibration end (a month that the calibration end cuts
        gives a calibration and a holdout period, as summing the two sides
        separately does). -#}
    select
        purchases.customer_id,
        {{ cv_clv_period('purchases.purchase_date') }} as period_start,
        purchases.purchase_date > dates.calibration_end as is_holdout,
        sum(purchases.purchase_value) as period_value
    from purchases
    cross join dates
    where purchases.purchase_date <= dates.calibration_end
        or {{ cv_clv_period('purchases.purchase_date') }}
        <= {{ cv_clv_period('dates.observation_end') }}
    group by
        purchases.customer_id,
        {{ cv_clv_period('purchases.purchase_date') }},
        purchases.purchase_date > dates.calibration_end
),

calibration_periods as (
    {{ cv_clv_customer_periods(
        '(select * from periods where not is_holdout) as calibration_periods'
    ) }}
),

calibration as (
    {{ cv_clv_summary_from_periods(
        'calibration_periods', '(select calibration_end from dates)'
    ) }}
),

holdout as (
    select
        customer_id,
        count(*) as frequency_holdout,
        sum(period_value) / count(*) as monetary_value_holdout
    from periods
    where is_holdout
    group by customer_id
),

final as (
    select
        calibration.customer_id,
        calibration.frequency,
        calibration.recency,
        calibration."T",
        cast(calibration.monetary_value as double) as monetary_value,
        cast(coalesce(holdout.frequency_holdout, 0) as integer)
            as frequency_holdout,
        cast(coalesce(holdout.monetary_value_holdout, 0) as double)
            as monetary_value_holdout,
        {{ cv_clv_duration(
            cv_clv_period('dates.calibration_end'),
            cv_clv_period('dates.observation_end')
        ) }} as duration_holdout,
        dates.calibration_end,
        dates.observation_end
    from calibration
    cross join dates
    left join holdout
        on calibration.customer_id = holdout.customer_id
)

select * from final

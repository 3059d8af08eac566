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
    select
        {{ cv_clv_calibration_end(ref('int_orders_aggregated')) }}
            as calibration_end,
        {{ cv_clv_observation_end(ref('int_orders_aggregated')) }}
            as observation_end
),

calibration_purchases as (
    select purchases.*
    from purchases
    cross join dates
    where purchases.purchase_date <= dates.calibration_end
),

calibration as (
    {{ cv_clv_summary(
        'calibration_purchases', '(select calibration_end from dates)'
    ) }}
),

holdout as (
    select
        purchases.customer_id,
        count(distinct {{ cv_clv_period('purchases.purchase_date') }})
            as frequency_holdout,
        sum(purchases.purchase_value)
        / count(distinct {{ cv_clv_period('purchases.purchase_date') }})
            as monetary_value_holdout
    from purchases
    cross join dates
    where purchases.purchase_date > dates.calibration_end
        and {{ cv_clv_period('purchases.purchase_date') }}
        <= {{ cv_clv_period('dates.observation_end') }}
    group by purchases.customer_id
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

{#-
    The models refitted on the calibration period predict each customer's
    repeat purchases in the holdout period; compared with what happened,
    overall and by calibration frequency (0 .. 6, 7+).
-#}
with

calibration as (
    select
        customer_id,
        frequency,
        recency,
        "T",
        greatest(monetary_value, 0) as monetary_value,
        frequency_holdout,
        monetary_value_holdout,
        duration_holdout,
        calibration_end,
        observation_end
    from {{ ref('int_customer_clv_calibration') }}
),

params as (
    {{ cv_clv_params_pivot(ref('int_clv_calibration_params_fitted')) }}
),

predicted as (
    select
        calibration.customer_id,
        calibration.frequency,
        calibration.frequency_holdout as actual,
        {{ cv_clv_call(
            'expected_purchases', ['calibration.duration_holdout'],
            customers='calibration'
        ) }} as predicted,
        case
            when calibration.frequency_holdout > 0
                then calibration.monetary_value_holdout
        end as actual_order_value,
        case
            when calibration.frequency_holdout > 0
                then cv_gamma_gamma_expected_spend(
                    params.gg_p, params.gg_q, params.gg_v,
                    calibration.frequency, calibration.monetary_value
                )
        end as predicted_order_value,
        calibration.calibration_end,
        calibration.observation_end
    from calibration
    cross join params
),

grouped as (
    select
        'all' as group_name,
        cast(null as integer) as calibration_frequency_min,
        predicted.*
    from predicted
    union all
    select
        case
            when frequency >= 7 then 'frequency 7+'
            else 'frequency ' || cast(frequency as varchar)
        end as group_name,
        least(frequency, 7) as calibration_frequency_min,
        predicted.*
    from predicted
),

centred as (
    {#- Deviations from the group means, for the correlation: summed exactly
        (cv_exact_sum) like every sum here, so that the mart does not depend
        on the order the rows arrive in. #}
    select
        grouped.*,
        predicted - {{ cv_exact_avg(
            'predicted', 'over (partition by group_name)'
        ) }} as predicted_deviation,
        actual - {{ cv_exact_avg(
            'actual', 'over (partition by group_name)'
        ) }} as actual_deviation
    from grouped
),

metrics as (
    select
        group_name,
        calibration_frequency_min,
        count(*) as customers,
        sum(actual) as actual_repeat_purchases,
        {{ cv_exact_sum('predicted') }} as predicted_repeat_purchases,
        {{ cv_exact_avg('abs(predicted - actual)') }} as mae,
        sqrt({{ cv_exact_avg('(predicted - actual) * (predicted - actual)') }})
            as rmse,
        {#- Pearson's r; NaN where a variance is 0, as corr() gives. #}
        cast({{ cv_exact_sum('predicted_deviation * actual_deviation') }}
            as double)
        / sqrt(
            cast({{ cv_exact_sum('predicted_deviation * predicted_deviation') }}
                as double)
            * cast({{ cv_exact_sum('actual_deviation * actual_deviation') }}
                as double)
        ) as correlation,
        {{ cv_exact_avg('actual_order_value') }} as actual_mean_order_value,
        {{ cv_exact_avg('predicted_order_value') }}
            as predicted_mean_order_value,
        max(calibration_end) as calibration_end,
        max(observation_end) as holdout_end
    from centred
    group by group_name, calibration_frequency_min
),

final as (
    select
        cast(group_name as varchar) as group_name,
        cast(calibration_frequency_min as integer)
            as calibration_frequency_min,
        cast(customers as bigint) as customers,
        cast(actual_repeat_purchases as double) as actual_repeat_purchases,
        cast(predicted_repeat_purchases as double)
            as predicted_repeat_purchases,
        100 * {{ cv_safe_divide(
            'predicted_repeat_purchases - actual_repeat_purchases',
            'actual_repeat_purchases'
        ) }} as error_pct,
        cast(mae as double) as mae,
        cast(rmse as double) as rmse,
        cast(correlation as double) as correlation,
        cast(actual_mean_order_value as double) as actual_mean_order_value,
        cast(predicted_mean_order_value as double)
            as predicted_mean_order_value,
        cast(calibration_end as date) as calibration_end,
        cast(holdout_end as date) as holdout_end
    from metrics
)

select * from final

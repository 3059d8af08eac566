{#- Warns (fails with clv_required) when customers bought but none before
    the calibration end: the history is shorter than the CLV holdout, so
    there is nothing to validate on and fct_clv_validation is empty. Reads
    only models upstream of fct_clv_validation, so that with clv_required
    the error comes before the mart is replaced. -#}
{%- set observation_end = cv_clv_observation_end(
    ref('int_orders_aggregated')
) %}
{% set rows_sql %}
with

purchases as (
    select
        min(purchase_date) as first_purchase_date,
        count(*) as purchases
    from {{ ref('int_customer_purchases') }}
    where purchase_date <= {{ observation_end }}
),

calibration as (
    select count(*) as customers
    from {{ ref('int_customer_clv_calibration') }}
),

short as (
    select
        {{ cv_clv_calibration_end(observation_end) }} as calibration_end,
        {{ observation_end }} as observation_end,
        purchases.first_purchase_date,
        cast({{ dbt.datediff(
            'purchases.first_purchase_date', observation_end, 'day'
        ) }} as integer) as history_days
    from purchases
    cross join calibration
    where purchases.purchases > 0
        and calibration.customers = 0
),

final as (
    select
        'CLV validation skipped, the history is shorter than the holdout: '
        || 'the calibration period ends on '
        || cast(calibration_end as varchar)
        {%- if var('clv_calibration_end') %}
        || ' (clv_calibration_end)'
        {%- else %}
        || ' (observation end ' || cast(observation_end as varchar)
        || ' minus clv_holdout_days = {{ var("clv_holdout_days") }})'
        {%- endif %}
        || ' but the first purchase was on '
        || cast(first_purchase_date as varchar) || ' ('
        || cast(history_days as varchar) || ' day(s) of history), so no '
        || 'customer is in it and fct_clv_validation is empty. Fix: '
        || 'clv_holdout_days of at most ' || cast(history_days as varchar)
        || ' (e.g. --vars ''{clv_holdout_days: '
        || cast(greatest(history_days // 2, 1) as varchar)
        || '}'') or clv_calibration_end between '
        || cast(first_purchase_date as varchar) || ' and '
        || cast(observation_end as varchar) || '.' as message
    from short
)

select * from final
{% endset %}

{{ cv_warn_or_fail(rows_sql) }}

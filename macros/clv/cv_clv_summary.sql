{#-
    Per-customer CLV inputs exactly as lifetimes.utils.
    summary_data_from_transaction_data defines them, as a select over
    `purchases` (a relation with customer_id, purchase_date, purchase_value)
    up to `end_date` (a date expression): purchases whose period is not after
    the end period count; purchases in one period are one purchase (values
    summed); frequency = periods - 1; recency = first to last period; T =
    first period to the end period; monetary_value = mean value of the
    periods after the first (0 without repeats); historic_value = all of it.
-#}
{% macro cv_clv_summary(purchases, end_date) -%}
    select
        customer_id,
        cast(count(*) - 1 as integer) as frequency,
        {{ cv_clv_duration('min(period_start)', 'max(period_start)') }}
            as recency,
        {{ cv_clv_duration('min(period_start)', cv_clv_period(end_date)) }}
            as "T",
        coalesce(
            avg(case when period_number > 1 then period_value end), 0
        ) as monetary_value,
        sum(period_value) as historic_value
    from (
        select
            customer_id,
            period_start,
            period_value,
            row_number() over (
                partition by customer_id order by period_start
            ) as period_number
        from (
            select
                customer_id,
                {{ cv_clv_period('purchase_date') }} as period_start,
                sum(purchase_value) as period_value
            from {{ purchases }}
            where {{ cv_clv_period('purchase_date') }}
                <= {{ cv_clv_period(end_date) }}
            group by customer_id, {{ cv_clv_period('purchase_date') }}
        ) as periods
    ) as numbered_periods
    group by customer_id
{%- endmacro %}

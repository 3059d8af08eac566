{#-
    Per-customer CLV inputs exactly as lifetimes.utils.
    summary_data_from_transaction_data defines them, in two steps.
    cv_clv_periods: the purchases (a relation with customer_id,
    purchase_date, purchase_value) up to an end date, as purchase periods
    per customer: purchases whose period is not after the end period count;
    purchases in one period are one purchase (values summed).
    cv_clv_summary_from_periods: frequency = periods - 1; recency = first to
    last period; T = first period to the end period; monetary_value = mean
    value of the periods after the first (0 without repeats);
    historic_value = all of it.
-#}

{#-
    One row per customer of `purchases` with a purchase period up to
    `end_date`: periods (count), first_period, last_period, total_value and
    first_period_value (exact sums).
-#}
{% macro cv_clv_periods(purchases, end_date) -%}
    {%- set periods -%}
        (
            select
                customer_id,
                {{ cv_clv_period('purchase_date') }} as period_start,
                sum(purchase_value) as period_value
            from {{ purchases }}
            where {{ cv_clv_period('purchase_date') }}
                <= {{ cv_clv_period(end_date) }}
            group by customer_id, {{ cv_clv_period('purchase_date') }}
        ) as purchase_periods
    {%- endset -%}
    {{ cv_clv_customer_periods(periods) }}
{%- endmacro %}

{#-
    The columns of cv_clv_periods per customer of `periods`, a relation
    with one row per customer and purchase period (customer_id,
    period_start, period_value).
-#}
{% macro cv_clv_customer_periods(periods) -%}
    select
        customer_id,
        count(*) as periods,
        min(period_start) as first_period,
        max(period_start) as last_period,
        sum(period_value) as total_value,
        {{ cv_arg_min('period_value', 'period_start') }} as first_period_value
    from {{ periods }}
    group by customer_id
{%- endmacro %}

{#-
    The CLV inputs from `periods` (a relation with the columns of
    cv_clv_periods). The mean repeat value is (total - first period) /
    frequency, from exact sums.
-#}
{% macro cv_clv_summary_from_periods(periods, end_date) -%}
    select
        customer_id,
        cast(periods - 1 as integer) as frequency,
        {{ cv_clv_duration('first_period', 'last_period') }} as recency,
        {{ cv_clv_duration('first_period', cv_clv_period(end_date)) }}
            as "T",
        coalesce(
            (total_value - first_period_value) / nullif(periods - 1, 0), 0
        ) as monetary_value,
        total_value as historic_value
    from {{ periods }}
{%- endmacro %}

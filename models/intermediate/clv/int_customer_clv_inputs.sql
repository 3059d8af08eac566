{#-
    One row per customer with a purchase up to the observation end:
    frequency, recency, T, monetary_value (lifetimes' definitions, in
    clv_time_unit) and the historic value.
    When the observation end is the day after the data (no
    clv_observation_end or as_of_date var) and periods are days (day or week
    unit), every purchase counts and the per-customer purchase days come
    from the incremental int_orders_aggregated_to_customers; otherwise they
    are summed from int_customer_purchases.
-#}
-- depends_on: {{ ref('int_customer_purchases') }}
-- depends_on: {{ ref('int_orders_aggregated_to_customers') }}
{%- set from_customer_totals = not var('clv_observation_end')
    and cv_as_of_date_is_after_data()
    and cv_clv_time_unit() != 'month' %}
with

observation as (
    select
        {{ cv_clv_observation_end(ref('int_orders_aggregated')) }}
            as observation_end
),

{% if from_customer_totals -%}
periods as (
    select
        customer_id,
        purchase_days as periods,
        first_purchase_date as first_period,
        last_purchase_date as last_period,
        purchases_net_revenue as total_value,
        first_purchase_day_net_revenue as first_period_value
    from {{ ref('int_orders_aggregated_to_customers') }}
    where purchase_days > 0
),
{%- else -%}
purchases as (
    select * from {{ ref('int_customer_purchases') }}
),

purchase_periods as (
    {#- Purchases whose period is not after the observation end's period;
        the purchases of one period are one purchase (values summed). -#}
    {%- set end_period = cv_clv_period(
        '(select observation_end from observation)'
    ) %}
    select
        customer_id,
        {{ cv_clv_period('purchase_date') }} as period_start,
        sum(purchase_value) as period_value
    from purchases
    where {{ cv_clv_period('purchase_date') }} <= {{ end_period }}
    group by customer_id, {{ cv_clv_period('purchase_date') }}
),

periods as (
    {{ cv_clv_customer_periods('purchase_periods') }}
),
{%- endif %}

summary as (
    {{ cv_clv_summary_from_periods(
        'periods', '(select observation_end from observation)'
    ) }}
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

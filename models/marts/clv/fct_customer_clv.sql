{%- set short = var('clv_short_horizon_months') -%}
{%- set long = var('clv_long_horizon_months') -%}
{%- set per_month = cv_clv_periods_per_month() -%}
{%- set rate = var('clv_discount_rate') -%}

with

inputs as (
    select
        customer_id,
        frequency,
        recency,
        "T",
        monetary_value,
        historic_value
    from {{ ref('int_customer_clv_inputs') }}
),

params as (
    {{ cv_clv_params_pivot(ref('int_clv_params_fitted')) }}
),

customers as (
    {#- Gamma-Gamma is defined for positive spend: repeat purchases that net
        to zero or less (returns) are scored as zero spend. -#}
    select
        customer_id,
        frequency,
        recency,
        "T",
        monetary_value as observed_monetary_value,
        greatest(monetary_value, 0) as monetary_value,
        historic_value
    from inputs
),

triples as (
    {#- Customers with the same (frequency, recency, T) have the same
        forecast: score each triple once (about half as many rows). -#}
    select distinct
        frequency,
        recency,
        "T"
    from customers
),

forecasts as (
    {#- p_alive, expected purchases at both horizons and the discounted
        purchases (CLV per unit of spend) from one monthly grid. -#}
    select
        triples.frequency,
        triples.recency,
        triples."T",
        {{ cv_clv_call(
            'forecast', [short, long, rate, per_month], customers='triples'
        ) }} as forecast
    from triples
    cross join params
),

spends as (
    select
        customers.*,
        cv_gamma_gamma_expected_spend(
            params.gg_p, params.gg_q, params.gg_v,
            customers.frequency, customers.monetary_value
        ) as expected_average_order_value
    from customers
    cross join params
),

scored as (
    select
        spends.customer_id,
        spends.frequency,
        spends.recency,
        spends."T",
        spends.observed_monetary_value as monetary_value,
        spends.historic_value,
        forecasts.forecast.p_alive as p_alive,
        forecasts.forecast.expected_purchases_short as expected_purchases_short,
        forecasts.forecast.expected_purchases_long as expected_purchases_long,
        spends.expected_average_order_value,
        spends.expected_average_order_value
            * forecasts.forecast.discounted_purchases_short as clv_short,
        spends.expected_average_order_value
            * forecasts.forecast.discounted_purchases_long as clv_long
    from spends
    inner join forecasts
        on spends.frequency is not distinct from forecasts.frequency
        and spends.recency is not distinct from forecasts.recency
        and spends."T" is not distinct from forecasts."T"
),

final as (
    select
        cast(customer_id as varchar) as customer_id,
        cast(frequency as integer) as frequency,
        cast(recency as double) as recency,
        cast("T" as double) as "T",
        cast(monetary_value as double) as monetary_value,
        cast(p_alive as double) as p_alive,
        cast(1 - p_alive as double) as churn_probability,
        cast(expected_purchases_short as double) as expected_purchases_short,
        cast(expected_purchases_long as double) as expected_purchases_long,
        cast(clv_short as double) as clv_short,
        cast(clv_long as double) as clv_long,
        cast({{ short }} as integer) as short_horizon_months,
        cast({{ long }} as integer) as long_horizon_months,
        cast(expected_average_order_value as double)
            as expected_average_order_value,
        cast(historic_value as double) as historic_value,
        cast({{ rate }} as double) as discount_rate,
        cast(
            row_number() over (order by clv_long desc, customer_id)
            as bigint
        ) as clv_rank,
        cast(
            ntile(10) over (order by clv_long desc, customer_id) as integer
        ) as clv_decile
    from scored
)

select * from final

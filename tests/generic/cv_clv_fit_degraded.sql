{% test cv_clv_fit_degraded(model, fit, cause) %}

{#- Whether a CLV fit (the parameter table `model`: fit main, of
    int_clv_params_fitted, or calibration) ended in `cause`: too_few_customers
    (not fitted: no customers, fewer than the fitters' minimum of 10, or no
    repeat customers), not_converged (not fitted) or boundary (fitted on a
    parameter boundary). One row per fit, with a message naming the cause,
    what the build did instead and the fix, which cv_warn_or_fail prints
    (or fails the build with, under clv_required). -#}
{%- set observation_end = cv_clv_observation_end(
    ref('int_orders_aggregated')
) %}
{%- set period_end = observation_end if fit == 'main'
    else cv_clv_calibration_end(observation_end) %}
{%- set consequence = 'fct_customer_clv and fct_clv_summary are empty, the '
    ~ 'CLV columns of dim_customers (p_alive, predicted_clv) are null and '
    ~ 'its lifecycle_stage comes from the RFM segment'
    if fit == 'main' else 'fct_clv_validation is empty' %}
{% set rows_sql %}
with

fits as (
    {#- One row per model (the transaction model, gamma_gamma): the
        transaction model first. -#}
    select
        model,
        model = 'gamma_gamma' as is_spend_model,
        fit_status,
        failure_reason,
        converged,
        customers_fitted,
        message,
        string_agg(
            case
                when is_at_boundary
                    then parameter || ' = ' || printf('%.3g', value)
            end,
            ', ' order by parameter
        ) as boundary_values
    from {{ model }}
    where model <> 'diagnostics'
    group by all
),

period as (
    select
        {{ period_end }} as period_end,
        cast(max(case when not is_spend_model then customers_fitted end)
            as bigint) as customers
    from fits
),

{%- if cause == 'boundary' %}

final as (
    select
        '{{ "CLV model" if fit == "main" else "CLV calibration fit" }}'
        {%- if fit != 'main' %}
        || ' (fct_clv_validation, data up to '
        || cast(period.period_end as varchar) || ')'
        {%- endif %}
        || ' on a parameter boundary, published as its best point ('
        || fits.model || ': ' || fits.boundary_values || '; converged = '
        || cast(fits.converged as varchar) || ') and '
        || '{{ "scored" if fit == "main" else "validated" }} from it. '
        || split_part(fits.message, '. Optimizer: ', 1)
        || '. Fix, for an interior fit: a longer history, a small '
        || 'clv_penalizer (e.g. 0.001) or another clv_model.' as message
    from fits
    cross join period
    where fits.fit_status = 'boundary'
)

{%- else %}

failed as (
    {#- The first model (transaction before spend) that failed so. -#}
    select
        {{ cv_arg_min('model', 'is_spend_model') }} as model,
        {{ cv_arg_min('failure_reason', 'is_spend_model') }}
            as failure_reason,
        {{ cv_arg_min('customers_fitted', 'is_spend_model') }}
            as customers_fitted,
        {{ cv_arg_min('message', 'is_spend_model') }} as message
    from fits
    where fit_status = 'not_fitted'
        {%- if cause == 'too_few_customers' %}
        and failure_reason in (
            'no_customers', 'too_few_customers', 'no_repeat_customers'
        )
        {%- else %}
        and failure_reason = 'not_converged'
        {%- endif %}
    having count(*) > 0
),

final as (
    select
        '{{ "CLV not fitted, " if fit == "main"
            else "CLV validation skipped, " }}'
        {%- if cause == 'too_few_customers' %}
        || case failed.failure_reason
            when 'no_customers'
                then 'no customer with a purchase up to '
                || coalesce(
                    cast(period.period_end as varchar), 'the observation end'
                )
            when 'no_repeat_customers'
                then 'no repeat customers (of '
                || cast(period.customers as varchar)
                || ', none bought in two different '
                || '{{ cv_clv_time_unit() }}s)'
            else 'too few '
                || case
                    when failed.model = 'gamma_gamma'
                        then 'repeat customers with positive spend'
                    else 'customers'
                end || ' to fit '
                || failed.model || ' ('
                || cast(cast(failed.customers_fitted as bigint) as varchar)
                || ', it needs at least 10)'
        end
        {%- else %}
        || failed.model || ' did not converge ('
        || failed.message || ')'
        {%- endif %}
        {%- if fit != 'main' %}
        || ' in the calibration period (up to '
        || cast(period.period_end as varchar) || ')'
        {%- endif %}
        || ': {{ consequence }}. Fix: '
        {%- if fit != 'main' %}
        || 'a smaller clv_holdout_days or a later clv_calibration_end, '
        || 'for a longer calibration period.'
        {%- elif cause == 'too_few_customers' %}
        || case
            when failed.failure_reason = 'no_customers'
                then 'check input_path and the observation end '
                || '(clv_observation_end, as_of_date)'
            when failed.failure_reason = 'no_repeat_customers'
                then 'a longer history (or clv_time_unit: day)'
            else 'more customers (a longer or wider input)'
        end
        || ', or clv_enabled: false to build without CLV.'
        {%- else %}
        || 'a larger clv_penalizer (e.g. 0.001), another clv_time_unit or '
        || 'clv_model, or clv_enabled: false to build without CLV.'
        {%- endif %} as message
    from failed
    cross join period
    {%- if fit != 'main' %}
    {#- An empty calibration period is clv_history_shorter_than_holdout. #}
    where period.customers > 0
    {%- endif %}
)

{%- endif %}

select * from final
{% endset %}

{{ cv_warn_or_fail(rows_sql) }}

{% endtest %}

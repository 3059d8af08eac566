with

params as (
    select * from {{ ref('int_clv_params_fitted') }}
),

observation as (
    {#- From the orders rather than the CLV inputs, so that a fit with no
        customer to fit still says up to when it looked. -#}
    select
        {{ cv_clv_observation_end(ref('int_orders_aggregated')) }}
            as observation_end,
        '{{ cv_clv_time_unit() }}' as time_unit
),

final as (
    select
        cast(params.model as varchar) as model,
        cast(params.parameter as varchar) as parameter,
        cast(params.value as double) as value,
        cast(params.standard_error as double) as standard_error,
        cast(params.customers_fitted as bigint) as customers_fitted,
        cast(params.log_likelihood as double) as log_likelihood,
        cast(params.converged as boolean) as converged,
        cast(params.fit_status as varchar) as fit_status,
        cast(params.is_at_boundary as boolean) as is_at_boundary,
        cast(params.iterations as integer) as iterations,
        cast(params.message as varchar) as message,
        cast(observation.time_unit as varchar) as time_unit,
        cast(observation.observation_end as date) as observation_end,
        cast({{ var('clv_penalizer') }} as double) as penalizer,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp)
            as fitted_at
    from params
    cross join observation
)

select * from final

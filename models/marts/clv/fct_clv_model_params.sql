with

params as (
    select * from {{ ref('int_clv_params_fitted') }}
),

observation as (
    select
        max(observation_end) as observation_end,
        max(time_unit) as time_unit
    from {{ ref('int_customer_clv_inputs') }}
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
        cast(params.iterations as integer) as iterations,
        cast(observation.time_unit as varchar) as time_unit,
        cast(observation.observation_end as date) as observation_end,
        cast({{ var('clv_penalizer') }} as double) as penalizer,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp)
            as fitted_at
    from params
    cross join observation
)

select * from final

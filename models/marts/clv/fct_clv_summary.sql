with

customers as (
    select
        clv_decile,
        clv_long,
        historic_value,
        p_alive,
        p_alive < {{ var('clv_at_risk_p_alive') }} as is_at_risk
    from {{ ref('fct_customer_clv') }}
),

deciles as (
    select
        clv_decile,
        count(*) as customers,
        {{ cv_exact_sum('clv_long') }} as predicted_clv,
        {{ cv_exact_sum('historic_value') }} as historic_revenue,
        {{ cv_exact_sum(
            'case when is_at_risk then historic_value else 0 end'
        ) }} as revenue_at_risk,
        {{ cv_exact_avg('p_alive') }} as avg_p_alive
    from customers
    group by clv_decile
),

final as (
    select
        cast(clv_decile as integer) as clv_decile,
        cast(customers as bigint) as customers,
        cast(predicted_clv as double) as predicted_clv,
        {{ cv_safe_divide('predicted_clv', 'sum(predicted_clv) over ()') }}
            as predicted_clv_share,
        {{ cv_safe_divide(
            'sum(predicted_clv) over (order by clv_decile'
            ~ ' rows between unbounded preceding and current row)',
            'sum(predicted_clv) over ()'
        ) }} as cumulative_predicted_clv_share,
        cast(historic_revenue as double) as historic_revenue,
        cast(revenue_at_risk as double) as revenue_at_risk,
        cast(avg_p_alive as double) as avg_p_alive
    from deciles
)

select * from final

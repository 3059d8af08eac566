{% macro cv_funnel(events, grain) -%}
    with

    user_flags as (
        select
            {{ grain }},
            customer_id,
            max(case when event_type = 'view' then 1 else 0 end) as has_viewed,
            max(case when event_type = 'cart' then 1 else 0 end) as has_carted,
            max(case when event_type = 'purchase' then 1 else 0 end)
                as has_purchased
        from {{ events }}
        group by {{ grain }}, customer_id
    ),

    user_funnel as (
        select
            {{ grain }},
            count(*) as users,
            sum(has_viewed) as users_viewed,
            sum(has_carted) as users_carted,
            sum(has_purchased) as users_purchased,
            sum(has_viewed * has_carted) as users_viewed_and_carted,
            sum(has_carted * has_purchased) as users_carted_and_purchased,
            sum(has_viewed * has_purchased) as users_viewed_and_purchased
        from user_flags
        group by {{ grain }}
    ),

    event_counts as (
        select
            {{ grain }},
            count(distinct session_id) as sessions,
            sum(case when event_type = 'view' then 1 else 0 end) as views,
            sum(case when event_type = 'cart' then 1 else 0 end) as carts,
            sum(case when event_type = 'remove_from_cart' then 1 else 0 end)
                as removals,
            sum(case when event_type = 'purchase' then 1 else 0 end)
                as purchases,
            sum(case when event_type = 'purchase' then price else 0 end)
                as revenue
        from {{ events }}
        group by {{ grain }}
    )

    select
        event_counts.{{ grain }},
        cast(event_counts.sessions as bigint) as sessions,
        cast(user_funnel.users as bigint) as users,
        cast(user_funnel.users_viewed as bigint) as users_viewed,
        cast(user_funnel.users_carted as bigint) as users_carted,
        cast(user_funnel.users_purchased as bigint) as users_purchased,
        cast(event_counts.views as bigint) as views,
        cast(event_counts.carts as bigint) as carts,
        cast(event_counts.removals as bigint) as removals,
        cast(event_counts.purchases as bigint) as purchases,
        {{ cv_safe_divide(
            'user_funnel.users_viewed_and_carted', 'user_funnel.users_viewed'
        ) }} as view_to_cart_rate,
        {{ cv_safe_divide(
            'user_funnel.users_carted_and_purchased', 'user_funnel.users_carted'
        ) }} as cart_to_purchase_rate,
        {{ cv_safe_divide(
            'user_funnel.users_viewed_and_purchased', 'user_funnel.users_viewed'
        ) }} as view_to_purchase_rate,
        cast(event_counts.revenue as double) as revenue
    from event_counts
    inner join user_funnel
        on event_counts.{{ grain }} = user_funnel.{{ grain }}
{%- endmacro %}

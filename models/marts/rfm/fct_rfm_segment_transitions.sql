{%- set months_kept = var('rfm_transition_months') -%}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='to_month',
    on_schema_change='fail',
    post_hook="{{ cv_rfm_transitions_drop_old_months() }}",
) }}

{#-
    RFM recomputed from the data as of each month end (the first day of the
    next month, or as_of_date for the last month), for the latest
    `rfm_transition_months` month ends, and the customers moving between
    segments from one month end to the next.

    The CTEs up to `features` give every customer's RFM measures at each
    scored month end and at the month end before; `moves` scores them by
    the tie rule, each in its own macro: cv_rfm_moves_equal_values (the
    default) or cv_rfm_moves_rank_first.

    Incremental: a run rescores only the month ends whose history changed,
    from the month of the earliest order (re)computed in int_orders_aggregated
    since this table was last computed (its computed_at), and always the
    last month end (its as_of_date moves); the month before the first one is
    rescored too, for the moves into it. Months that fall out of the window
    are deleted (post-hook). So the table equals a full refresh; after
    changing an RFM var, run with --full-refresh.
-#}

with

customer_months as (
    select
        customer_id,
        order_month,
        orders,
        last_order_date,
        gross_revenue,
        net_revenue
    from {{ ref('int_customers_active_monthly') }}
),

as_of as (
    select {{ cv_as_of_date(ref('int_orders_aggregated')) }} as as_of_date
),

months as (
    {{ cv_month_spine('customer_months', 'order_month') }}
),

{%- if is_incremental() %}

changed as (
    select cast(least(
        coalesce(
            (
                select min(order_month)
                from {{ ref('int_orders_aggregated') }}
                where updated_at > {{ cv_last_update('computed_at') }}
            ),
            spine.last_month
        ),
        spine.last_month
    ) as date) as first_changed_month
    from (select max(month) as last_month from months) as spine
),
{%- endif %}

month_ends as (
    select
        months.month as snapshot_month,
        least(
            cast({{ dbt.dateadd('month', 1, 'months.month') }} as date),
            as_of.as_of_date
        ) as snapshot_date
    from months
    cross join as_of
),

snapshots as (
    select
        snapshot_month,
        snapshot_date,
        lag(snapshot_date) over (order by snapshot_month)
            as previous_snapshot_date,
        row_number() over (order by snapshot_month desc) as months_back
    from month_ends
),

running as (
    select
        customer_id,
        order_month,
        sum(orders) over customer_history as frequency,
        max(last_order_date) over customer_history as last_order_date,
        sum(gross_revenue) over customer_history as gross_revenue,
        sum(net_revenue) over customer_history as net_revenue,
        {#- The totals before this month: the customer's state at the
            month ends before it. -#}
        sum(orders) over customer_history - orders as earlier_frequency,
        max(last_order_date) over earlier_history
            as earlier_last_order_date,
        sum(gross_revenue) over customer_history - gross_revenue
            as earlier_gross_revenue,
        sum(net_revenue) over customer_history - net_revenue
            as earlier_net_revenue,
        lead(order_month) over (
            partition by customer_id order by order_month
        ) as next_order_month
    from customer_months
    window
        customer_history as (
            partition by customer_id
            order by order_month
            rows between unbounded preceding and current row
        ),
        earlier_history as (
            partition by customer_id
            order by order_month
            rows between unbounded preceding and 1 preceding
        )
),

features as (
    {#- One row per customer and scored month end: the measures then and
        (previous_*) at the month end before. The month end before has the
        same totals, unless the customer ordered this month; the customer
        was a customer then only if the frequency then was positive. -#}
    {%- set earlier = 'running.order_month < snapshots.snapshot_month' %}
    select
        running.customer_id,
        snapshots.snapshot_month,
        {{ dbt.datediff(
            'running.last_order_date', 'snapshots.snapshot_date', 'day'
        ) }} as recency_days,
        running.frequency,
        {{ cv_rfm_monetary(
            'running.net_revenue', 'running.gross_revenue', 'running.frequency'
        ) }} as monetary,
        case
            when {{ earlier }} then running.frequency
            else running.earlier_frequency
        end as previous_frequency,
        {{ dbt.datediff(
            'case when ' ~ earlier ~ ' then running.last_order_date'
                ~ ' else running.earlier_last_order_date end',
            'snapshots.previous_snapshot_date',
            'day'
        ) }} as previous_recency_days,
        {{ cv_rfm_monetary(
            'case when ' ~ earlier ~ ' then running.net_revenue'
                ~ ' else running.earlier_net_revenue end',
            'case when ' ~ earlier ~ ' then running.gross_revenue'
                ~ ' else running.earlier_gross_revenue end',
            'case when ' ~ earlier ~ ' then running.frequency'
                ~ ' else running.earlier_frequency end'
        ) }} as previous_monetary
    from running
    inner join snapshots
        on running.order_month <= snapshots.snapshot_month
        and (
            running.next_order_month is null
            or running.next_order_month > snapshots.snapshot_month
        )
    where running.frequency > 0
        {%- if months_kept %}
        and snapshots.months_back <= {{ months_kept | int }}
        {%- endif %}
        {%- if is_incremental() %}
        and snapshots.snapshot_month >= (
            select cast({{ dbt.dateadd('month', -1, 'first_changed_month') }}
                as date)
            from changed
        )
        {%- endif %}
),

segment_cells as (
    {#- The segment of each (r_score_5, fm_score_5) cell, so the millions of
        scored rows find theirs with an equality join. -#}
    select
        r_scores.generated_number as r_score_5,
        fm_scores.generated_number as fm_score_5,
        segment_map.segment
    from {{ ref('rfm_segment_map') }} as segment_map
    cross join ({{ dbt.generate_series(5) }}) as r_scores
    cross join ({{ dbt.generate_series(5) }}) as fm_scores
    where r_scores.generated_number between segment_map.r_score_min
            and segment_map.r_score_max
        and fm_scores.generated_number between segment_map.fm_score_min
            and segment_map.fm_score_max
),

moves as (
    {%- if cv_rfm_tie_rule() == 'equal_values' %}
    {{ cv_rfm_moves_equal_values('features', 'segment_cells') }}
    {%- else %}
    {{ cv_rfm_moves_rank_first('features', 'segment_cells') }}
    {%- endif %}
),

counted as (
    select
        to_month,
        from_segment,
        to_segment,
        count(*) as customers
    from moves
    group by to_month, from_segment, to_segment
),

final as (
    select
        cast({{ dbt.dateadd('month', -1, 'to_month') }} as date)
            as from_month,
        to_month,
        from_segment,
        to_segment,
        from_segment = to_segment as is_same_segment,
        cast(customers as bigint) as customers,
        {{ cv_safe_divide(
            'customers',
            'sum(customers) over (partition by to_month, from_segment)'
        ) }} as share_of_from_segment,
        {{ cv_run_started_at() }}
            as computed_at
    from counted
)

select * from final

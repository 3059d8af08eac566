{%- set months_kept = var('rfm_transition_months') -%}
{%- set equal_values = cv_rfm_tie_rule() == 'equal_values' -%}
{%- set bins = cv_rfm_bins() -%}
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

    Incremental: a run rescores only the month ends whose history changed,
    from the month of the earliest order (re)computed in int_orders_aggregated
    since this table was last computed (its computed_at), and always the
    last month end (its as_of_date moves); the month before the first one is
    rescored too, for the moves into it. Months that fall out of the window
    are deleted (post-hook). So the table equals a full refresh; after
    changing an RFM var, run with --full-refresh.

    Under the equal_values tie rule (the default) a customer's row for a
    month end also carries the customer's values of the month end before
    (the same running totals, or those before this month's orders when the
    customer ordered this month), and both are scored against the
    thresholds of their month end (cv_rfm_thresholds), so the segment moved
    from needs no join of every customer-month to the month before (which
    took most of the model's time at 100M lines). Under rank_first scores
    depend on the customer, not only the value, so that join stays.
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

snapshots as (
    select
        months.month as snapshot_month,
        least(
            cast({{ dbt.dateadd('month', 1, 'months.month') }} as date),
            as_of.as_of_date
        ) as snapshot_date,
        row_number() over (order by months.month desc) as months_back
    from months
    cross join as_of
),
{%- if equal_values %}

previous_snapshots as (
    select
        snapshot_month,
        lag(snapshot_date) over (order by snapshot_month)
            as previous_snapshot_date
    from snapshots
),
{%- endif %}

running as (
    select
        customer_id,
        order_month,
        sum(orders) over customer_history as frequency,
        max(last_order_date) over customer_history as last_order_date,
        sum(gross_revenue) over customer_history as gross_revenue,
        sum(net_revenue) over customer_history as net_revenue,
        {%- if equal_values %}
        {#- The totals before this month: the customer's state at the
            month ends before it. -#}
        sum(orders) over customer_history - orders as earlier_frequency,
        max(last_order_date) over earlier_history
            as earlier_last_order_date,
        sum(gross_revenue) over customer_history - gross_revenue
            as earlier_gross_revenue,
        sum(net_revenue) over customer_history - net_revenue
            as earlier_net_revenue,
        {%- endif %}
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
    select
        running.customer_id,
        snapshots.snapshot_month,
        {{ dbt.datediff(
            'running.last_order_date', 'snapshots.snapshot_date', 'day'
        ) }} as recency_days,
        running.frequency,
        {{ cv_rfm_monetary(
            'running.net_revenue', 'running.gross_revenue', 'running.frequency'
        ) }} as monetary
        {%- if equal_values %},
        {#- The same customer at the month end before: the same totals,
            unless the customer ordered this month; a customer from then on
            only if the frequency then was positive. -#}
        {%- set earlier = 'running.order_month < snapshots.snapshot_month' %}
        case
            when {{ earlier }} then running.frequency
            else running.earlier_frequency
        end as previous_frequency,
        {{ dbt.datediff(
            'case when ' ~ earlier ~ ' then running.last_order_date'
                ~ ' else running.earlier_last_order_date end',
            'previous_snapshots.previous_snapshot_date',
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
        {%- endif %}
    from running
    inner join snapshots
        on running.order_month <= snapshots.snapshot_month
        and (
            running.next_order_month is null
            or running.next_order_month > snapshots.snapshot_month
        )
    {%- if equal_values %}
    inner join previous_snapshots
        on snapshots.snapshot_month = previous_snapshots.snapshot_month
    {%- endif %}
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
{%- if equal_values %}

thresholds as (
    {{ cv_rfm_thresholds('features', partition_by='snapshot_month') }}
),

scored as (
    {#- This month end's scores and the month end before's, each against
        the customers of its own month end. -#}
    select
        features.snapshot_month,
        features.previous_frequency > 0 as has_previous,
        {%- for period, alias in [('', 'thresholds'),
            ('previous_', 'previous_thresholds')] %}
        {%- for prefix, value, higher_is_better in cv_rfm_measures() %}
        {{ cv_rfm_score_from_thresholds(
            prefix, 'features.' ~ period ~ value, alias
        ) }} as {{ period }}{{ prefix }}_score{{ ',' if not loop.last }}
        {%- endfor %}
        {{- ',' if not loop.last }}
        {%- endfor %}
    from features
    inner join thresholds
        on features.snapshot_month = thresholds.snapshot_month
    left join thresholds as previous_thresholds
        on previous_thresholds.snapshot_month = cast(
            {{ dbt.dateadd('month', -1, 'features.snapshot_month') }} as date
        )
    where features.snapshot_month > (select min(snapshot_month) from features)
),

moves as (
    select
        scored.snapshot_month as to_month,
        coalesce(previous_cells.segment, '(new customer)') as from_segment,
        this_cells.segment as to_segment
    from scored
    inner join segment_cells as this_cells
        on {{ cv_rfm_rescale('scored.r_score', bins) }} = this_cells.r_score_5
        and {{ cv_rfm_rescale(
            cv_rfm_fm_score('scored.f_score', 'scored.m_score'), bins
        ) }} = this_cells.fm_score_5
    left join segment_cells as previous_cells
        on scored.has_previous
        and {{ cv_rfm_rescale('scored.previous_r_score', bins) }}
            = previous_cells.r_score_5
        and {{ cv_rfm_rescale(
            cv_rfm_fm_score('scored.previous_f_score', 'scored.previous_m_score'),
            bins
        ) }} = previous_cells.fm_score_5
),
{%- else %}

scored as (
    {{ cv_rfm_scored('features', partition_by='snapshot_month') }}
),

segmented as (
    select
        scored.customer_id,
        scored.snapshot_month,
        segment_cells.segment
    from scored
    inner join segment_cells
        on scored.r_score_5 = segment_cells.r_score_5
        and scored.fm_score_5 = segment_cells.fm_score_5
),

moves as (
    select
        previous_month.snapshot_month as from_month,
        this_month.snapshot_month as to_month,
        coalesce(previous_month.segment, '(new customer)') as from_segment,
        this_month.segment as to_segment
    from segmented as this_month
    left join segmented as previous_month
        on this_month.customer_id = previous_month.customer_id
        and previous_month.snapshot_month = cast(
            {{ dbt.dateadd('month', -1, 'this_month.snapshot_month') }}
            as date
        )
    where this_month.snapshot_month > (
        select min(snapshot_month) from segmented
    )
),
{%- endif %}

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

{#-
    The transitions table scores every month end with the same code as
    fct_customer_rfm: the segment sizes it implies for the last month end
    (as_of_date) equal the current segment sizes.
-#}
with

last_month as (
    select
        to_segment as segment,
        sum(customers) as customers
    from {{ ref('fct_rfm_segment_transitions') }}
    where to_month = (
        select max(to_month) from {{ ref('fct_rfm_segment_transitions') }}
    )
    group by to_segment
),

current_rfm as (
    select
        segment,
        count(*) as customers
    from {{ ref('fct_customer_rfm') }}
    group by segment
)

select
    coalesce(last_month.segment, current_rfm.segment) as segment,
    last_month.customers as customers_in_transitions,
    current_rfm.customers as customers_now
from last_month
full outer join current_rfm
    on last_month.segment = current_rfm.segment
where last_month.customers is distinct from current_rfm.customers
    and (select count(*) from last_month) > 0

{#-
    Customer counts agree across marts: monthly active customers are the
    same in the revenue and customer marts; every buying customer in
    dim_customers is new in exactly one month and in exactly one cohort.
-#}
with

revenue_months as (
    select month, active_customers
    from {{ ref('fct_revenue_monthly') }}
),

customer_months as (
    select month, active_customers, new_customers
    from {{ ref('fct_customers_monthly') }}
),

monthly_mismatch as (
    select
        'active customers differ in ' || cast(revenue_months.month as varchar)
            as problem
    from revenue_months
    full outer join customer_months
        on revenue_months.month = customer_months.month
    where revenue_months.active_customers
        is distinct from customer_months.active_customers
),

buyers as (
    select count(*) as buyers
    from {{ ref('dim_customers') }}
    where orders > 0
),

new_customers as (
    select sum(new_customers) as new_customers from customer_months
),

cohort_customers as (
    select sum(cohort_customers) as cohort_customers
    from {{ ref('fct_cohort_retention') }}
    where months_since_first_purchase = 0
),

total_mismatch as (
    select 'buyers, new customers and cohort sizes differ' as problem
    from buyers
    cross join new_customers
    cross join cohort_customers
    where buyers.buyers <> new_customers.new_customers
        or buyers.buyers <> cohort_customers.cohort_customers
)

select problem from monthly_mismatch
union all
select problem from total_mismatch

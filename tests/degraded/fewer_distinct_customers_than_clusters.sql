{#- Warns (fails with clv_required) when there are fewer distinct customers
    (in the clustering feature space) than the clusters asked for: with at
    least 2, k is reduced to their number; with fewer, nothing is
    clustered. -#}
{% set rows_sql %}
with

status as (
    select distinct
        clustering_status,
        message
    from {{ ref('int_customers_cluster_k_chosen') }}
    where clustering_status <> 'clustered'
),

customers as (
    select count(*) as customers
    from {{ ref('fct_customer_rfm') }}
),

final as (
    select
        case
            when status.clustering_status = 'not_clustered'
                then 'No customer clusters, too few distinct customers ('
                || status.message
                || case
                    when status.message like 'need at least 2 customers%'
                        then ''
                    else ', among ' || cast(customers.customers as varchar)
                        || ' customers'
                end
                || '): fct_customer_clusters, dim_cluster_profiles '
                || 'and fct_clustering_diagnostics are empty and the '
                || 'cluster columns of dim_customers are null. Fix: more '
                || 'data (clustering needs 2 customers with different '
                || 'recency, frequency or monetary value).'
            else 'Fewer distinct customers than clusters, k reduced ('
                || status.message || '). Fix: more data, or cluster_k / '
                || 'cluster_k_min at most the number of distinct customers.'
        end as message
    from status
    cross join customers
)

select * from final
{% endset %}

{{ cv_warn_or_fail(rows_sql) }}

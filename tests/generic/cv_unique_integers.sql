{% test cv_unique_integers(model, column_name) %}

{%- set bounds = [none, none] -%}
{%- if execute and load_relation(model) is not none -%}
    {%- set bounds = run_query(
        'select min(' ~ column_name ~ '), max(' ~ column_name ~ ') from '
        ~ model
    ).rows[0] -%}
{%- endif %}

with

counts as (
    select
        count({{ column_name }}) as non_null_values,
        {{ cv_count_distinct_integers(column_name, bounds[0], bounds[1]) }}
            as distinct_values
    from {{ model }}
),

repeated as (
    select
        {{ column_name }} as value,
        count(*) as occurrences
    from {{ model }}
    where {{ column_name }} is not null
        and (select non_null_values > distinct_values from counts)
    group by {{ column_name }}
    having count(*) > 1
)

select * from repeated

{% endtest %}

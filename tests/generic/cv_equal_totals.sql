{% test cv_equal_totals(model, column, compare_model, compare_expression,
    tolerance=0.005) %}

with

model_total as (
    select coalesce(sum({{ column }}), 0) as total from {{ model }}
),

compare_total as (
    select coalesce(sum({{ compare_expression }}), 0) as total
    from {{ compare_model }}
)

select
    model_total.total as model_total,
    compare_total.total as compare_total
from model_total
cross join compare_total
where abs(model_total.total - compare_total.total) > {{ tolerance }}

{% endtest %}

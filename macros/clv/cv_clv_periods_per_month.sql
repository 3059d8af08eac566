{#-
    Model time units per month for CLV, as lifetimes' customer_lifetime_value
    uses them: 30 days, 4.345 weeks or 1 month.
-#}
{% macro cv_clv_periods_per_month() -%}
    {{ {'day': 30.0, 'week': 4.345, 'month': 1.0}[cv_clv_time_unit()] }}
{%- endmacro %}

{#-
    Model time units per month for CLV, as lifetimes' customer_lifetime_value
    uses them: 30 days, 4.345 weeks or 1 month (from cv_clv_registry(),
    generated from python_udfs/clv/registry.py).
-#}
{% macro cv_clv_periods_per_month() -%}
    {{ cv_clv_registry()['periods_per_month'][cv_clv_time_unit()] }}
{%- endmacro %}

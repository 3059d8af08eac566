{#-
    True when the CLV inputs can come from the all-time per-customer
    purchase days of int_orders_aggregated_to_customers: the observation end
    is the day after the data (neither clv_observation_end nor as_of_date is
    set) and purchase periods are days (clv_time_unit day or week).
-#}
{% macro cv_clv_inputs_from_customer_totals() -%}
    {{ return(
        not var('clv_observation_end')
        and cv_as_of_date_is_after_data()
        and cv_clv_time_unit() != 'month'
    ) }}
{%- endmacro %}

{% macro cv_rfm_monetary(net_revenue, gross_revenue, frequency) -%}
    {%- set measure = var('rfm_monetary') -%}
    {%- if measure == 'net_revenue' -%}
        {{ net_revenue }}
    {%- elif measure == 'average_order_value' -%}
        {{ gross_revenue }} / nullif({{ frequency }}, 0)
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "Unknown rfm_monetary '" ~ measure
            ~ "': use net_revenue or average_order_value."
        ) }}
    {%- endif -%}
{%- endmacro %}

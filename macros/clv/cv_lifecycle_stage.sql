{#-
    Lifecycle label from the CLV model; see doc lifecycle_stage. Null when
    the customer has no CLV score (only returns).
-#}
{% macro cv_lifecycle_stage(p_alive, clv_decile, frequency) -%}
    case
        when {{ p_alive }} is null then null
        when {{ p_alive }} < 0.3 then 'Inactive'
        when {{ p_alive }} < 0.6 then 'Declining'
        when {{ clv_decile }} <= 2 then 'High Value'
        when {{ frequency }} = 0 then 'Developing'
        when {{ clv_decile }} <= 6 then 'Regular'
        else 'Low Activity'
    end
{%- endmacro %}

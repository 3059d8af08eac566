{% macro cv_clv_required() -%}
    {#- var('clv_required') as a boolean (--vars may pass it as text). -#}
    {%- set value = var('clv_required') -%}
    {{ return(value is sameas true
        or (value is string and value | lower in ['true', 'yes', '1'])) }}
{%- endmacro %}

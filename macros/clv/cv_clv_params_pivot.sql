{% macro cv_clv_params_pivot(params_relation) -%}
    {%- set model = cv_clv_model() -%}
    select
        {%- for name in model.parameters %}
        max(case when model = '{{ model.name }}' and parameter = '{{ name }}'
            then value end) as {{ name }},
        {%- endfor %}
        {%- for name in cv_clv_registry()['gamma_gamma'] %}
        max(case when model = 'gamma_gamma' and parameter = '{{ name }}'
            then value end) as gg_{{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ params_relation }}
{%- endmacro %}

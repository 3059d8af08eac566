{#-
    One row with the fitted parameters of `params_relation` (a long table
    with model, parameter, value) as columns: the transaction model's
    parameters under their own names plus gg_p, gg_q, gg_v.
-#}
{% macro cv_clv_params_pivot(params_relation) -%}
    {%- set model = cv_clv_model() -%}
    select
        {%- for name in model.parameters %}
        max(case when model = '{{ model.name }}' and parameter = '{{ name }}'
            then value end) as {{ name }},
        {%- endfor %}
        {%- for name in ['p', 'q', 'v'] %}
        max(case when model = 'gamma_gamma' and parameter = '{{ name }}'
            then value end) as gg_{{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ params_relation }}
{%- endmacro %}

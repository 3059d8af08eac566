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
    {#- No row when a fit was not made (fit_status not_fitted): whatever
        scores from it is empty instead of null. #}
    having count(
        case
            when model in ('{{ model.name }}', 'gamma_gamma')
                and fit_status = 'not_fitted'
                then 1
        end
    ) = 0
{%- endmacro %}

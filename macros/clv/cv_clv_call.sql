{% macro cv_clv_call(function, leading=[], params='params',
    customers='customers') -%}
    {%- set model = cv_clv_model() -%}
    {%- set arguments = leading | list -%}
    {%- for name in model.parameters -%}
        {%- do arguments.append(params ~ '.' ~ name) -%}
    {%- endfor -%}
    {%- for name in ['frequency', 'recency', '"T"'] -%}
        {%- do arguments.append(customers ~ '.' ~ name) -%}
    {%- endfor -%}
    cv_{{ model.name }}_{{ function }}({{ arguments | join(', ') }})
{%- endmacro %}

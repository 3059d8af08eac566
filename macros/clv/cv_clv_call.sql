{#-
    A call of the DuckDB function cv_<clv_model>_<function> (registered by
    python_udfs.duckdb_plugin) with the pivoted parameters of CTE `params`
    (see cv_clv_params_pivot), `leading` arguments first and the customer's
    frequency/recency/T from `customers`.
-#}
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

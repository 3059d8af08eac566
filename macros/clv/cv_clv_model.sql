{#-
    The transaction model of var('clv_model') and its parameter names, in
    the order the cv_<model>_* DuckDB functions take them.
-#}
{% macro cv_clv_model() -%}
    {%- set models = {
        'bgnbd': ['r', 'alpha', 'a', 'b'],
        'mbgnbd': ['r', 'alpha', 'a', 'b'],
        'pareto_nbd': ['r', 'alpha', 's', 'beta'],
    } -%}
    {%- set model = var('clv_model') -%}
    {%- if model not in models -%}
        {{ exceptions.raise_compiler_error(
            "Unknown clv_model '" ~ model ~ "': use bgnbd, mbgnbd or pareto_nbd."
        ) }}
    {%- endif -%}
    {{ return({'name': model, 'parameters': models[model]}) }}
{%- endmacro %}

{% macro cv_clv_model() -%}
    {%- set models = cv_clv_registry()['transaction_models'] -%}
    {%- set model = var('clv_model') -%}
    {%- if model not in models -%}
        {%- set names = models | list -%}
        {{ exceptions.raise_compiler_error(
            "Unknown clv_model '" ~ model ~ "': use "
            ~ names[:-1] | join(', ') ~ " or " ~ names[-1] ~ "."
        ) }}
    {%- endif -%}
    {{ return({'name': model, 'parameters': models[model]}) }}
{%- endmacro %}

{% macro cv_rfm_rescale(score, bins) -%}
    {%- if bins == 5 -%}
        {{ score }}
    {%- else -%}
        cast(ceil(({{ score }} - 0.5) * 5 / {{ bins }}) as integer)
    {%- endif -%}
{%- endmacro %}

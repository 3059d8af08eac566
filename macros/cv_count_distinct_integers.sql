{% macro cv_count_distinct_integers(column, low, high) -%}
    {%- if target.type == 'duckdb' and low is not none and high is not none
        and (high - low) < 2 ** 30 -%}
        bit_count(bitstring_agg({{ column }}, {{ low }}, {{ high }}))
    {%- else -%}
        count(distinct {{ column }})
    {%- endif -%}
{%- endmacro %}

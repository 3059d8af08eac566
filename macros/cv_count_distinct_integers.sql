{#-
    count(distinct `column`) for an integer column whose values lie in
    [low, high] (constants known when the SQL is compiled). DuckDB: the
    number of bits set in a bitmap of that range (bitstring_agg), a
    streaming aggregate with no hash table or sort; used up to 2^30 possible
    values (a 128 MB bitmap), beyond which, without bounds (an empty table)
    and on other warehouses it is count(distinct).
-#}
{% macro cv_count_distinct_integers(column, low, high) -%}
    {%- if target.type == 'duckdb' and low is not none and high is not none
        and (high - low) < 2 ** 30 -%}
        bit_count(bitstring_agg({{ column }}, {{ low }}, {{ high }}))
    {%- else -%}
        count(distinct {{ column }})
    {%- endif -%}
{%- endmacro %}

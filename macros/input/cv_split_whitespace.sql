{% macro cv_split_whitespace(expr) -%}
    regexp_split_to_array(trim(regexp_replace({{ expr }}, '\s+$', '')), '\s+')
{%- endmacro %}

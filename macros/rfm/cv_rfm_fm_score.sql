{% macro cv_rfm_fm_score(f_score, m_score) -%}
    cast(floor(({{ f_score }} + {{ m_score }} + 1) / 2) as integer)
{%- endmacro %}

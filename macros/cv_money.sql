{#-
    An amount as an exact decimal with 4 places. Intermediate models sum
    money as decimals so that totals do not depend on row order (float sums
    do, in the last bits, which would let ties in RFM scores fall
    differently between a full and an incremental build); marts cast to
    double.
-#}
{% macro cv_money(expr) -%}
    cast({{ expr }} as decimal(18, 4))
{%- endmacro %}

{#-
    Every data row of the input, numbered in file order. The reconciliation
    test counts rows through this macro too, so "raw rows" means the same
    thing everywhere. CDNOW master files start with a header line, which is
    not a data row.
-#}
{% macro cv_input_rows() %}
    (
        select
            *,
            row_number() over () as source_row_number
        from {{ cv_input_reader() }}
        {%- if var('input_format') == 'cdnow' %}
        where not regexp_matches(line, '^\s*customer_id\s')
            and trim(line) <> ''
        {%- endif %}
    )
{% endmacro %}

{#-
    Every data row of the input, numbered in file order. The reconciliation
    test counts rows through this macro too, so "raw rows" means the same
    thing everywhere. CDNOW master files start with a header line, which is
    not a data row. Incremental runs read only `files` (the new ones),
    numbering from `first_row_number`; an empty list gives no rows.
-#}
{% macro cv_input_rows(files=none, first_row_number=none) %}
    (
        select
            *,
            row_number() over ()
            {%- if first_row_number %} + {{ first_row_number }} - 1{% endif %}
                as source_row_number
        from {{ cv_input_reader(files=files) }}
        where {{ 'false' if files is not none and not files else 'true' }}
        {%- if var('input_format') == 'cdnow' %}
            and not regexp_matches(line, '^\s*customer_id\s')
            and trim(line) <> ''
        {%- endif %}
    )
{% endmacro %}

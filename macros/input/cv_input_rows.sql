{% macro cv_input_rows(files=none, first_row_number=none) %}
    {%- set offset = ' + ' ~ first_row_number ~ ' - 1' if first_row_number
        else '' -%}
    {%- set keep = 'false' if files is not none and not files else 'true' -%}
    {%- if var('input_format') != 'cdnow' and cv_input_is_parquet() %}
    (
        select
            input_rows.* exclude (file_row_number),
            cast(
                file_offsets.rows_before + input_rows.file_row_number + 1
                {{- offset }} as bigint
            ) as source_row_number
        from {{ cv_input_reader(files=files, file_row_number=true) }}
            as input_rows
        inner join (
            select
                file_name,
                coalesce(sum(num_rows) over (
                    order by file_name
                    rows between unbounded preceding and 1 preceding
                ), 0) as rows_before
            from parquet_file_metadata({{ cv_input_files_literal(files=files) }})
        ) as file_offsets
            on input_rows.filename = file_offsets.file_name
        where {{ keep }}
    )
    {%- else %}
    (
        select
            *,
            row_number() over (){{ offset }} as source_row_number
        from {{ cv_input_reader(files=files) }}
        where {{ keep }}
        {%- if var('input_format') == 'cdnow' %}
            and not regexp_matches(line, '^\s*customer_id\s')
            and trim(line) <> ''
        {%- endif %}
    )
    {%- endif %}
{% endmacro %}

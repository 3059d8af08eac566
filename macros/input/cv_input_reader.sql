{#-
    The DuckDB table function that reads `input_path` (or just `files`, a
    list of paths it matches) for `input_format`.
    CSV is read as text (all_varchar) so that a bad value becomes a rejects
    row with its reason instead of a failed load; Parquet keeps its types.
    CDNOW files are whitespace separated with a variable number of blanks,
    so each line is read whole and split in the mapping.
    `file_row_number`: Parquet readers also return each row's 0-based
    position in its file (a column named file_row_number).
-#}
{% macro cv_input_reader(
    input_format=none, input_path=none, files=none, file_row_number=false
) %}
    {%- set input_format = input_format or var('input_format') -%}
    {%- set quoted = cv_input_files_literal(input_path, files) -%}
    {%- if input_format == 'cdnow' -%}
        read_csv({{ quoted }}, columns = {'line': 'VARCHAR'}, header = false,
            delim = '|', quote = '', escape = '', filename = true)
    {%- elif cv_input_is_parquet(input_path) -%}
        read_parquet({{ quoted }}, filename = true, union_by_name = true
            {%- if file_row_number %}, file_row_number = true{% endif %})
    {%- else -%}
        read_csv({{ quoted }}, header = true, all_varchar = true,
            filename = true, union_by_name = true)
    {%- endif -%}
{% endmacro %}

{#- Whether input_path names Parquet file(s). -#}
{% macro cv_input_is_parquet(input_path=none) %}
    {{- return(
        ((input_path or var('input_path')) | string).lower().endswith('.parquet')
    ) -}}
{% endmacro %}

{#- SQL literal of what the readers read: `files` as a list, else the
    input_path (a file or a glob). -#}
{% macro cv_input_files_literal(input_path=none, files=none) %}
    {%- if files -%}
        {%- set quoted_files = [] -%}
        {%- for file in files -%}
            {%- do quoted_files.append("'" ~ file | replace("'", "''") ~ "'") -%}
        {%- endfor -%}
        {{- return('[' ~ quoted_files | join(', ') ~ ']') -}}
    {%- else -%}
        {%- set path = (input_path or var('input_path')) | string -%}
        {{- return("'" ~ path | replace("'", "''") ~ "'") -}}
    {%- endif -%}
{% endmacro %}

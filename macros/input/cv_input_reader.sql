{#-
    The DuckDB table function that reads `input_path` (or just `files`, a
    list of paths it matches) for `input_format`.
    CSV is read as text (all_varchar) so that a bad value becomes a rejects
    row with its reason instead of a failed load; Parquet keeps its types.
    CDNOW files are whitespace separated with a variable number of blanks,
    so each line is read whole and split in the mapping.
-#}
{% macro cv_input_reader(input_format=none, input_path=none, files=none) %}
    {%- set input_format = input_format or var('input_format') -%}
    {%- set path = (input_path or var('input_path')) | string -%}
    {%- if files -%}
        {%- set quoted_files = [] -%}
        {%- for file in files -%}
            {%- do quoted_files.append("'" ~ file | replace("'", "''") ~ "'") -%}
        {%- endfor -%}
        {%- set quoted = '[' ~ quoted_files | join(', ') ~ ']' -%}
    {%- else -%}
        {%- set quoted = "'" ~ path | replace("'", "''") ~ "'" -%}
    {%- endif -%}
    {%- if input_format == 'cdnow' -%}
        read_csv({{ quoted }}, columns = {'line': 'VARCHAR'}, header = false,
            delim = '|', quote = '', escape = '', filename = true)
    {%- elif path.lower().endswith('.parquet') -%}
        read_parquet({{ quoted }}, filename = true, union_by_name = true)
    {%- else -%}
        read_csv({{ quoted }}, header = true, all_varchar = true,
            filename = true, union_by_name = true)
    {%- endif -%}
{% endmacro %}

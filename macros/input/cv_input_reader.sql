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

{% macro cv_input_is_parquet(input_path=none) %}
    {{- return(
        ((input_path or var('input_path')) | string).lower().endswith('.parquet')
    ) -}}
{% endmacro %}

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

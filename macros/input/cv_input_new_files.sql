{% macro cv_input_new_files() %}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set path = var('input_path') | string -%}
    {%- set existing = adapter.get_columns_in_relation(this)
        | map(attribute='name') | list -%}
    {%- if 'row_fingerprint' not in existing -%}
        {{ exceptions.raise_compiler_error(
            "base_input__rows was built by an older version of this project"
            ~ " (it has no row_fingerprint column): rebuild it with dbt build"
            ~ " --full-refresh."
        ) }}
    {%- endif -%}
    {%- set matching = run_query(
        "select file from glob('" ~ path | replace("'", "''") ~ "') order by 1"
    ).columns[0].values() | list -%}
    {%- set loaded = run_query(
        "select distinct source_file from " ~ this ~ " order by 1"
    ).columns[0].values() | list -%}
    {%- set gone = [] -%}
    {%- for file in loaded if file not in matching -%}
        {%- do gone.append(file) -%}
    {%- endfor -%}
    {%- if gone -%}
        {{ exceptions.raise_compiler_error(
            "base_input__rows was loaded from files that input_path '" ~ path
            ~ "' no longer matches (" ~ gone[:3] | join(', ')
            ~ (' ...' if gone | length > 3 else '') ~ "). The input changed:"
            ~ " rebuild with dbt build --full-refresh."
        ) }}
    {%- endif -%}
    {%- set new_files = [] -%}
    {%- for file in matching if file not in loaded -%}
        {%- do new_files.append(file) -%}
    {%- endfor -%}
    {{ return(new_files) }}
{% endmacro %}

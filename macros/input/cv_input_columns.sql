{% macro cv_input_columns() %}
    {%- set input_format = var('input_format') -%}
    {%- set path = var('input_path') | string -%}
    {%- set spec = cv_input_spec(input_format) -%}
    {%- if not execute -%}
        {{ return({'columns': {}, 'all': []}) }}
    {%- endif -%}
    {%- set hint = " Set the input with dbt build --vars "
        ~ "'{input_format: <format>, input_path: <file or glob>}'"
        ~ " (see README, 'Point it at your own data')." -%}
    {%- set expected = [] -%}
    {%- for name, spellings in spec['required'].items() -%}
        {%- do expected.append(spellings | join(' or ')) -%}
    {%- endfor -%}

    {%- set files = run_query(
        "select count(*) from glob('" ~ path | replace("'", "''") ~ "')"
    ).columns[0].values()[0] -%}
    {%- if files == 0 -%}
        {{ exceptions.raise_compiler_error(
            "Input not found: no file matches input_path '" ~ path
            ~ "' (input_format " ~ input_format ~ ", resolved against the "
            ~ "directory dbt runs in)." ~ hint
        ) }}
    {%- endif -%}

    {%- set reader = cv_input_reader(input_format, path) -%}
    {%- set described = run_query(
        "describe select * from " ~ reader
    ) -%}
    {%- set present = {} -%}
    {%- for row in described.rows -%}
        {%- if row[0] != 'filename' -%}
            {%- do present.update({row[0] | lower | trim: (row[0], row[1])}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set has_rows = run_query(
        "select count(*) from (select 1 from " ~ reader ~ " limit 1)"
    ).columns[0].values()[0] -%}
    {%- if has_rows == 0 -%}
        {{ exceptions.raise_compiler_error(
            "Input is empty: '" ~ path ~ "' has no data rows (input_format "
            ~ input_format ~ "; expected a header with columns: "
            ~ expected | join(', ') ~ ")." ~ hint
        ) }}
    {%- endif -%}

    {%- set mapped = {} -%}
    {%- set missing = [] -%}
    {%- for kind in ['required', 'optional'] -%}
        {%- for name, spellings in spec[kind].items() -%}
            {%- set found = [] -%}
            {%- for spelling in spellings -%}
                {%- if spelling | lower in present and not found -%}
                    {%- do found.append(present[spelling | lower]) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- if found -%}
                {%- do mapped.update({name: found[0]}) -%}
            {%- elif kind == 'required' -%}
                {%- do missing.append(spellings | join(' or ')) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if missing -%}
        {{ exceptions.raise_compiler_error(
            "Input columns missing: '" ~ path ~ "' (input_format "
            ~ input_format ~ ") lacks " ~ missing | join(', ')
            ~ ". Expected columns: " ~ expected | join(', ')
            ~ ". Found: " ~ present.values() | map('first') | join(', ')
            ~ "." ~ hint
        ) }}
    {%- endif -%}
    {%- set all_columns = [] -%}
    {%- for row in described.rows if row[0] != 'filename' -%}
        {%- do all_columns.append(row[0]) -%}
    {%- endfor -%}
    {{ return({'columns': mapped, 'all': all_columns}) }}
{% endmacro %}

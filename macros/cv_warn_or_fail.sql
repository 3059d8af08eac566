{% macro cv_warn_or_fail(rows_sql) -%}
    {#- rows_sql: one row per thing the data could not support, each with a
        `message` (the cause and the fix). Run when the test runs (its
        parents built): each message is printed as a dbt [WARNING], or, with
        clv_required true, fails the build with them (a compilation error
        of the test, whose children are then skipped). The test then
        selects the same rows, so it ends in WARN with their count. -#}
    {%- if execute -%}
        {%- set found = run_query(
            'select message from (' ~ rows_sql ~ ') as problems order by 1'
        ) -%}
        {%- set messages = found.columns[0].values() | list -%}
        {%- if messages and cv_clv_required() -%}
            {{ exceptions.raise_compiler_error(
                messages | join(' ') ~ ' [clv_required is true, so the'
                ~ ' build stops here and the models after this test keep'
                ~ ' their last state; with false it goes on as described'
                ~ ' and only warns.]'
            ) }}
        {%- endif -%}
        {%- for message in messages -%}
            {%- do exceptions.warn(
                '[WARNING] ' ~ model.name ~ ': ' ~ message
            ) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ rows_sql }}
{%- endmacro %}

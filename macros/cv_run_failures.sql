{% macro cv_run_failures(results) -%}
    {%- set failed = [] -%}
    {%- for result in results
        if result.status in ['error', 'fail', 'skipped'] -%}
        {%- do failed.append(result.node.name) -%}
    {%- endfor -%}
    {{ return(failed) }}
{%- endmacro %}

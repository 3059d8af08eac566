{#-
    The dbt run's start (UTC) as a timestamp literal: the updated_at /
    computed_at of rows a run (re)computes, which incremental models
    downstream compare to find what changed since they last ran.
-#}
{% macro cv_run_started_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

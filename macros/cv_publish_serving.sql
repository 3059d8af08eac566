{% macro cv_publish_serving(results) -%}
    {%- if execute and flags.WHICH == 'build' and var('publish_serving') -%}
        {%- set failed = cv_run_failures(results) -%}
        {%- if failed -%}
            {{ log(
                "customer_value: the serving snapshot was not replaced: "
                ~ failed | length ~ " node(s) failed or were skipped ("
                ~ failed[:5] | join(', ') ~ (', ...' if failed | length > 5)
                ~ "); readers keep the last one published.", info=True
            ) }}
        {%- else -%}
            {%- do cv_write_serving_snapshot() -%}
        {%- endif -%}
    {%- endif -%}
    select 1
{%- endmacro %}

{% macro cv_export_marts(results) %}
    {%- if execute and var('export_marts_parquet') -%}
        {%- set failed = cv_run_failures(results) -%}
        {%- set export_path = var('export_path') | replace("'", "''") -%}
        {%- for result in results if not failed -%}
            {%- set node = result.node -%}
            {%- if node.resource_type == 'model'
                and 'marts' in node.fqn
                and result.status == 'success' -%}
                {%- set relation = api.Relation.create(
                    database=node.database, schema=node.schema,
                    identifier=node.alias) -%}
                {%- set final = export_path ~ "/" ~ node.alias ~ ".parquet" -%}
                {%- set temporary = final ~ ".tmp-" ~ invocation_id -%}
                {%- do run_query(
                    "select cv_remove_stale_temp_files('" ~ final ~ "')") -%}
                {%- do run_query(
                    "copy (select * from " ~ relation ~ ") to '"
                    ~ temporary ~ "' (format parquet)"
                ) -%}
                {%- do run_query(
                    "select cv_replace_file('" ~ temporary ~ "', '"
                    ~ final ~ "')") -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if failed -%}
            {{ log(
                "customer_value: Parquet exports not replaced: "
                ~ failed | length ~ " node(s) failed or were skipped.",
                info=True
            ) }}
        {%- endif -%}
    {%- endif -%}
    select 1
{% endmacro %}

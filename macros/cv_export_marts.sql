{% macro cv_export_marts(results) %}
    {%- if execute and var('export_marts_parquet') -%}
        {%- set export_path = var('export_path') -%}
        {%- for result in results -%}
            {%- set node = result.node -%}
            {%- if node.resource_type == 'model'
                and 'marts' in node.fqn
                and result.status == 'success' -%}
                {%- set relation = api.Relation.create(
                    database=node.database, schema=node.schema,
                    identifier=node.alias) -%}
                {%- do run_query(
                    "copy (select * from " ~ relation ~ ") to '"
                    ~ export_path ~ "/" ~ node.alias
                    ~ ".parquet' (format parquet)"
                ) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{% endmacro %}

{% macro cv_write_serving_snapshot() -%}
    {{ return(adapter.dispatch(
        'cv_write_serving_snapshot', 'customer_value')()) }}
{%- endmacro %}

{% macro default__cv_write_serving_snapshot() -%}
    {{ log(
        "customer_value: no serving snapshot on " ~ target.type
        ~ ": BI tools read the marts in the warehouse.", info=True
    ) }}
{%- endmacro %}

{% macro duckdb__cv_write_serving_snapshot() -%}
    {%- set marts = [] -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and 'marts' in node.fqn -%}
        {%- set relation = adapter.get_relation(
            database=node.database, schema=node.schema,
            identifier=node.alias) -%}
        {%- if relation is not none -%}
            {%- do marts.append(relation) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set serving = run_query("select cv_serving_path()").columns[0][0]
        | replace("'", "''") -%}
    {%- set temporary = serving ~ '.tmp-' ~ invocation_id -%}
    {%- do run_query(
        "select cv_remove_stale_temp_files('" ~ serving ~ "')") -%}
    {%- do run_query(
        "attach '" ~ temporary ~ "' as cv_serving_snapshot") -%}
    {%- for relation in marts | sort(attribute='identifier') -%}
        {%- do run_query(
            "create table cv_serving_snapshot.main." ~ relation.identifier
            ~ " as select * from " ~ relation) -%}
    {%- endfor -%}
    {%- do run_query(
        "create table cv_serving_snapshot.main.serving_snapshot as select '"
        ~ invocation_id ~ "' as invocation_id, cast('"
        ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S')
        ~ "' as timestamp) as run_started_at, cast(now() as timestamp)"
        ~ " as published_at, " ~ marts | length ~ " as marts") -%}
    {%- do run_query("checkpoint cv_serving_snapshot") -%}
    {%- do run_query("detach cv_serving_snapshot") -%}
    {%- do run_query(
        "select cv_replace_file('" ~ temporary ~ "', '" ~ serving ~ "')") -%}
    {{ log(
        "customer_value: published " ~ marts | length
        ~ " marts to the serving snapshot " ~ serving, info=True
    ) }}
{%- endmacro %}

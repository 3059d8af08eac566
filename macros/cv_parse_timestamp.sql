{% macro cv_parse_timestamp(expr, source_type) -%}
    {%- if source_type.startswith('TIMESTAMP WITH TIME ZONE') -%}
        timezone('UTC', {{ expr }})
    {%- elif source_type.startswith('TIMESTAMP') or source_type == 'DATE' -%}
        {{ cv_to_utc('cast(' ~ expr ~ ' as timestamp)') }}
    {%- else -%}
        {%- set text = 'trim(cast(' ~ expr ~ ' as varchar))' -%}
        case
            when regexp_matches({{ text }}, '(Z|[+-]\d\d:?\d\d|\sUTC)$')
                then timezone('UTC', try_cast({{ text }} as timestamptz))
            else {{ cv_to_utc(
                'coalesce(try_cast(' ~ text ~ ' as timestamp), try_strptime('
                ~ text ~ ", ['" ~ var('input_timestamp_format')
                ~ "', '%Y%m%d']))"
            ) }}
        end
    {%- endif -%}
{%- endmacro %}

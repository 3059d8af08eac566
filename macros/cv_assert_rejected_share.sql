{% macro cv_assert_rejected_share() %}
    {%- if execute -%}
        {%- set result = run_query(
            "select reject_reason, count(*) from " ~ this
            ~ " group by all order by 2 desc, 1"
        ) -%}
        {%- set ns = namespace(total=0, rejected=0, reasons=[]) -%}
        {%- for row in result.rows -%}
            {%- set ns.total = ns.total + row[1] -%}
            {%- if row[0] is not none -%}
                {%- set ns.rejected = ns.rejected + row[1] -%}
                {%- do ns.reasons.append(row[0] ~ ': ' ~ row[1]) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set limit = var('max_rejected_share') | float -%}
        {%- if ns.total == 0 -%}
            {{ exceptions.raise_compiler_error(
                "Input '" ~ var('input_path') ~ "' has no data rows."
            ) }}
        {%- elif ns.rejected / ns.total > limit -%}
            {{ exceptions.raise_compiler_error(
                "Too many rejected input rows: " ~ ns.rejected ~ " of "
                ~ ns.total ~ " (" ~ '%.1f' | format(100 * ns.rejected / ns.total)
                ~ "%) exceed max_rejected_share " ~ limit ~ ". By reason: "
                ~ ns.reasons | join(', ') ~ ". Look at them with: select "
                ~ "reject_reason, raw_record from " ~ this
                ~ " where row_status = 'rejected'. Fix the input, check "
                ~ "input_format/input_timezone, or raise max_rejected_share."
            ) }}
        {%- endif -%}
    {%- endif -%}
    select 1
{% endmacro %}

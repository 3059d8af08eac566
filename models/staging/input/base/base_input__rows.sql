{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    post_hook="{{ cv_assert_rejected_share() }}",
) }}

{#-
    Every data row of the input file(s), parsed onto canonical columns, with
    its status: sale, return, event (a non-purchase event) or rejected (with
    the first failed check as reject_reason). Staging models select from
    here; nothing is dropped.

    Incremental: a run reads only the files matching input_path that are not
    loaded yet (append new data as new files, e.g. one per day) and checks
    their rows for exact duplicates against everything loaded before, so the
    table equals a full refresh. After changing the input or a parsing var,
    run dbt build --full-refresh.
-#}

{%- set layout = cv_input_columns() -%}
{%- set f = cv_input_fields(layout) -%}
{%- set is_events = var('input_format') == 'events' -%}
{%- set dedupe = var('reject_exact_duplicates') -%}
{%- if dedupe == 'auto' -%}
    {%- set dedupe = var('input_format') != 'cdnow' -%}
{%- endif -%}
{%- set max_ts = var('max_valid_timestamp')
    or run_started_at.strftime('%Y-%m-%d %H:%M:%S') -%}

{%- set raw_columns = [] -%}
{%- for column in layout['all'] -%}
    {%- do raw_columns.append(adapter.quote('raw__' ~ column)) -%}
{%- endfor -%}
{#- Parquet is read again by each part of the query that needs the rows
    (cheap, in parallel, and nothing held in memory; DuckDB would otherwise
    materialize the file's rows, since three parts read them through
    `fingerprinted`); CSV text is parsed once and kept. -#}
{%- set inline_input = cv_not_materialized() if cv_input_is_parquet() else '' -%}
{%- set duplicate_key = [
    'row_fingerprint', 'order_id', 'customer_id', 'ordered_at', 'product_id',
    'quantity', 'unit_price',
] -%}

{#- The parsed canonical columns and the price columns computed from the
    *_raw columns: for every row, and again for the few duplicate candidates
    (so the duplicate check parses only those). -#}
{%- set parse_columns %}
        {{ cv_clean_text('order_id_raw', f.order_id.type) }} as order_id,
        {{ cv_clean_text('customer_id_raw', f.customer_id.type, true) }}
            as customer_id,
        {{ cv_parse_timestamp('ordered_at_raw', f.ordered_at.type) }}
            as ordered_at,
        {{ cv_clean_text('product_id_raw', f.product_id.type, true) }}
            as product_id,
        {{ cv_clean_text('product_name_raw', f.product_name.type) }}
            as product_name,
        {{ cv_clean_text('product_category_raw', f.product_category.type) }}
            as product_category,
        {{ cv_parse_number('quantity_raw', f.quantity.type, 'integer') }}
            as quantity,
        {{ cv_parse_number('unit_price_raw', f.unit_price.type, 'double') }}
            as unit_price_parsed,
        {{ cv_parse_number('line_amount_raw', f.line_amount.type, 'double') }}
            as line_amount_parsed,
        {{ cv_clean_text('store_id_raw', f.store_id.type) }} as store_id,
        lower({{ cv_clean_text('event_type_raw', f.event_type.type) }})
            as event_type,
        {{ cv_clean_text('session_id_raw', f.session_id.type) }}
            as session_id,
        {{ cv_clean_text('category_id_raw', f.category_id.type, true) }}
            as category_id,
        {{ cv_clean_text('brand_raw', f.brand.type) }} as brand
{%- endset -%}
{%- set price_columns %}
        coalesce(
            unit_price_parsed,
            line_amount_parsed / nullif(quantity, 0)
        ) as unit_price,
        coalesce(line_amount_parsed, quantity * unit_price_parsed)
            as line_amount,
        {%- if is_events %}
        event_type = 'purchase' as is_order_line
        {%- else %}
        true as is_order_line
        {%- endif %}
{%- endset %}

with

source_rows as {{ inline_input }} (
    {%- if is_incremental() %}
    select * from {{ cv_input_rows(
        files=cv_input_new_files(),
        first_row_number='(select coalesce(max(source_row_number), 0) + 1 from '
            ~ this ~ ')',
    ) }}
    {%- else %}
    select * from {{ cv_input_rows() }}
    {%- endif %}
),

mapped as (
    select
        source_rows.filename as source_file,
        source_rows.source_row_number,
        {%- for name in f %}
        {{ f[name].expr }} as {{ name }}_raw,
        {%- endfor %}
        {%- for column in layout['all'] %}
        source_rows.{{ adapter.quote(column) }}
            as {{ adapter.quote('raw__' ~ column) }},
        {%- endfor %}
    from source_rows
),

fingerprinted as {{ inline_input }} (
    select
        *,
        {{ cv_row_fingerprint(raw_columns) }} as row_fingerprint
    from mapped
),

parsed as (
    select
        *,
        {{ parse_columns | trim }}
    from fingerprinted
),

priced as (
    select
        *,
        {{ price_columns | trim }}
    from parsed
),

checked as (
    select
        *,
        case
            when is_malformed_raw then 'malformed_line'
            when customer_id is null then 'missing_customer_id'
            when {{ cv_is_blank('ordered_at_raw', f.ordered_at.type) }}
                then 'missing_timestamp'
            when ordered_at is null then 'unparseable_timestamp'
            when ordered_at > timestamp '{{ max_ts }}'
                then 'future_timestamp'
            {%- if is_events %}
            when event_type is null
                or event_type not in (
                    'view', 'cart', 'remove_from_cart', 'purchase'
                )
                then 'unknown_event_type'
            {%- endif %}
            when product_id is null then 'missing_product_id'
            when not is_order_line then null
            when order_id is null then 'missing_order_id'
            when {{ cv_is_blank('quantity_raw', f.quantity.type) }}
                then 'missing_quantity'
            when quantity is null then 'unparseable_quantity'
            when quantity = 0 then 'zero_quantity'
            when {{ cv_is_blank('unit_price_raw', f.unit_price.type) }}
                and line_amount_parsed is null
                then 'missing_price'
            when unit_price is null then 'unparseable_price'
            when unit_price <= 0 then 'non_positive_price'
            when is_cancellation_raw and quantity > 0
                then 'cancellation_with_positive_quantity'
        end as failed_check
    from priced
),

{%- if dedupe %}
{#- Exact duplicates: rows sharing a fingerprint (a cheap aggregate finds
    the few candidate groups), then confirmed on the parsed key columns, so
    a hash collision alone never rejects a row. #}
candidate_groups as {{ inline_input }} (
    select row_fingerprint
    from fingerprinted
    group by row_fingerprint
    having count(*) > 1
    {%- if is_incremental() %}
    union
    select fingerprinted.row_fingerprint
    from fingerprinted
    inner join {{ this }} as loaded
        on fingerprinted.row_fingerprint = loaded.row_fingerprint
    {%- endif %}
),

candidate_rows as (
    select
        *,
        {{ parse_columns | trim }}
    from fingerprinted
    where row_fingerprint in (select row_fingerprint from candidate_groups)
),

candidate_rows_priced as (
    select
        *,
        {{ price_columns | trim }}
    from candidate_rows
),

candidates as (
    select
        {%- for column in duplicate_key %}
        {{ column }},
        {%- endfor %}
        source_row_number,
        false as is_loaded
    from candidate_rows_priced
    {%- if is_incremental() %}
    union all
    select
        {%- for column in duplicate_key %}
        loaded.{{ column }},
        {%- endfor %}
        loaded.source_row_number,
        true as is_loaded
    from {{ this }} as loaded
    inner join candidate_groups
        on loaded.row_fingerprint = candidate_groups.row_fingerprint
    {%- endif %}
),

duplicates as (
    select source_row_number
    from (
        select
            source_row_number,
            is_loaded,
            row_number() over (
                partition by
                    {%- for column in duplicate_key %}
                    {{ column }}{{ ',' if not loop.last }}
                    {%- endfor %}
                order by source_row_number
            ) as copy_number
        from candidates
    ) as numbered
    where copy_number > 1 and not is_loaded
),

{% endif -%}
deduplicated as (
    select
        checked.*,
        {%- if dedupe %}
        duplicates.source_row_number is not null as is_exact_duplicate
        {%- else %}
        false as is_exact_duplicate
        {%- endif %}
    from checked
    {%- if dedupe %}
    left join duplicates
        on checked.source_row_number = duplicates.source_row_number
    {%- endif %}
),

final as (
    select
        source_file,
        source_row_number,
        case
            when failed_check is not null or is_exact_duplicate
                then 'rejected'
            when not is_order_line then 'event'
            when quantity < 0 then 'return'
            else 'sale'
        end as row_status,
        coalesce(
            failed_check,
            case when is_exact_duplicate then 'exact_duplicate' end
        ) as reject_reason,
        order_id,
        customer_id,
        ordered_at,
        product_id,
        product_name,
        product_category,
        quantity,
        unit_price,
        line_amount,
        coalesce(quantity < 0, false) as is_return,
        {%- if 'store_id' in layout['columns'] %}
        coalesce(store_id, 'unknown') as store_id,
        {%- else %}
        'all' as store_id,
        {%- endif %}
        event_type,
        session_id,
        category_id,
        brand,
        row_fingerprint,
        case
            when failed_check is not null or is_exact_duplicate
                then concat_ws(
                    ' | ',
                    {%- for column in layout['all'] %}
                    '{{ column }}=' || coalesce(
                        cast({{ adapter.quote('raw__' ~ column) }} as varchar),
                        ''
                    ){{ ',' if not loop.last }}
                    {%- endfor %}
                )
        end as raw_record
    from deduplicated
)

select * from final

{% macro cv_input_fields(layout) %}
    {%- set input_format = var('input_format') -%}
    {%- set cols = layout['columns'] -%}
    {%- set fields = {} -%}
    {%- set names = [
        'order_id', 'customer_id', 'ordered_at', 'product_id', 'product_name',
        'product_category', 'quantity', 'unit_price', 'line_amount',
        'store_id', 'event_type', 'session_id', 'category_id', 'brand',
    ] -%}
    {%- for name in names -%}
        {%- if name in cols -%}
            {%- do fields.update({name: {
                'expr': 'source_rows.' ~ adapter.quote(cols[name][0]),
                'type': cols[name][1] | upper,
            }}) -%}
        {%- else -%}
            {%- do fields.update({name: {
                'expr': 'cast(null as varchar)', 'type': 'VARCHAR'
            }}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do fields.update({
        'is_malformed': {'expr': 'false', 'type': 'BOOLEAN'},
        'is_cancellation': {'expr': 'false', 'type': 'BOOLEAN'},
    }) -%}

    {%- if input_format == 'online_retail' -%}
        {%- do fields.update({'is_cancellation': {
            'expr': "upper(cast(" ~ fields['order_id']['expr']
                ~ " as varchar)) like 'C%'",
            'type': 'BOOLEAN',
        }}) -%}
    {%- elif input_format == 'events' -%}
        {#- One purchase event is one unit; a session is one order. -#}
        {%- do fields.update({
            'quantity': {'expr': '1', 'type': 'INTEGER'},
            'order_id': {
                'expr': 'coalesce(cast(' ~ fields['session_id']['expr']
                    ~ ' as varchar), cast(' ~ fields['customer_id']['expr']
                    ~ ' as varchar) || \'@\' || cast('
                    ~ fields['ordered_at']['expr'] ~ ' as varchar))',
                'type': 'VARCHAR',
            },
        }) -%}
    {%- elif input_format == 'cdnow' -%}
        {%- set tokens = cv_split_whitespace('source_rows.line') -%}
        {%- do fields.update({
            'is_malformed': {
                'expr': 'len(' ~ tokens ~ ') not in (4, 5)',
                'type': 'BOOLEAN',
            },
            'customer_id': {'expr': tokens ~ '[1]', 'type': 'VARCHAR'},
            'ordered_at': {'expr': tokens ~ '[-3]', 'type': 'VARCHAR'},
            'quantity': {'expr': tokens ~ '[-2]', 'type': 'VARCHAR'},
            'line_amount': {'expr': tokens ~ '[-1]', 'type': 'VARCHAR'},
            'order_id': {
                'expr': tokens ~ "[1] || '-' || " ~ tokens ~ '[-3]',
                'type': 'VARCHAR',
            },
            'product_id': {'expr': "'cd'", 'type': 'VARCHAR'},
            'product_name': {'expr': "'CD'", 'type': 'VARCHAR'},
        }) -%}
    {%- endif -%}
    {{ return(fields) }}
{% endmacro %}

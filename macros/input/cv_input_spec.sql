{% macro cv_input_spec(input_format) %}
    {%- set specs = {
        'transactions': {
            'required': {
                'order_id': ['order_id'],
                'customer_id': ['customer_id'],
                'ordered_at': ['ordered_at'],
                'product_id': ['product_id'],
                'quantity': ['quantity'],
                'unit_price': ['unit_price'],
            },
            'optional': {
                'product_name': ['product_name'],
                'product_category': ['product_category'],
                'store_id': ['store_id'],
            },
        },
        'online_retail': {
            'required': {
                'order_id': ['InvoiceNo', 'Invoice'],
                'product_id': ['StockCode'],
                'quantity': ['Quantity'],
                'ordered_at': ['InvoiceDate'],
                'unit_price': ['UnitPrice', 'Price'],
                'customer_id': ['CustomerID', 'Customer ID'],
            },
            'optional': {
                'product_name': ['Description'],
                'store_id': ['Country'],
            },
        },
        'events': {
            'required': {
                'ordered_at': ['event_time'],
                'event_type': ['event_type'],
                'product_id': ['product_id'],
                'unit_price': ['price'],
                'customer_id': ['user_id'],
            },
            'optional': {
                'category_id': ['category_id'],
                'product_category': ['category_code'],
                'brand': ['brand'],
                'session_id': ['user_session'],
            },
        },
        'cdnow': {
            'required': {'line': ['line']},
            'optional': {},
        },
    } -%}
    {%- if input_format not in specs -%}
        {{ exceptions.raise_compiler_error(
            "Unknown input_format '" ~ input_format ~ "'. Use one of: "
            ~ specs.keys() | list | join(', ')
            ~ " (dbt build --vars '{input_format: ..., input_path: ...}')."
        ) }}
    {%- endif -%}
    {{ return(specs[input_format]) }}
{% endmacro %}

{% macro cv_clv_summary_from_periods(periods, end_date) -%}
    select
        customer_id,
        cast(periods - 1 as integer) as frequency,
        {{ cv_clv_duration('first_period', 'last_period') }} as recency,
        {{ cv_clv_duration('first_period', cv_clv_period(end_date)) }}
            as "T",
        coalesce(
            (total_value - first_period_value) / nullif(periods - 1, 0), 0
        ) as monetary_value,
        total_value as historic_value
    from {{ periods }}
{%- endmacro %}

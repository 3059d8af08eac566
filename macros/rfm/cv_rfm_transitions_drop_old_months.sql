{% macro cv_rfm_transitions_drop_old_months() %}
    {%- set months_kept = var('rfm_transition_months') -%}
    {%- if months_kept and is_incremental() -%}
        delete from {{ this }}
        where to_month < (
            select cast({{ dbt.dateadd(
                'month', -(months_kept | int - 2), 'max(to_month)'
            ) }} as date)
            from {{ this }}
        )
    {%- else -%}
        select 1
    {%- endif -%}
{% endmacro %}

{% macro cv_rfm_measures() -%}
    {{ return([
        ('r', 'recency_days', false),
        ('f', 'frequency', true),
        ('m', 'monetary', true),
    ]) }}
{%- endmacro %}

{% macro cv_rfm_thresholds(features, partition_by=none) -%}
    {%- set bins = cv_rfm_bins() -%}
    {%- set by = partition_by ~ ',' if partition_by else '' -%}
    with

    sizes as (
        select
            {{ by }}
            count(*) as customers
        from {{ features }}
        {{ 'group by ' ~ partition_by if partition_by }}
    ),
    {%- for prefix, value, higher_is_better in cv_rfm_measures() %}

    {{ prefix }}_values as (
        select
            {{ by }}
            {{ value }} as value,
            count(*) as customers
        from {{ features }}
        group by {{ by }} {{ value }}
    ),

    {{ prefix }}_value_scores as (
        select
            {%- if partition_by %}
            {{ prefix }}_values.{{ partition_by }},
            {%- endif %}
            {{ prefix }}_values.value,
            {{ prefix }}_values.customers,
            {{ cv_rfm_score_from_worse(
                'sum(' ~ prefix ~ '_values.customers) over ('
                ~ ('partition by ' ~ prefix ~ '_values.' ~ partition_by
                    if partition_by else '')
                ~ ' order by ' ~ prefix ~ '_values.value '
                ~ ('asc' if higher_is_better else 'desc')
                ~ ' rows between unbounded preceding and 1 preceding)',
                'sizes.customers'
            ) }} as score
        from {{ prefix }}_values
        {%- if partition_by %}
        inner join sizes
            on {{ prefix }}_values.{{ partition_by }} = sizes.{{ partition_by }}
        {%- else %}
        cross join sizes
        {%- endif %}
    ),

    {{ prefix }}_thresholds as (
        select
            {%- if partition_by %}
            {{ prefix }}_value_scores.{{ partition_by }},
            {%- endif %}
            {%- for k in range(2, bins + 1) %}
            {{ 'min' if higher_is_better else 'max' }}(
                case
                    when {{ prefix }}_value_scores.score >= {{ k }}
                        then {{ prefix }}_value_scores.value
                end
            ) as {{ prefix }}_from_{{ k }},
            {%- endfor %}
            {{ cv_rfm_score_from_worse(
                'sum(case when ' ~ prefix ~ '_value_scores.value is not null'
                ~ ' then ' ~ prefix ~ '_value_scores.customers end)',
                'max(sizes.customers)'
            ) }} as {{ prefix }}_null_score
        from {{ prefix }}_value_scores
        {%- if partition_by %}
        inner join sizes
            on {{ prefix }}_value_scores.{{ partition_by }}
                = sizes.{{ partition_by }}
        group by {{ prefix }}_value_scores.{{ partition_by }}
        {%- else %}
        cross join sizes
        {%- endif %}
    )
    {%- if not loop.last %},{% endif %}
    {%- endfor %}

    select
        {%- if partition_by %}
        r_thresholds.{{ partition_by }},
        {%- endif %}
        {%- for prefix, value, higher_is_better in cv_rfm_measures() %}
        {%- for k in range(2, bins + 1) %}
        {{ prefix }}_thresholds.{{ prefix }}_from_{{ k }},
        {%- endfor %}
        {{ prefix }}_thresholds.{{ prefix }}_null_score
        {{- ',' if not loop.last }}
        {%- endfor %}
    from r_thresholds
    {%- if partition_by %}
    inner join f_thresholds
        on r_thresholds.{{ partition_by }} = f_thresholds.{{ partition_by }}
    inner join m_thresholds
        on r_thresholds.{{ partition_by }} = m_thresholds.{{ partition_by }}
    {%- else %}
    cross join f_thresholds
    cross join m_thresholds
    {%- endif %}
{%- endmacro %}

{% macro cv_rfm_score_from_thresholds(prefix, value, thresholds) -%}
    {%- set bins = cv_rfm_bins() -%}
    {%- set higher_is_better = prefix != 'r' -%}
    case
        when {{ value }} is null then {{ thresholds }}.{{ prefix }}_null_score
        else 1
        {%- for k in range(2, bins + 1) %}
            + case
                when {{ value }} {{ '>=' if higher_is_better else '<=' }}
                    {{ thresholds }}.{{ prefix }}_from_{{ k }}
                    then 1
                else 0
            end
        {%- endfor %}
    end
{%- endmacro %}

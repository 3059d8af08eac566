{#-
    One row describing the build: the input, the time zones, as_of_date and
    when the run started, so reports can say what they are based on.
-#}
with

as_of as (
    select {{ cv_as_of_date(ref('int_orders_aggregated')) }} as as_of_date
),

final as (
    select
        '{{ var("input_format") }}' as input_format,
        '{{ var("input_path") | replace("'", "''") }}' as input_path,
        '{{ var("input_timezone") }}' as input_timezone,
        '{{ var("reporting_timezone") }}' as reporting_timezone,
        as_of.as_of_date,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp)
            as run_started_at
    from as_of
)

select * from final

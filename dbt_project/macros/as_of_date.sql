{#-
    The last date the marts cover, as a SQL date expression. var as_of_date ('YYYY-MM-DD')
    when set; otherwise the latest referral date loaded (`fallback_sql`, a scalar subquery
    the caller passes, so that this macro takes no ref of its own).
-#}
{% macro as_of_date(fallback_sql) -%}
    {%- set value = var('as_of_date', none) -%}
    {%- if value is none or (value | string | trim | lower) in ('', 'none', 'null') -%}
        ({{ fallback_sql }})
    {%- else -%}
        {%- if not modules.re.match('^\d{4}-\d{2}-\d{2}$', value | string | trim) -%}
            {{ exceptions.raise_compiler_error(
                "var as_of_date='" ~ value ~ "' is not a date: use YYYY-MM-DD, or null for "
                ~ "the latest referral date loaded."
            ) }}
        {%- endif -%}
        cast('{{ value | string | trim }}' as date)
    {%- endif -%}
{%- endmacro %}

{#-
    The as-of date the month spine was built with (int_months), as a scalar subquery, for
    models that judge things "on the as-of date".
-#}
{% macro spine_as_of_date() -%}
    (select max(as_of_date) from {{ ref('int_months') }})
{%- endmacro %}

{#-
    A query returning one row, referrals_count: referrals in staging whose LSOA is in the
    geography lookup, made on or before the as-of date; what every mart counting referrals
    must add up to.
-#}
{% macro icb_referrals_to_as_of_count() -%}
    select count(*) as referrals_count
    from {{ ref('stg_social_prescribing__referrals') }} as referrals
    inner join {{ ref('stg_reference__geography') }} as geography
        on referrals.lsoa_code = geography.lsoa_code
    where referrals.referral_date <= {{ spine_as_of_date() }}
{%- endmacro %}

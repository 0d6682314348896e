-- Referral rates and conversion by group of people (deprivation quintile, Core20, age, sex,
-- ethnic group) over the latest 12 months, after disclosure control.
select
    equity_dimension,
    group_value,
    period_start_date,
    period_end_date,
    population_total,
    referrals_count,
    referrals_per_1000_per_year,
    onward_referrals_count,
    onward_referral_conversion_pct
from icp.equity

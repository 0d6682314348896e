-- The whole ICB per ISO week (Monday start), after disclosure control: the "This week" figures.
select
    week_start_date,
    is_complete_week,
    population_total,
    referrals_count,
    onward_referrals_count,
    onward_referrals_refused_no_capacity_count,
    onward_referrals_attended_count,
    onward_referral_conversion_pct,
    weekly_places,
    weekly_places_per_1000,
    funding_gbp,
    current_funding_per_day_gbp,
    funding_at_risk_6m_pct,
    funding_at_risk_12m_pct
from icp.icb_weekly

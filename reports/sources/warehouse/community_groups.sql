-- Each community group over the last four complete quarters, after disclosure control:
-- referrals it took, referred people who came, and the money it received.
select
    provider_id,
    provider_name,
    provider_type,
    is_volunteer_led,
    neighbourhood_code,
    neighbourhood_name,
    lad_code,
    lad_name,
    period_start_date,
    period_end_date,
    onward_referrals_received_count,
    onward_referrals_received_count_is_suppressed,
    referred_people_attended_count,
    referred_people_attended_count_is_suppressed,
    funding_gbp,
    funding_social_prescribing_contract_gbp,
    funding_per_referred_attendee_gbp,
    is_taking_referrals_without_payment,
    is_taking_referrals_without_any_funding
from icp.community_groups

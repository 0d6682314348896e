-- Link worker caseload per PCN in the latest complete month, after disclosure control.
select
    pcn_code,
    pcn_name,
    month_start_date,
    link_worker_fte,
    open_caseload,
    open_caseload_per_fte,
    referrals_12m_count,
    referrals_per_fte_12m,
    is_over_safe_caseload,
    first_contact_within_14_days_pct
from icp.pcn_caseload

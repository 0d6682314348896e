-- Per neighbourhood: weekly places run by groups whose every grant ends within 3, 6 or 12
-- months, and the yearly funding ending in those windows (places and grants, not people).
select
    neighbourhood_code,
    neighbourhood_name,
    lad_code,
    lad_name,
    as_of_date,
    weekly_places,
    weekly_places_losing_all_funding_3m,
    weekly_places_losing_all_funding_6m,
    weekly_places_losing_all_funding_12m,
    current_funding_per_year_gbp,
    funding_ending_3m_per_year_gbp,
    funding_ending_6m_per_year_gbp,
    funding_ending_12m_per_year_gbp
from icp.funding_cliff

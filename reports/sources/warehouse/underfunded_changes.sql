-- Each neighbourhood's underfunded flag in the latest month against the month before.
select
    neighbourhood_code,
    neighbourhood_name,
    lad_code,
    lad_name,
    month_start_date,
    previous_month_start_date,
    is_underfunded,
    was_underfunded,
    change_label
from icp.underfunded_changes

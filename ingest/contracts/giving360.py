"""The 360Giving JSON shape of ``provider_funding``: one mapping, used both ways.

A 360Giving package is ``{"grants": [grant, ...]}``. Each grant nests organisations, dates
and locations in lists; the flat column for each nested value is given here once, so the
reader (JSON to rows) and the demo generator (rows to JSON) cannot drift apart.
"""

from typing import Any

# flat column -> path into a 360Giving grant (key, or key then list index 0 then key)
GRANT_PATHS: dict[str, tuple[str, ...]] = {
    "grant_id": ("id",),
    "title": ("title",),
    "currency": ("currency",),
    "amount_awarded_gbp": ("amountAwarded",),
    "award_date": ("awardDate",),
    "planned_start_date": ("plannedDates", "startDate"),
    "planned_end_date": ("plannedDates", "endDate"),
    "recipient_org_id": ("recipientOrganization", "id"),
    "recipient_org_name": ("recipientOrganization", "name"),
    "funding_org_id": ("fundingOrganization", "id"),
    "funding_org_name": ("fundingOrganization", "name"),
    "funding_purpose": ("grantProgramme", "title"),
    "beneficiary_area_code": ("beneficiaryLocation", "geoCode"),
}


def grant_to_row(grant: dict[str, Any]) -> dict[str, Any]:
    """Flatten one 360Giving grant; nested lists contribute their first element."""
    row: dict[str, Any] = {}
    for column, path in GRANT_PATHS.items():
        value: Any = grant.get(path[0])
        if len(path) == 2:
            if isinstance(value, list):
                value = value[0] if value else None
            value = value.get(path[1]) if isinstance(value, dict) else None
        row[column] = value
    return row


def row_to_grant(row: dict[str, Any]) -> dict[str, Any]:
    """Nest one flat funding row as a 360Giving grant (the inverse of ``grant_to_row``)."""
    grant: dict[str, Any] = {}
    for column, path in GRANT_PATHS.items():
        value = row.get(column)
        if value is None:
            continue
        if len(path) == 1:
            grant[path[0]] = value
        else:
            items = grant.setdefault(path[0], [{}])
            items[0][path[1]] = value
    if "beneficiaryLocation" in grant:
        grant["beneficiaryLocation"][0].setdefault("geoCodeType", "MSOA")
    return grant

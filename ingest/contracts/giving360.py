"""The 360Giving shape of ``provider_funding``: one mapping, used both ways.

A 360Giving package is ``{"grants": [grant, ...]}``. Each grant nests organisations, dates,
the programme and locations in lists; the flat column for each nested value is given here
once (``GRANT_PATHS``), so the reader (JSON to rows, and the spreadsheet and flat CSV, which
flattentool turns into the same JSON first) and the demo generator (rows to JSON) cannot drift
apart.

Lists: the first recipient organisation, funding organisation, planned dates and grant
programme are read (the standard allows more; publishers give one). Beneficiary locations are
read all: the GSS codes among their ``geoCode`` values are joined by ';' into
``beneficiary_area_codes``, and the locations without one (a name only, or a code of another
kind) are counted in ``beneficiary_locations_without_code``.

Organisations' addresses (``streetAddress``, ``addressLocality``, ``addressRegion``,
``postalCode``, ``addressCountry`` of ``recipientOrganization`` and ``fundingOrganization``,
their ``location`` and their web sites and descriptions) are public facts about organisations,
not about people: ``is_organisation_detail`` names them, and the reader drops them unread by
the privacy screen, so they neither refuse a file nor are kept.
"""

import re
from typing import Any

# flat column -> path into a 360Giving grant (key, or list key then key in its items)
GRANT_PATHS: dict[str, tuple[str, ...]] = {
    "grant_id": ("id",),
    "title": ("title",),
    "currency": ("currency",),
    "amount_awarded_gbp": ("amountAwarded",),
    "award_date": ("awardDate",),
    "planned_start_date": ("plannedDates", "startDate"),
    "planned_end_date": ("plannedDates", "endDate"),
    "planned_duration_months": ("plannedDates", "duration"),
    "recipient_org_id": ("recipientOrganization", "id"),
    "recipient_org_name": ("recipientOrganization", "name"),
    "recipient_charity_number": ("recipientOrganization", "charityNumber"),
    "recipient_company_number": ("recipientOrganization", "companyNumber"),
    "funding_org_id": ("fundingOrganization", "id"),
    "funding_org_name": ("fundingOrganization", "name"),
    "grant_programme_title": ("grantProgramme", "title"),
    "beneficiary_area_codes": ("beneficiaryLocation", "geoCode"),
}
# Read from every item of its list (the others: the first item).
ALL_ITEMS = "beneficiaryLocation"
LOCATIONS_WITHOUT_CODE = "beneficiary_locations_without_code"
CODE_SEPARATOR = ";"
# An ONS GSS code: a country letter (K for the UK and Great Britain) and 8 digits.
GSS = re.compile(r"^[EWSNK]\d{8}$")

# Organisation fields that are public facts about an organisation: dropped, never screened.
ORGANISATIONS = ("recipientOrganization", "fundingOrganization")
ORGANISATION_DETAILS = frozenset(
    {
        "streetAddress",
        "addressLocality",
        "addressRegion",
        "postalCode",
        "addressCountry",
        "location",
        "url",
        "description",
        "legalName",
        "department",
        "dateOpened",
        "dateClosed",
    }
)


def is_organisation_detail(keys: tuple) -> bool:
    """True for a leaf (path of keys and list indexes, as ``ingest.read`` walks a grant) inside
    an organisation's address or other public detail: ``recipientOrganization[0].postalCode``,
    ``fundingOrganization[0].location[0].name``..."""
    return (
        len(keys) >= 3
        and keys[0] in ORGANISATIONS
        and isinstance(keys[1], int)
        and keys[2] in ORGANISATION_DETAILS
    )


def is_contract_leaf(keys: tuple) -> bool:
    """True for a leaf whose value lands as it is in a contract column (screened with its
    column), or the key naming it. Beneficiary locations are not: a code that is not GSS is
    dropped, so it is screened with the fields outside the contract."""
    if keys[-1:] == (None,):
        keys = keys[:-1]
    for path in GRANT_PATHS.values():
        if len(path) == 1 and keys == path:
            return True
        if len(path) == 2 and path[0] != ALL_ITEMS and keys == (path[0], 0, path[1]):
            return True
    return False


def _items(value: Any) -> list[dict[str, Any]]:
    """A list field's objects (a single object, as some publishers give, counts as one)."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def _gss(value: Any) -> str | None:
    text = str(value).strip().upper() if value is not None else ""
    return text if GSS.match(text) else None


def grant_to_row(grant: dict[str, Any]) -> dict[str, Any]:
    """Flatten one 360Giving grant (see the module notes for lists)."""
    row: dict[str, Any] = {}
    for column, path in GRANT_PATHS.items():
        if len(path) == 1:
            row[column] = grant.get(path[0])
            continue
        items = _items(grant.get(path[0]))
        if path[0] == ALL_ITEMS:
            codes = [_gss(item.get(path[1])) for item in items]
            found = list(dict.fromkeys(code for code in codes if code))
            row[column] = CODE_SEPARATOR.join(found) or None
            row[LOCATIONS_WITHOUT_CODE] = sum(code is None for code in codes) if items else None
        else:
            row[column] = items[0].get(path[1]) if items else None
    return row


def row_to_grant(row: dict[str, Any]) -> dict[str, Any]:
    """Nest one flat funding row as a 360Giving grant (the inverse of ``grant_to_row``); the
    beneficiary locations' names come from ``row["beneficiary_area_names"]`` when given."""
    grant: dict[str, Any] = {}
    for column, path in GRANT_PATHS.items():
        value = row.get(column)
        if value is None:
            continue
        if len(path) == 1:
            grant[path[0]] = value
        elif path[0] == ALL_ITEMS:
            names = row.get("beneficiary_area_names") or []
            grant[path[0]] = [
                {"geoCode": code, **({"name": names[i]} if i < len(names) else {})}
                for i, code in enumerate(str(value).split(CODE_SEPARATOR))
            ]
        else:
            items = grant.setdefault(path[0], [{}])
            items[0][path[1]] = value
    return grant

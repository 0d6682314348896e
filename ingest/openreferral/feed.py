"""Open Referral directories as their APIs return them, read into provider and activity rows.

A directory is read from any mix of:

* ``/services`` list pages: ORUK v1 (``content``, ``totalElements``, ``number``) or HSDS 3.x
  (``contents``, ``total_items``, ``page_number``); ``items`` is accepted too. Services here
  come with their organisation and often without locations or schedules;
* full service records (``/services/{id}``): one object, or a JSON array of them, with
  ``service_at_locations`` (locations with coordinates), ``regular_schedules`` (ORUK v1) or
  ``schedules`` (HSDS 3.x), taxonomy terms (``service_taxonomys`` in ORUK v1, ``attributes``
  with ``taxonomy_term`` in HSDS 3.x), ``cost_options`` and, in HSDS 3.1, ``capacities``.

A service listed on a page and given as a full record is one service: the full record's
fields win. What is kept: the organisation's id, name, identifiers (HSDS
``organization_identifiers``; ORUK charity and company numbers), its kind and whether it is
volunteer-led, where its legal status says so; the
service's id, name, taxonomy terms, venue (as an LSOA, from its coordinates), sessions a week
(``schedule``), places (HSDS 3.1 capacity in places or people; otherwise unknown, never 0),
lowest cost, status and last update. Everything kept passes the privacy screen when it is
loaded (``ingest.load``), as every file does. Everything else is dropped unkept, never
stored: descriptions, addresses and postcodes of venues, phone numbers, emails, web
addresses and, above all, ``contacts`` (named staff: personal data, like a workbook's author
fields).
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ingest.contracts.sources import DIRECTORY_ID, GIVING_ORG_ID, LAD_CODE, TOKEN
from ingest.errors import InputError
from ingest.openreferral.places import LsoaLocator
from ingest.openreferral.schedule import running_dates, sessions_per_week
from ingest.read import is_repeated_keys, parse_json_file

LIST_KEYS = ("content", "contents", "items")
# Units of HSDS capacity that count people: places, seats, beds and the like.
PEOPLE_UNITS = re.compile(
    r"\b(places?|people|persons?|participants?|attendees?|seats?|spaces?|beds?|spots?|"
    r"individuals?|users?|learners?|clients?|children|adults?|members?)\b",
    re.IGNORECASE,
)
VOLUNTEER_LED = re.compile(
    r"volunteer[- ]led|run (wholly |entirely )?by volunteers|no paid staff", re.IGNORECASE
)
PAID_STAFF = re.compile(r"\bpaid staff", re.IGNORECASE)
ENDED_STATUSES = ("inactive", "defunct", "closed", "withdrawn")
# org-id.guide register prefixes of identifiers directories publish
REGISTER_SCHEMES = {
    "GB-CHC": "charity_number",
    "GB-SC": "charity_number",
    "GB-NIC": "charity_number",
    "GB-COH": "company_number",
}
PROVIDER_TYPE_WORDS = (
    (re.compile(r"community interest|\bcic\b", re.I), "community_interest_company"),
    (re.compile(r"social enterprise", re.I), "social_enterprise"),
    (re.compile(r"charit|\bcio\b", re.I), "registered_charity"),
    (re.compile(r"church|mosque|temple|synagogue|gurdwara|faith", re.I), "faith_group"),
    (re.compile(r"council|local authority", re.I), "local_authority"),
    (re.compile(r"community group|unincorporated|voluntary group|club", re.I), "community_group"),
)


@dataclass
class Directory:
    """What was read: one row per organisation and per service, in contract columns."""

    providers: list[dict[str, Any]] = field(default_factory=list)
    activities: list[dict[str, Any]] = field(default_factory=list)
    services_read: int = 0
    pages_read: int = 0
    records_read: int = 0


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None


def as_token(value: Any, directory_id: str) -> str | None:
    """A directory's id as a warehouse token: as published when it is one, else prefixed
    with the directory's name (a bare number never passes as a token)."""
    text = _text(value)
    if text is None:
        return None
    if re.match(TOKEN, text):
        return text
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")
    candidate = f"{directory_id}-{cleaned}"[:64]
    return candidate if cleaned and re.match(TOKEN, candidate) else text


def _where(path: Path, service_id: Any) -> str:
    return f"service {service_id!s}" if service_id is not None else "a service"


def _services_of(document: Any, path: Path) -> tuple[list[Any], bool]:
    """The services in one file and whether it is a list page."""
    if isinstance(document, dict):
        for key in LIST_KEYS:
            if key in document:
                services = document[key]
                if not isinstance(services, list):
                    raise InputError(f'"{key}" must be a list of services', path=path)
                return services, True
        if "id" in document:
            return [document], False
        raise InputError(
            "not an Open Referral services page or service record: expected a list page "
            '({"content": [...]} or {"contents": [...]}) or a service with an "id"',
            path=path,
        )
    if isinstance(document, list):
        return document, False
    raise InputError("expected a JSON object or array of Open Referral services", path=path)


def read_services(paths: Iterable[Path]) -> tuple[dict[str, dict[str, Any]], int, int]:
    """Every service of the files by id (a full record's fields over a list entry's), and how
    many list pages and full records were read."""
    services: dict[str, dict[str, Any]] = {}
    pages = records = 0
    for path in paths:
        path = Path(path)
        if not path.is_file():
            raise InputError("file not found", path=path)
        if path.suffix.lower() != ".json":
            raise InputError("an Open Referral feed is JSON (.json)", path=path)
        document = parse_json_file(path)
        if is_repeated_keys(document):
            raise InputError("the top-level object repeats a key", path=path)
        items, is_page = _services_of(document, path)
        for index, service in enumerate(items, start=1):
            if not isinstance(service, dict):
                raise InputError("a service must be a JSON object", path=path, row=index)
            service_id = _text(service.get("id"))
            if is_repeated_keys(service):
                raise InputError(f"{_where(path, service_id)} repeats a key", path=path, row=index)
            if service_id is None:
                raise InputError("a service has no id", path=path, row=index, column="id")
            if is_page:
                merged = {**service, **services.get(service_id, {})}
            else:
                merged = {**services.get(service_id, {}), **service}
            merged["_file"] = path
            services[service_id] = merged
        if is_page:
            pages += 1
        else:
            records += len(items)
    return services, pages, records


def _list(service: dict[str, Any], key: str, path: Path) -> list[dict[str, Any]]:
    """A list of objects of the service, or [] when absent; anything else is refused."""
    value = service.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise InputError(
            f"{_where(path, service.get('id'))}: {key!r} must be a list of objects",
            path=path,
            column=key,
        )
    return value


def _company_number(value: str) -> str:
    """A Companies House number as registered: 8 characters, leading zeros often dropped."""
    value = value.replace(" ", "").upper()
    return value.zfill(8) if value.isdigit() else value


def _organisation_identifiers(organisation: dict[str, Any]) -> dict[str, str]:
    """org_id, charity_number and company_number from what the organisation publishes."""
    found: dict[str, str] = {}
    own_id = _text(organisation.get("id"))
    if own_id and re.match(GIVING_ORG_ID, own_id):
        found["org_id"] = own_id
    identifiers = organisation.get("organization_identifiers") or []
    if isinstance(identifiers, list):
        for item in identifiers:
            if not isinstance(item, dict):
                continue
            scheme = (_text(item.get("identifier_scheme")) or "").upper()
            value = _text(item.get("identifier"))
            if not value:
                continue
            value = value.replace(" ", "").upper()
            if value.startswith(scheme + "-"):
                value = value[len(scheme) + 1 :]
            column = REGISTER_SCHEMES.get(scheme)
            if column == "company_number":
                value = _company_number(value)
            if column:
                found.setdefault(column, value)
                found.setdefault("org_id", f"{scheme}-{value}")
    for key in ("charity_number", "charityNumber", "registered_charity_number"):
        value = _text(organisation.get(key))
        if value:
            found.setdefault("charity_number", value.replace(" ", "").upper())
            found.setdefault("org_id", f"GB-CHC-{found['charity_number']}")
    for key in ("company_number", "companies_house_number", "companyNumber"):
        value = _text(organisation.get(key))
        if value:
            found.setdefault("company_number", _company_number(value))
            found.setdefault("org_id", f"GB-COH-{found['company_number']}")
    if "org_id" in found and not re.match(GIVING_ORG_ID, found["org_id"]):
        del found["org_id"]  # a number in no form org-id.guide knows: kept as a number only
    return found


def _status_words(organisation: dict[str, Any]) -> str:
    """What the organisation says of its legal and tax status."""
    return " ".join(
        text
        for text in (
            _text(organisation.get("legal_status")),
            _text(organisation.get("tax_status")),
        )
        if text
    )


def _volunteer_led(organisation: dict[str, Any]) -> bool | None:
    """True or False where its status says so ("volunteer-led", "no paid staff" / "paid
    staff"); otherwise unknown."""
    words = _status_words(organisation)
    if VOLUNTEER_LED.search(words):
        return True
    if PAID_STAFF.search(words):
        return False
    return None


def _provider_type(organisation: dict[str, Any]) -> str | None:
    words = _status_words(organisation)
    for pattern, provider_type in PROVIDER_TYPE_WORDS:
        if pattern.search(words):
            return provider_type
    return None


def _taxonomy_terms(service: dict[str, Any], path: Path) -> list[str]:
    terms: list[str] = []
    for item in _list(service, "service_taxonomys", path):  # ORUK v1
        taxonomy = item.get("taxonomy")
        if isinstance(taxonomy, dict) and _text(taxonomy.get("name")):
            terms.append(_text(taxonomy.get("name")) or "")
    for item in _list(service, "attributes", path):  # HSDS 3.x
        term = item.get("taxonomy_term")
        if isinstance(term, dict) and _text(term.get("name")):
            terms.append(_text(term.get("name")) or "")
    for key in ("taxonomies", "taxonomy_terms"):  # ORUK-style APIs, flattened exports
        for item in _list(service, key, path):
            if _text(item.get("name")):
                terms.append(_text(item.get("name")) or "")
    unique: list[str] = []
    for term in terms:
        term = term.replace(";", ",")
        if term not in unique:
            unique.append(term)
    return unique


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = _text(value)
    if text is None:
        return None
    try:
        return float(text.replace("£", "").replace(",", ""))
    except ValueError:
        return None


def _capacity(service: dict[str, Any], path: Path) -> tuple[int | None, str | None]:
    """Places from HSDS 3.1 capacity (maximum, else available) in a unit that counts
    people; (None, unit) when the unit counts something else; (None, None) when absent."""
    items: list[dict[str, Any]] = []
    for key in ("capacities", "service_capacity", "service_capacities"):
        value = service.get(key)
        if isinstance(value, dict):
            items.append(value)
        elif value is not None:
            items += _list(service, key, path)
    for item in items:
        unit = item.get("unit")
        unit_name = _text(unit.get("name")) if isinstance(unit, dict) else _text(unit)
        places = _number(item.get("maximum"))
        if places is None:
            places = _number(item.get("available"))
        if unit_name is not None and not PEOPLE_UNITS.search(unit_name):
            return None, unit_name
        if places is not None and places >= 0:
            return int(round(places)), unit_name or "places"
    return None, None


def _cost(service: dict[str, Any], path: Path) -> float | None:
    amounts = []
    for option in _list(service, "cost_options", path):
        currency = (_text(option.get("currency")) or "GBP").upper()
        amount = _number(option.get("amount"))
        if amount is not None and currency == "GBP":
            amounts.append(amount)
    if amounts:
        return min(amounts)
    for key in ("fees", "fees_description"):
        text = _text(service.get(key))
        if text and re.match(r"^\s*free\b", text, re.IGNORECASE):
            return 0.0
    return None


def _schedules(service: dict[str, Any], path: Path) -> list[dict[str, Any]]:
    schedules = _list(service, "regular_schedules", path) + _list(service, "schedules", path)
    for at_location in _list(service, "service_at_locations", path):
        for key in ("regular_schedules", "schedules"):
            value = at_location.get(key)
            if isinstance(value, list):
                schedules += [item for item in value if isinstance(item, dict)]
    return schedules


def _locations(service: dict[str, Any], path: Path) -> list[dict[str, Any]]:
    """The service's locations: under ``service_at_locations`` (ORUK, HSDS) or directly as
    ``locations`` (some ORUK-style APIs)."""
    found = []
    for at_location in _list(service, "service_at_locations", path):
        location = at_location.get("location")
        if isinstance(location, dict):
            found.append(location)
    return found + _list(service, "locations", path)


def _coordinates(service: dict[str, Any], path: Path) -> Iterator[tuple[float, float]]:
    """(longitude, latitude) of each of the service's locations that has plausible ones:
    ``latitude``/``longitude``, else a GeoJSON Point ``geometry``; (0, 0) and values out of
    range are no coordinates."""
    for location in _locations(service, path):
        latitude = _number(location.get("latitude"))
        longitude = _number(location.get("longitude"))
        geometry = location.get("geometry")
        if (latitude is None or longitude is None) and isinstance(geometry, dict):
            point = geometry.get("coordinates")
            if geometry.get("type") == "Point" and isinstance(point, list) and len(point) >= 2:
                longitude, latitude = _number(point[0]), _number(point[1])
        if latitude is None or longitude is None:
            continue
        if latitude == 0 and longitude == 0:
            continue  # "Null Island": how feeds mark an online or nationwide service
        if -90 <= latitude <= 90 and -180 <= longitude <= 180:
            yield longitude, latitude


def _base_lsoa(organisation: dict[str, Any], path: Path, locator: LsoaLocator) -> str | None:
    """Where the organisation is based: the LSOA of its first location (HSDS
    ``organization.locations``) with coordinates in the geography."""
    for longitude, latitude in _coordinates(organisation, path):
        lsoa = locator.lsoa_at(longitude, latitude)
        if lsoa is not None:
            return lsoa
    return None


def _date(value: Any) -> str | None:
    text = _text(value)
    if text is None or not re.match(r"^\d{4}-\d{2}-\d{2}", text):
        return None
    return text[:10]


def read_directory(
    paths: Iterable[Path],
    *,
    directory_id: str,
    local_authority: str | None,
    locator: LsoaLocator,
    today: date | None = None,
) -> Directory:
    """Provider and activity rows (contract columns) of one directory's pages and records.

    Raises InputError naming the file, and where it can the service and field, for what
    cannot be read at all; a value that can be read but breaks a contract rule is left for
    the loader to set aside, with its reason, row by row.
    """
    if not re.match(DIRECTORY_ID, directory_id):
        raise InputError(
            f"a directory name is letters, digits, '.', '_' or '-' (up to 64), not {directory_id!r}"
        )
    if local_authority is not None and not re.match(LAD_CODE, local_authority):
        raise InputError(
            f"--local-authority must be a local authority code (E06/E07/E08/E09 and 6 "
            f"digits), not {local_authority!r}"
        )
    today = today or date.today()
    services, pages, records = read_services(paths)
    directory = Directory(services_read=len(services), pages_read=pages, records_read=records)
    providers: dict[str, dict[str, Any]] = {}
    for service_id, service in services.items():
        path: Path = service["_file"]
        organisation = service.get("organization", service.get("organisation"))
        if organisation is None and _text(service.get("organization_id")):
            # HSDS's flat form: only the organisation's id (its record is elsewhere)
            organisation = {"id": service.get("organization_id")}
        provider_id = None
        if isinstance(organisation, dict):
            provider_id = as_token(organisation.get("id"), directory_id)
            if provider_id is not None and provider_id not in providers:
                providers[provider_id] = {
                    "directory_id": directory_id,
                    "provider_id": provider_id,
                    **_organisation_identifiers(organisation),
                    "provider_name": _text(organisation.get("name")),
                    "provider_type": _provider_type(organisation),
                    "base_lsoa_code": _base_lsoa(organisation, path, locator),
                    "is_volunteer_led": _volunteer_led(organisation),
                    "record_updated_date": _date(
                        organisation.get("last_modified") or organisation.get("updated_at")
                    ),
                }
        elif organisation is not None:
            raise InputError(
                f"{_where(path, service_id)}: 'organization' must be an object",
                path=path,
                column="organization",
            )

        venue_lsoa = None
        placement = "publisher_area"
        located = False
        for longitude, latitude in _coordinates(service, path):
            located = True
            venue_lsoa = locator.lsoa_at(longitude, latitude)
            if venue_lsoa is not None:
                break
        if located:
            # coordinates in no LSOA of the geography: a venue outside the ICB's area
            placement = "coordinates" if venue_lsoa is not None else "outside_area"
        places, unit = _capacity(service, path)
        updated = _date(service.get("last_modified") or service.get("updated_at"))
        status = (_text(service.get("status")) or "active").lower()
        schedules = _schedules(service, path)
        started, ended = running_dates(schedules)
        if ended is None and status in ENDED_STATUSES:
            # a service the directory marks ended: ended when the record last changed
            ended = date.fromisoformat(updated) if updated else today
        directory.activities.append(
            {
                "directory_id": directory_id,
                "activity_id": as_token(service_id, directory_id),
                "provider_id": provider_id,
                "activity_name": _text(service.get("name")),
                "category": None,
                "taxonomy_terms": ";".join(_taxonomy_terms(service, path)) or None,
                "venue_lsoa_code": venue_lsoa,
                "venue_lad_code": (locator.lad_of(venue_lsoa) if venue_lsoa else None)
                or (local_authority if not located else None),
                "venue_placement": placement,
                "sessions_per_week": sessions_per_week(schedules, today),
                "places_per_session": places,
                "capacity_unit": unit,
                "start_date": started.isoformat() if started else None,
                "end_date": ended.isoformat() if ended else None,
                "cost_to_attend_gbp": _cost(service, path),
                "record_updated_date": updated,
            }
        )
    directory.providers = list(providers.values())
    return directory

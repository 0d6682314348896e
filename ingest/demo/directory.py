"""The demo's community directories, written as councils publish them: Open Referral JSON.

Each fictional local authority publishes its own directory (``directories/<LA code>/``):
``/services`` list pages (``services-page-N.json``: services with their organisation, no
locations, as an API's list endpoint returns them) and, for each page, the full records of
its services (``records-page-N.json``, a JSON array of ``/services/{id}`` responses: venue
coordinates, iCal-style schedules, HSDS 3.1 capacity in places, cost options, taxonomy
terms, the organisation's identifiers and its base). ``publisher.json`` names the local
authority, which the loader uses for services without a location. As real feeds do, some
services come without places (unknown capacity) and some without a location (online or by
telephone); ``demo_truth.json`` lists them.

The venues' coordinates fall in the fictional LSOA polygons written beside them
(``lsoa_boundaries.geojson``): one square cell per LSOA on a grid in the North Sea, so no
real place is implied, under codes no real area uses. Category reaches the warehouse only
through the taxonomy terms (mapped back by the dbt seed activity_taxonomy_categories).
"""

import json
import math
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from ingest.contracts.sources import ACTIVITY_CATEGORIES
from ingest.demo.common import from_days
from ingest.openreferral.load import DIRECTORIES_FOLDER, PUBLISHER_FILE
from ingest.openreferral.load import FOLDER_BOUNDARIES as BOUNDARIES_FILE

PAGE_SIZE = 100
# the fictional grid: south-west corner and cell size, in degrees
GRID_ORIGIN = (2.0, 54.0)
CELL_DEGREES = 0.01
# taxonomy term each category is published under (each maps back through the seed)
TAXONOMY_TERMS = {
    "arts_culture_heritage": "Arts and crafts",
    "physical_activity": "Walking and exercise",
    "nature_green": "Gardening and nature",
    "advice_information": "Debt and benefits advice",
    "social_connection": "Befriending and lunch clubs",
    "peer_support": "Peer support",
    "food": "Community meals",
    "learning_volunteering": "Volunteering",
    "other": "Other activities",
}
LEGAL_STATUS = {
    "registered_charity": "Registered charity",
    "community_group": "Community group",
    "social_enterprise": "Social enterprise",
    "community_interest_company": "Community interest company",
    "faith_group": "Faith group",
    "local_authority": "Local authority",
    "other": "Other",
}
SCHEDULE_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
IDENTIFIER_SCHEMES = {"GB-CHC-": "GB-CHC", "GB-COH-": "GB-COH"}


def _grid(n: int) -> int:
    return max(1, math.ceil(math.sqrt(n)))


def lsoa_corner(index: int, n_lsoas: int) -> tuple[float, float]:
    """South-west corner (longitude, latitude) of the cell of LSOA ``index``."""
    columns = _grid(n_lsoas)
    row, column = divmod(int(index), columns)
    return GRID_ORIGIN[0] + column * CELL_DEGREES, GRID_ORIGIN[1] + row * CELL_DEGREES


def write_boundaries(lsoa_codes: np.ndarray, lsoa_names: np.ndarray, path: Path) -> None:
    """The fictional LSOAs as a GeoJSON FeatureCollection of square cells."""
    n = len(lsoa_codes)
    features = []
    for index in range(n):
        west, south = lsoa_corner(index, n)
        east, north = west + CELL_DEGREES, south + CELL_DEGREES
        ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "lsoa21_code": str(lsoa_codes[index]),
                    "lsoa21_name": str(lsoa_names[index]),
                },
                "geometry": {"type": "Polygon", "coordinates": [[_round(p) for p in ring]]},
            }
        )
    document = {
        "type": "FeatureCollection",
        "name": "fictional LSOA polygons of the icb-insight demo (no real area: a grid in the "
        "North Sea under codes no real LSOA uses)",
        "features": features,
    }
    path.write_text(json.dumps(document, separators=(",", ":")) + "\n", encoding="utf-8")


def _round(point: list[float]) -> list[float]:
    return [round(point[0], 6), round(point[1], 6)]


def _point(index: int, n_lsoas: int, rng: np.random.Generator) -> tuple[float, float]:
    west, south = lsoa_corner(index, n_lsoas)
    u, v = rng.uniform(0.15, 0.85, 2)
    return round(west + u * CELL_DEGREES, 6), round(south + v * CELL_DEGREES, 6)


def _schedule(service_id: str, spw: float, start: date, end: date | None) -> dict[str, Any]:
    """An iCal-style rule with ``spw`` occurrences a week: n weekdays weekly, or one day
    every 2 or 4 weeks."""
    if spw >= 1:
        days, interval = SCHEDULE_DAYS[: int(round(spw))], 1
    else:
        days, interval = SCHEDULE_DAYS[:1], int(round(1 / spw))
    schedule: dict[str, Any] = {
        "id": f"{service_id}-schedule",
        "freq": "WEEKLY",
        "interval": interval,
        "byday": ",".join(days),
        "valid_from": start.isoformat(),
        "dtstart": start.isoformat(),
        "opens_at": "10:00:00",
        "closes_at": "12:00:00",
    }
    if end is not None:
        schedule["valid_to"] = end.isoformat()
    return schedule


def _organisation(
    community: Any, provider: int, base: tuple[float, float] | None
) -> dict[str, Any]:
    provider_id = str(community.prov_id[provider])
    status = LEGAL_STATUS.get(str(community.prov_type[provider]), "Other")
    volunteer = int(community.prov_volunteer[provider])
    if volunteer >= 0:  # said in the status, as some directories do; else not said
        status += " (volunteer-led)" if volunteer else " (with paid staff)"
    organisation: dict[str, Any] = {
        "id": provider_id,
        "name": str(community.prov_name[provider]),
        "legal_status": status,
    }
    for prefix, scheme in IDENTIFIER_SCHEMES.items():
        if provider_id.startswith(prefix):
            organisation["organization_identifiers"] = [
                {
                    "id": f"{provider_id}-identifier",
                    "identifier_scheme": scheme,
                    "identifier": provider_id.removeprefix(prefix),
                }
            ]
    if base is not None:
        organisation["locations"] = [
            {
                "id": f"{provider_id}-base",
                "location_type": "physical",
                "latitude": base[1],
                "longitude": base[0],
            }
        ]
    return organisation


# shares of the activities outside the planted deprived MSOAs that their directory publishes
# without places (as ORUK v1 and HSDS 3.0 feeds do) and without a location (online or
# by telephone): the marts must count them as unknown, and place them in the council's area
SHARE_WITHOUT_CAPACITY = 0.08
SHARE_WITHOUT_LOCATION = 0.05


def unpublished(community: Any, seed: int) -> tuple[set[int], set[int]]:
    """Activities published without capacity, and without a location (indices): drawn
    among those open, not oversubscribed and outside the planted deprived MSOAs, so the
    planted patterns stay as planted."""
    rng = np.random.default_rng(seed + 8_123)
    eligible = (
        (community.act_end < 0)
        & ~community.act_oversubscribed.astype(bool)
        & ~np.isin(community.act_msoa, community.deprived_msoas)
    )
    candidates = np.flatnonzero(eligible)
    candidates = candidates[np.argsort(rng.random(len(candidates)), kind="stable")]
    # at least one of each where there are candidates, so every demo exercises both
    n_capacity = max(1, round(SHARE_WITHOUT_CAPACITY * len(candidates)))
    n_location = max(1, round(SHARE_WITHOUT_LOCATION * len(candidates)))
    no_capacity = candidates[:n_capacity]
    no_location = candidates[n_capacity : n_capacity + n_location]
    return set(no_capacity.tolist()), set(no_location.tolist())


def service_record(
    community: Any,
    places: Any,
    index: int,
    rng: np.random.Generator,
    as_of: date,
    *,
    capacity: bool = True,
    located: bool = True,
) -> dict[str, Any]:
    """The full ``/services/{id}`` record of activity ``index`` (without its capacity or
    its location when so published)."""
    n_lsoas = len(places.lsoa_code)
    service_id = str(community.act_id[index])
    provider = int(community.act_provider[index])
    longitude, latitude = _point(int(community.act_lsoa[index]), n_lsoas, rng)
    base = _point(int(community.prov_lsoa[provider]), n_lsoas, rng)
    start = from_days(int(community.act_start[index]))
    ended = int(community.act_end[index]) >= 0
    end = from_days(int(community.act_end[index])) if ended else None
    category = ACTIVITY_CATEGORIES[int(community.act_category[index])]
    record = {
        "id": service_id,
        "name": str(community.act_name[index]),
        "status": "inactive" if ended else "active",
        "last_modified": as_of.isoformat(),
        "organization": _organisation(community, provider, base),
        "service_at_locations": [
            {
                "id": f"{service_id}-at",
                "location": {
                    "id": f"{service_id}-venue",
                    "location_type": "physical",
                    "name": f"Venue in {places.lsoa_name[int(community.act_lsoa[index])]}",
                    "latitude": latitude,
                    "longitude": longitude,
                },
            }
        ],
        "schedules": [_schedule(service_id, float(community.act_spw[index]), start, end)],
        "capacities": [
            {
                "id": f"{service_id}-capacity",
                "unit": {"id": "places", "name": "places"},
                "available": int(community.act_places[index]),
                "maximum": int(community.act_places[index]),
            }
        ],
        "cost_options": [
            {
                "id": f"{service_id}-cost",
                "option": "Per session",
                "currency": "GBP",
                "amount": float(community.act_cost[index]),
            }
        ],
        "attributes": [
            {
                "id": f"{service_id}-type",
                "taxonomy_term": {
                    "id": f"demo-{category}",
                    "name": TAXONOMY_TERMS[category],
                    "taxonomy": "icb-insight demo activity types",
                },
            }
        ],
    }
    if not capacity:
        del record["capacities"]
    if not located:
        del record["service_at_locations"]
    return record


def _summary(record: dict[str, Any]) -> dict[str, Any]:
    """A service as a list page gives it: its own fields and its organisation, no more."""
    organisation = {
        key: value for key, value in record["organization"].items() if key != "locations"
    }
    kept = ("id", "name", "status", "last_modified")
    return {**{key: record[key] for key in kept}, "organization": organisation}


def write_directories(
    community: Any, places: Any, out_dir: Path, *, seed: int, as_of: date
) -> tuple[Path, dict[str, int], dict[str, list[str]]]:
    """One directory per local authority (the LA of each venue); the folder, the rows the
    directories hold for providers (an organisation once per directory it is in) and
    activities, and the activities published without capacity or location (for the truth
    file)."""
    rng = np.random.default_rng(seed + 8_117)
    no_capacity, no_location = unpublished(community, seed)
    root = Path(out_dir) / DIRECTORIES_FOLDER
    root.mkdir(parents=True, exist_ok=True)
    rows = {"providers": 0, "activities": 0}
    for la in np.unique(community.act_la):
        code = str(places.la_code[int(la)])
        folder = root / code
        folder.mkdir(exist_ok=True)
        (folder / PUBLISHER_FILE).write_text(
            json.dumps({"local_authority": code, "name": str(places.la_name[int(la)])}) + "\n",
            encoding="utf-8",
        )
        indices = np.flatnonzero(community.act_la == la)
        rows["activities"] += len(indices)
        rows["providers"] += len(np.unique(community.act_provider[indices]))
        pages = max(1, math.ceil(len(indices) / PAGE_SIZE))
        for page in range(pages):
            chunk = indices[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
            records = [
                service_record(
                    community,
                    places,
                    int(i),
                    rng,
                    as_of,
                    capacity=int(i) not in no_capacity,
                    located=int(i) not in no_location,
                )
                for i in chunk
            ]
            listing = {
                "total_items": int(len(indices)),
                "total_pages": pages,
                "page_number": page + 1,
                "size": PAGE_SIZE,
                "first_page": page == 0,
                "last_page": page == pages - 1,
                "empty": not records,
                "contents": [_summary(record) for record in records],
            }
            (folder / f"services-page-{page + 1}.json").write_text(
                json.dumps(listing, ensure_ascii=False) + "\n", encoding="utf-8"
            )
            (folder / f"records-page-{page + 1}.json").write_text(
                json.dumps(records, ensure_ascii=False) + "\n", encoding="utf-8"
            )
    write_boundaries(places.lsoa_code, places.lsoa_name, Path(out_dir) / BOUNDARIES_FILE)
    unknown = {
        "directory_activities_without_capacity": [
            str(community.act_id[index]) for index in sorted(no_capacity)
        ],
        "directory_activities_without_location": [
            str(community.act_id[index]) for index in sorted(no_location)
        ],
    }
    return root, rows, unknown

"""Venue LSOA from coordinates: which LSOA 2021 polygon a point falls in (shapely STRtree).

Only the LSOAs of the warehouse's geography are indexed, so a venue outside the ICB's area
gets no LSOA. The boundaries are a GeoJSON FeatureCollection of LSOA 2021 polygons
(``lsoa21_code`` or ``LSOA21CD`` property); the real ones are in the shared reference folder
(``boundaries_lsoa21_ew_bsc_geographr.geojson``), the demo writes fictional ones.
"""

import json
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import Point, shape
from shapely.strtree import STRtree

from ingest.errors import InputError

BOUNDARIES_ENV = "ICB_INSIGHT_LSOA_BOUNDARIES"
DEFAULT_BOUNDARIES = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "data"
    / "reference"
    / "boundaries_lsoa21_ew_bsc_geographr.geojson"
)
CODE_PROPERTIES = ("lsoa21_code", "LSOA21CD", "lsoa_code", "code")


def boundaries_path(given: Path | str | None = None) -> Path:
    """The LSOA boundaries file: given, else ``ICB_INSIGHT_LSOA_BOUNDARIES``, else the shared
    reference copy."""
    if given:
        return Path(given)
    from_env = os.environ.get(BOUNDARIES_ENV)
    return Path(from_env) if from_env else DEFAULT_BOUNDARIES


class LsoaLocator:
    """Point in polygon against the LSOAs of one geography."""

    def __init__(self, boundaries: Path, lad_by_lsoa: Mapping[str, str]) -> None:
        self.lad_by_lsoa = dict(lad_by_lsoa)
        self.codes: list[str] = []
        geometries = []
        if self.lad_by_lsoa:
            for code, geometry in _features(Path(boundaries), set(self.lad_by_lsoa)):
                self.codes.append(code)
                geometries.append(geometry)
        self.tree = STRtree(geometries)
        self.geometries = geometries

    def lsoa_at(self, longitude: float, latitude: float) -> str | None:
        """The LSOA (of the geography) whose polygon holds the point, else None."""
        if not self.codes:
            return None
        point = Point(longitude, latitude)
        hits = self.tree.query(point, predicate="intersects")
        if len(hits) == 0:
            return None
        return min(self.codes[int(index)] for index in hits)  # on a shared edge: the lower code

    def lad_of(self, lsoa_code: str) -> str | None:
        return self.lad_by_lsoa.get(lsoa_code)


def _features(path: Path, wanted: set[str]) -> list[tuple[str, shapely.Geometry]]:
    if not path.is_file():
        raise InputError(
            f"the LSOA 2021 boundaries file is not there (set {BOUNDARIES_ENV} to a GeoJSON "
            "of LSOA 2021 polygons)",
            path=path,
        )
    stat = path.stat()
    polygons = _polygons(path.resolve(), stat.st_mtime_ns, stat.st_size)
    found = []
    for code in sorted(wanted & polygons.keys()):
        number, geometry = polygons[code]
        try:
            found.append((code, shape(geometry)))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise InputError(
                f"feature {number} ({code}) has no readable polygon", path=path
            ) from None
    return found


@lru_cache(maxsize=2)
def _polygons(path: Path, mtime_ns: int, size: int) -> dict[str, tuple[int, Any]]:
    """Each LSOA's GeoJSON geometry (and feature number) in the file, parsed once per
    version of the file (the national file is large)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise InputError("the LSOA boundaries file is not readable GeoJSON", path=path) from None
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list):
        raise InputError("the LSOA boundaries file is not a GeoJSON FeatureCollection", path=path)
    polygons: dict[str, tuple[int, Any]] = {}
    for number, feature in enumerate(features, start=1):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(properties, dict):
            continue
        code = next((properties[key] for key in CODE_PROPERTIES if key in properties), None)
        if isinstance(code, str):
            polygons[code] = (number, feature.get("geometry"))
    return polygons

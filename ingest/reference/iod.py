"""The English Indices of Deprivation 'File 7' (all scores, ranks, deciles and population
denominators), read in its published layouts.

IoD2019 File 7 has 57 columns on 2011 LSOAs (IoD2019 technical report, annex on the published
files; the CSV on gov.uk). The folder of reference files here holds a 44-column reconstruction
of it (``iod2019_lsoa11_file7_subset_ASSEMBLED.csv``: no scores for five domains, IDACI,
IDAOPI and the six sub-domains). IoD2025 File 7 is on 2021 LSOAs; its reconstruction here has
46 columns (no IDACI/IDAOPI, no mid-2022 population denominators). ``read_file7`` accepts the
full layout and any subset that keeps the LSOA code and the IMD score, rank and decile, and
says which published columns a file lacks.

Headers are matched ignoring case, spaces, punctuation and four-digit years, and a header the
publisher cut short (IoD2025 writes "...10% of LSO") matches the column it begins.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ingest.errors import InputError
from ingest.reference.csv import read_text_csv

_WHERE = "(where 1 is most deprived)"
_DECILE = "(where 1 is most deprived 10% of LSOAs)"

# (key, published name) for every score/rank/decile block, in File 7 order.
_BLOCKS: tuple[tuple[str, str, str], ...] = (
    ("imd", "Index of Multiple Deprivation (IMD)", "Score"),
    ("income", "Income", "Score (rate)"),
    ("employment", "Employment", "Score (rate)"),
    ("education", "Education, Skills and Training", "Score"),
    ("health", "Health Deprivation and Disability", "Score"),
    ("crime", "Crime", "Score"),
    ("barriers", "Barriers to Housing and Services", "Score"),
    ("living_environment", "Living Environment", "Score"),
    ("idaci", "Income Deprivation Affecting Children Index (IDACI)", "Score (rate)"),
    ("idaopi", "Income Deprivation Affecting Older People (IDAOPI)", "Score (rate)"),
    ("children_young_people", "Children and Young People Sub-domain", "Score"),
    ("adult_skills", "Adult Skills Sub-domain", "Score"),
    ("geographical_barriers", "Geographical Barriers Sub-domain", "Score"),
    ("wider_barriers", "Wider Barriers Sub-domain", "Score"),
    ("indoors", "Indoors Sub-domain", "Score"),
    ("outdoors", "Outdoors Sub-domain", "Score"),
)
BLOCK_KEYS = tuple(key for key, _, _ in _BLOCKS)


@dataclass(frozen=True)
class Field:
    """One published File 7 column: canonical name, published header, polars type."""

    name: str
    header: str
    dtype: type[pl.DataType]


def _layout(edition: int) -> tuple[Field, ...]:
    lsoa_year, lad_year, pop_year = (2011, 2019, 2015) if edition == 2019 else (2021, 2024, 2022)
    fields = [
        Field("lsoa_code", f"LSOA code ({lsoa_year})", pl.String),
        Field("lsoa_name", f"LSOA name ({lsoa_year})", pl.String),
        Field("lad_code", f"Local Authority District code ({lad_year})", pl.String),
        Field("lad_name", f"Local Authority District name ({lad_year})", pl.String),
    ]
    for key, published, score in _BLOCKS:
        fields += [
            Field(f"{key}_score", f"{published} {score}", pl.Float64),
            Field(f"{key}_rank", f"{published} Rank {_WHERE}", pl.Int64),
            Field(f"{key}_decile", f"{published} Decile {_DECILE}", pl.Int64),
        ]
    mid = f"mid {pop_year} (excluding prisoners)"
    fields += [
        Field("population_total", f"Total population: {mid}", pl.Float64),
        Field("population_aged_0_15", f"Dependent Children aged 0-15: {mid}", pl.Float64),
        Field("population_aged_16_59", f"Population aged 16-59: {mid}", pl.Float64),
        Field("population_aged_60_plus", f"Older population aged 60 and over: {mid}", pl.Float64),
    ]
    if edition == 2019:
        # IoD2025's own reconstruction note lists four mid-2022 denominators; IoD2019 has a
        # fifth, the working-age denominator of the Employment domain.
        fields.append(
            Field(
                "population_working_age",
                "Working age population 18-59/64: for use with Employment Deprivation Domain "
                "(excluding prisoners)",
                pl.Float64,
            )
        )
    return tuple(fields)


LAYOUTS: dict[int, tuple[Field, ...]] = {2019: _layout(2019), 2025: _layout(2025)}
"""The published File 7 columns of each edition: 57 for IoD2019, 56 for IoD2025."""

LSOA_VINTAGE = {2019: 2011, 2025: 2021}
LSOAS_IN_ENGLAND = {2011: 32_844, 2021: 33_755}
REQUIRED = ("lsoa_code", "imd_score", "imd_rank", "imd_decile")

_YEAR = re.compile(r"(?:19|20)\d\d")


def _key(header: str) -> str:
    return _YEAR.sub("", re.sub(r"[^0-9a-z]", "", header.casefold()))


@dataclass(frozen=True)
class File7:
    """A File 7 read into canonical columns (every published column; absent ones null)."""

    frame: pl.DataFrame
    edition: int
    lsoa_vintage: int
    path: Path
    present: tuple[str, ...]
    missing: tuple[str, ...]  # published headers the file lacks
    extra: tuple[str, ...]  # headers the file has that File 7 does not

    def describe(self) -> str:
        published = len(LAYOUTS[self.edition])
        text = (
            f"{self.path.name}: IoD{self.edition} File 7 on {self.lsoa_vintage} LSOAs, "
            f"{len(self.present)} of the {published} published columns, {self.frame.height:,} "
            "LSOAs"
        )
        if self.missing:
            text += "; lacks: " + "; ".join(self.missing)
        if self.extra:
            text += "; not File 7 columns (ignored): " + "; ".join(self.extra)
        return text


def detect_edition(headers: list[str]) -> int:
    """2019 for a file on 2011 LSOAs, 2025 for 2021 LSOAs, from the LSOA code header."""
    for header in headers:
        folded = header.casefold()
        if "lsoa" in folded and "code" in folded:
            if "2011" in folded:
                return 2019
            if "2021" in folded:
                return 2025
    raise InputError("no 'LSOA code (2011)' or 'LSOA code (2021)' header: not an IoD File 7")


def match_layout(headers: list[str], edition: int) -> tuple[dict[str, str], list[str]]:
    """Published column name -> file header, and the file headers no column claims."""
    wanted = {_key(f.header): f.name for f in LAYOUTS[edition]}
    matched: dict[str, str] = {}
    extra: list[str] = []
    for header in headers:
        key = _key(header)
        name = wanted.get(key)
        if name is None and len(key) >= 40:  # a header cut short by the publisher
            starts = [n for k, n in wanted.items() if k.startswith(key)]
            name = starts[0] if len(starts) == 1 else None
        if name is None or name in matched:
            extra.append(header)
        else:
            matched[name] = header
    return matched, extra


def read_file7(path: Path, edition: int | None = None) -> File7:
    """Read an IoD File 7 CSV (full or a subset) into canonical columns."""
    path = Path(path)
    raw = read_text_csv(path)
    headers = raw.columns
    edition = edition or detect_edition(headers)
    if edition not in LAYOUTS:
        raise InputError(f"unknown IoD edition {edition}; known: 2019, 2025", path=path)
    matched, extra = match_layout(headers, edition)
    lacking = [name for name in REQUIRED if name not in matched]
    if lacking:
        raise InputError("not an IoD File 7: no column for " + ", ".join(lacking), path=path)
    columns = []
    for field in LAYOUTS[edition]:
        if field.name in matched:
            text = pl.col(matched[field.name]).str.strip_chars()
            expr = text.cast(field.dtype, strict=False) if field.dtype != pl.String else text
        else:
            expr = pl.lit(None, dtype=field.dtype)
        columns.append(expr.alias(field.name))
    frame = raw.select(columns).filter(pl.col("lsoa_code").is_not_null())
    bad = frame.filter(pl.col("imd_rank").is_null() | pl.col("imd_score").is_null())
    if bad.height:
        raise InputError(
            f"{bad.height:,} rows without a numeric IMD score or rank "
            f"(first LSOA {bad['lsoa_code'][0]})",
            path=path,
        )
    return File7(
        frame=frame,
        edition=edition,
        lsoa_vintage=LSOA_VINTAGE[edition],
        path=path,
        present=tuple(f.name for f in LAYOUTS[edition] if f.name in matched),
        missing=tuple(f.header for f in LAYOUTS[edition] if f.name not in matched),
        extra=tuple(extra),
    )


def decile_of_rank(rank: pl.Expr, lsoas: int) -> pl.Expr:
    """National decile from a rank the way the IoD cuts them: 1 is the most deprived tenth."""
    return ((rank * 10 / lsoas).ceil().clip(1, 10)).cast(pl.Int64)


def read_population_denominators(path: Path) -> pl.DataFrame:
    """IoD2019 File 6 (mid-2015 population denominators, 2011 LSOAs): lsoa_code plus the
    File 7 population columns (the same headers)."""
    path = Path(path)
    raw = read_text_csv(path)
    matched, _ = match_layout(raw.columns, detect_edition(raw.columns))
    if "lsoa_code" not in matched or "population_total" not in matched:
        raise InputError("not an IoD population denominators file", path=path)
    pop = [f for f in LAYOUTS[2019] if f.name.startswith("population_") and f.name in matched]
    return raw.select(
        pl.col(matched["lsoa_code"]).str.strip_chars().alias("lsoa_code"),
        *[pl.col(matched[f.name]).cast(pl.Float64, strict=False).alias(f.name) for f in pop],
    )

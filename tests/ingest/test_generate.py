"""The demo generator: deterministic, every file on contract, and the planted patterns there.

The contract checks are generic over ``CONTRACTS`` (columns, types, nulls, allowed values,
patterns, bounds, date order, primary and foreign keys), so a contract change is caught here.
"""

import json
import re
import zipfile
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from ingest.contracts import CONTRACTS, Contract
from ingest.contracts.giving360 import grant_to_row, row_to_grant
from ingest.demo.common import tokens
from ingest.demo.people import SWEMWBS_METRIC
from ingest.errors import InputError
from ingest.generate import DIRECTORY_SOURCES, SCALES, GenerateResult, default_as_of, generate
from ingest.identifiable import hits
from ingest.openreferral.feed import read_directory
from ingest.openreferral.load import DIRECTORIES_FOLDER, FOLDER_BOUNDARIES, directory_feeds
from ingest.openreferral.places import LsoaLocator

AS_OF = date(2026, 11, 22)  # a Sunday
PURPOSE_RULES = (
    Path(__file__).resolve().parents[2] / "dbt_project/seeds/grant_programme_purposes.csv"
)
SEED = 7
# Forward-looking dates: a grant's planned period and an activity "due to end".
FUTURE_ALLOWED = {
    ("provider_funding", "planned_start_date"),
    ("provider_funding", "planned_end_date"),
    ("activities", "end_date"),
}
TEN_DIGITS = re.compile(r"(?<!\d)\d{10}(?!\d)")
FICTIONAL_CODES = {
    ("geography", "lsoa_code"): r"^E019\d{5}$",
    ("geography", "msoa_code"): r"^E029\d{5}$",
    ("geography", "ward_code"): r"^E059\d{5}$",
    ("geography", "lad_code"): r"^E0[678]0009\d\d$",
    ("geography", "sub_icb_code"): r"^E3890(09|10)\d\d$",
    ("geography", "icb_code"): r"^E540009\d\d$",
    ("practices", "practice_code"): r"^Z9\d{4}$",
    ("practices", "pcn_code"): r"^U9\d{4}$",
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> GenerateResult:
    messages: list[str] = []
    result = generate(
        tmp_path_factory.mktemp("demo"),
        seed=SEED,
        scale="tiny",
        as_of=AS_OF,
        progress=messages.append,
    )
    assert len(messages) >= 5
    return result


def _read_directories(contract: Contract, folder: Path) -> pl.DataFrame:
    """The contract's rows as the loader reads them from the demo's Open Referral
    directories (venues placed in the demo's fictional LSOA polygons)."""
    sources = folder.parent
    geography = pl.read_csv(sources / "geography.csv", infer_schema=False)
    locator = LsoaLocator(
        sources / FOLDER_BOUNDARIES,
        dict(zip(geography["lsoa_code"], geography["lad_code"], strict=True)),
    )
    rows: dict[str, dict] = {}
    for feed in directory_feeds(sources):
        read = read_directory(
            feed.files,
            directory_id=feed.directory_id,
            local_authority=feed.local_authority,
            locator=locator,
            today=AS_OF,
        )
        key = contract.primary_key[0]
        for row in read.providers if contract.name == "providers" else read.activities:
            rows.setdefault(row[key], row)  # one organisation may be in several directories
    return pl.DataFrame(
        [{name: row.get(name) for name in contract.column_names} for row in rows.values()],
        schema={name: pl.String for name in contract.column_names},
    )


def _read(contract: Contract, path: Path) -> pl.DataFrame:
    """The file as written, under canonical column names (values not yet typed): the
    councils' Open Referral directories as the directory reader reads them, the funding
    folder's files as the loader reads them (the 360Giving mapping, flattentool for the flat
    forms)."""
    if path.is_dir() and contract.name in DIRECTORY_SOURCES:
        return _read_directories(contract, path)
    if path.is_dir():
        from ingest.read import read_source

        frames = [
            read_source(contract, file).drop("_row_number") for file in sorted(path.iterdir())
        ]
        return pl.concat(frames, how="vertical_relaxed")
    if contract.file_format == "csv":
        frame = pl.read_csv(path, infer_schema=False)
    elif contract.file_format == "xlsx":
        frame = pl.read_excel(path)
    else:
        package = json.loads(path.read_text(encoding="utf-8"))
        rows = [grant_to_row(grant) for grant in package["grants"]]
        frame = pl.DataFrame(rows, infer_schema_length=None)
    published = {c.aliases[0]: c.name for c in contract.columns if c.aliases}
    if contract.name == "deprivation":
        frame = frame.rename(published)
    return frame


def _typed(contract: Contract, frame: pl.DataFrame) -> pl.DataFrame:
    """Cast every column to its contract type; fails loudly on a value of the wrong type."""
    casts = []
    for column in contract.columns:
        expr = pl.col(column.name)
        text = frame.schema[column.name] == pl.String
        if column.dtype == "integer":
            expr = expr.cast(pl.Int64, strict=True)
        elif column.dtype == "float":
            expr = expr.cast(pl.Float64, strict=True)
        elif column.dtype == "date":
            expr = expr.str.to_date("%Y-%m-%d", strict=True) if text else expr.cast(pl.Date)
        elif column.dtype == "boolean":
            expr = (
                expr.replace_strict({"true": True, "false": False}, return_dtype=pl.Boolean)
                if text
                else expr.cast(pl.Boolean)
            )
        else:
            expr = expr.cast(pl.String)
        casts.append(expr)
    return frame.with_columns(casts)


@pytest.fixture(scope="module")
def tables(generated: GenerateResult) -> dict[str, pl.DataFrame]:
    return {
        name: _typed(contract, _read(contract, generated.files[name]))
        for name, contract in CONTRACTS.items()
    }


def test_every_contract_has_a_file_named_for_it(generated: GenerateResult) -> None:
    assert set(generated.files) == set(CONTRACTS)
    for name, contract in CONTRACTS.items():
        if name in DIRECTORY_SOURCES:  # published as the councils' Open Referral directories
            assert generated.files[name].name == DIRECTORIES_FOLDER
            assert (generated.files[name].parent / FOLDER_BOUNDARIES).is_file()
            continue
        if contract.replace_scope:  # one file per publisher, in a folder named for the source
            assert generated.files[name].name == name and generated.files[name].is_dir()
            continue
        assert generated.files[name].name == contract.file_name
        assert generated.files[name].is_file()
    assert generated.as_of == AS_OF
    assert all(generated.rows[name] > 0 for name in CONTRACTS)


def test_headers_are_the_contract_columns(generated: GenerateResult) -> None:
    for name, contract in CONTRACTS.items():
        if contract.file_format == "json" or name in DIRECTORY_SOURCES:
            continue
        header = _read_header(contract, generated.files[name])
        expected = [
            column.aliases[0] if name == "deprivation" else column.name
            for column in contract.columns
        ]
        assert header == expected, name


def _read_header(contract: Contract, path: Path) -> list[str]:
    if contract.file_format == "csv":
        return pl.read_csv(path, n_rows=1, infer_schema=False).columns
    return pl.read_excel(path).columns


@pytest.mark.parametrize("name", list(CONTRACTS))
def test_file_satisfies_its_contract(
    name: str, tables: dict[str, pl.DataFrame], generated: GenerateResult
) -> None:
    contract = CONTRACTS[name]
    frame = tables[name]
    assert frame.height == generated.rows[name]
    for column in contract.columns:
        values = frame[column.name]
        if not column.nullable:
            assert values.null_count() == 0, f"{name}.{column.name} has nulls"
        present = values.drop_nulls()
        if column.allowed:
            bad = set(present.unique().to_list()) - set(column.allowed)
            assert not bad, f"{name}.{column.name}: {bad}"
        if column.pattern:
            bad = present.filter(~present.str.contains(column.pattern))
            assert bad.is_empty(), f"{name}.{column.name}: {bad.head(3).to_list()}"
        if column.minimum is not None and present.len():
            assert present.min() >= column.minimum, f"{name}.{column.name} below minimum"
        if column.maximum is not None and present.len():
            assert present.max() <= column.maximum, f"{name}.{column.name} above maximum"
        if column.not_future:
            assert present.len() == 0 or present.max() <= AS_OF, f"{name}.{column.name}"
        if column.not_before:
            later = frame.filter(pl.col(column.name) < pl.col(column.not_before))
            assert later.is_empty(), f"{name}.{column.name} before {column.not_before}"
        if column.dtype == "string" and not column.nullable:
            assert (present.str.strip_chars() != "").all(), f"{name}.{column.name} blank"
    assert frame.select(contract.primary_key).is_duplicated().sum() == 0, "primary key"
    for key in contract.foreign_keys:
        target = tables[key.contract][key.target_column]
        missing = frame.filter(
            pl.col(key.column).is_not_null() & ~pl.col(key.column).is_in(target.implode())
        )
        assert missing.is_empty(), f"{name}.{key.column} not in {key.references}"


def test_no_date_after_as_of(tables: dict[str, pl.DataFrame]) -> None:
    for name, contract in CONTRACTS.items():
        for column in contract.columns:
            if column.dtype != "date" or (name, column.name) in FUTURE_ALLOWED:
                continue
            latest = tables[name][column.name].max()
            assert latest is None or latest <= AS_OF, f"{name}.{column.name}: {latest}"


def test_same_seed_same_bytes(generated: GenerateResult, tmp_path: Path) -> None:
    again = generate(tmp_path, seed=SEED, scale="tiny", as_of=AS_OF)
    first_dir = next(iter(generated.files.values())).parent

    def files(folder: Path) -> list[str]:
        return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())

    names = files(first_dir)
    assert names == files(tmp_path)
    for file_name in names:
        assert (first_dir / file_name).read_bytes() == (tmp_path / file_name).read_bytes(), (
            file_name
        )
    other = generate(tmp_path / "other", seed=SEED + 1, scale="tiny", as_of=AS_OF)
    assert other.files["referrals"].read_bytes() != again.files["referrals"].read_bytes()


def test_no_token_reads_as_a_date_of_birth() -> None:
    # a hex token spelling "23dec1913" was refused by the screen as a date of birth in text,
    # which refused a real ICB's demo referrals whole: no token spells a month's name
    ids = pl.Series(tokens(np.random.default_rng(7), 300_000).astype(str))
    assert not ids.str.contains("dec|feb").any()
    assert not hits("old_text", ids).any()
    assert ids.n_unique() == ids.len()
    # the check that made that refusal (so this test would fail without the fix)
    assert hits("old_text", pl.Series(["ae302b23dec1913f"])).all()


def test_no_ten_digit_number_anywhere(generated: GenerateResult) -> None:
    folder = next(iter(generated.files.values())).parent
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as archive:
                texts = [archive.read(info).decode("utf-8") for info in archive.infolist()]
            texts.append(pl.read_excel(path).write_csv())
        else:
            texts = [path.read_text(encoding="utf-8")]
        for text in texts:
            found = TEN_DIGITS.search(text)
            assert found is None, f"{path.name}: {found.group(0) if found else ''}"


def test_nothing_identifying_in_referrals(tables: dict[str, pl.DataFrame]) -> None:
    referrals = tables["referrals"]
    assert referrals["person_id"].str.contains(r"^[0-9a-f]{16}$").all()
    assert referrals["referral_id"].str.contains(r"^[0-9a-f]{16}$").all()
    reasons = referrals["referral_reason"].drop_nulls()
    assert 0 < reasons.len() < referrals.height  # some empty
    # short, lower-case generic text: no capitalised names, no digits (postcodes, dates)
    assert reasons.str.contains(r"^[a-z ,'-]{5,60}$").all()


def test_geography_is_fictional(tables: dict[str, pl.DataFrame]) -> None:
    for (name, column), pattern in FICTIONAL_CODES.items():
        assert tables[name][column].str.contains(pattern).all(), column
    geography = tables["geography"]
    assert geography["is_fictional"].all()
    assert (geography["icb_code"] == "E54000901").all()
    assert geography["icb_name"].str.contains("fictional").all()
    assert geography["lsoa_name"].str.contains(r"^.+ \d{3}[A-Z]$").all()
    assert 2 <= geography["sub_icb_code"].n_unique() <= 4
    assert 3 <= geography["lad_code"].n_unique() <= 5
    per_msoa = (
        geography.join(tables["population"], on="lsoa_code")
        .group_by("msoa_code")
        .agg(pl.len().alias("lsoas"), pl.col("population_total").sum())
    )
    assert per_msoa["lsoas"].is_between(5, 8).all()
    assert per_msoa["population_total"].is_between(5_000, 15_000).all()
    assert tables["population"]["population_total"].is_between(1_000, 3_000).all()


def test_readme_and_truth_are_written(generated: GenerateResult) -> None:
    folder = generated.files["referrals"].parent
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    assert "SYNTHETIC" in readme and "FICTIONAL" in readme
    truth = json.loads((folder / "demo_truth.json").read_text(encoding="utf-8"))
    assert truth == json.loads(json.dumps(generated.truth))
    assert truth["fictional"] is True
    assert truth["as_of"] == AS_OF.isoformat()
    for key in (
        "most_deprived_msoas",
        "least_deprived_msoas",
        "underserved_deprived_msoas",
        "well_served_deprived_msoas",
        "oversubscribed_activities",
        "pcns_over_caseload",
        "grants_ending_within_6_months",
        "la_codes",
    ):
        assert truth[key], key


def test_deprivation_is_consistent_and_clustered(tables: dict[str, pl.DataFrame]) -> None:
    deprivation = tables["deprivation"].sort("imd_rank")
    ranks = deprivation["imd_rank"]
    assert ranks.is_unique().all() and ranks.min() >= 1 and ranks.max() <= 33_755
    expected_decile = (ranks / 3375.5).ceil().cast(pl.Int64)
    assert (deprivation["imd_decile"] == expected_decile).all()
    assert (deprivation["imd_score"].diff().drop_nulls() <= 0).all()
    assert deprivation["imd_decile"].n_unique() >= 8
    for key in ("income", "employment"):
        assert deprivation.select(pl.corr(f"{key}_score", "imd_score")).item() > 0.7
    # neighbours alike: most of the variation in scores lies between MSOAs
    # (the geography's MSOA: the deprivation file's own optional msoa_code is left empty)
    scores = deprivation.select("lsoa_code", "imd_score").join(
        tables["geography"].select("lsoa_code", "msoa_code"), on="lsoa_code"
    )
    within = scores.group_by("msoa_code").agg(pl.col("imd_score").var()).mean().item(0, 1)
    assert within < 0.5 * scores["imd_score"].var()


def test_population_groups_add_up_to_each_lsoa(tables: dict[str, pl.DataFrame]) -> None:
    """Every LSOA has every group of the three characteristics, coded as the referrals file
    codes them, and each characteristic's groups add up to the LSOA's population (age bands
    from 65 to its population aged 65 and over)."""
    groups, population = tables["population_groups"], tables["population"]
    referrals = CONTRACTS["referrals"]
    for characteristic in ("age_band", "sex", "ethnic_group"):
        values = set(groups.filter(pl.col("characteristic") == characteristic)["group_value"])
        assert values <= set(referrals.column(characteristic).allowed or ())
        assert "unknown" not in values
    sums = groups.group_by("lsoa_code", "characteristic").agg(pl.col("population").sum())
    assert sums.height == 3 * population.height
    checked = sums.join(population, on="lsoa_code")
    assert (checked["population"] == checked["population_total"]).all()
    older = (
        groups.filter(pl.col("group_value").is_in(["65-74", "75-84", "85+"]))
        .group_by("lsoa_code")
        .agg(pl.col("population").sum())
        .join(population, on="lsoa_code")
    )
    assert (older["population"] == older["population_aged_65_plus"]).all()
    assert (
        groups["population_year"].unique().to_list()
        == population["population_year"].unique().to_list()
    )


def test_referral_rates_rise_with_deprivation(tables: dict[str, pl.DataFrame]) -> None:
    rates = (
        tables["deprivation"]
        .select("lsoa_code", "imd_decile")
        .join(tables["population"], on="lsoa_code")
        .join(tables["referrals"].group_by("lsoa_code").len(), on="lsoa_code", how="left")
        .with_columns(
            pl.col("len").fill_null(0),
            pl.when(pl.col("imd_decile") <= 2)
            .then(pl.lit("most"))
            .when(pl.col("imd_decile") >= 9)
            .then(pl.lit("least"))
            .alias("group"),
        )
        .filter(pl.col("group").is_not_null())
        .group_by("group")
        .agg((pl.col("len").sum() / pl.col("population_total").sum() * 1000).alias("rate"))
    )
    rate = dict(rates.iter_rows())
    assert rate["most"] > 1.5 * rate["least"]
    per_year = tables["referrals"].height / tables["population"]["population_total"].sum()
    assert 0.01 < per_year / SCALES["tiny"].years < 0.02


def test_referrals_follow_the_seasons(tables: dict[str, pl.DataFrame]) -> None:
    months = (
        tables["referrals"]
        .with_columns(pl.col("referral_date").dt.truncate("1mo").alias("month"))
        .group_by("month")
        .len()
        .filter(
            (pl.col("month") > pl.col("month").min()) & (pl.col("month") < pl.col("month").max())
        )  # whole months only
        .with_columns(pl.col("month").dt.month().alias("m"))
    )
    winter = months.filter(pl.col("m").is_in([11, 12, 1, 2]))["len"].mean()
    august = months.filter(pl.col("m") == 8)["len"].mean()
    assert winter > 1.1 * august


def test_supported_first_visits_convert(tables: dict[str, pl.DataFrame]) -> None:
    onward = tables["onward_referrals"]
    settled = onward.filter(pl.col("status").is_in(["attended", "did_not_attend"]))
    rate = dict(
        settled.group_by("supported_first_visit")
        .agg((pl.col("status") == "attended").mean())
        .iter_rows()
    )
    assert rate[True] > 0.8 and rate[False] < 0.5
    assert 0.2 < onward["supported_first_visit"].mean() < 0.4
    attended = onward["status"] == "attended"
    assert (onward["first_attended_date"].is_not_null() == attended).all()
    per_referral = onward.group_by("referral_id").len()["len"]
    assert per_referral.max() <= 3


def test_attendance_is_on_real_sessions(tables: dict[str, pl.DataFrame]) -> None:
    onward = tables["onward_referrals"].filter(pl.col("status") == "attended")
    sessions = tables["activity_sessions"]
    joined = onward.join(
        sessions,
        left_on=["activity_id", "first_attended_date"],
        right_on=["activity_id", "session_date"],
        how="left",
    )
    assert joined["places_available"].null_count() == 0
    assert (sessions["referred_attendees"] <= sessions["attendees"]).all()


def test_oversubscribed_activities_are_full(
    tables: dict[str, pl.DataFrame], generated: GenerateResult
) -> None:
    full = generated.truth["oversubscribed_activities"]
    sessions = tables["activity_sessions"].filter(pl.col("activity_id").is_in(full))
    assert (sessions["attendees"] >= sessions["places_available"]).all()
    onward = tables["onward_referrals"].with_columns(pl.col("activity_id").is_in(full).alias("f"))
    turned_away = dict(
        onward.group_by("f")
        .agg(pl.col("status").is_in(["waitlisted", "refused_no_capacity"]).mean())
        .iter_rows()
    )
    assert turned_away[True] > 0.4 and turned_away[False] == 0


def test_underserved_msoas_have_less_offer(
    tables: dict[str, pl.DataFrame], generated: GenerateResult
) -> None:
    activities = tables["activities"].filter(
        (pl.col("start_date") <= AS_OF)
        & (pl.col("end_date").is_null() | (pl.col("end_date") >= AS_OF))
    )
    geography = tables["geography"].join(tables["population"], on="lsoa_code")
    offer = (
        geography.group_by("msoa_code")
        .agg(pl.col("population_total").sum())
        .join(
            activities.join(geography, left_on="venue_lsoa_code", right_on="lsoa_code")
            .group_by("msoa_code")
            .agg((pl.col("places_per_session") * pl.col("sessions_per_week")).sum().alias("p")),
            on="msoa_code",
            how="left",
        )
        .with_columns((pl.col("p").fill_null(0) / pl.col("population_total") * 1000).alias("r"))
    )
    rate = dict(offer.select("msoa_code", "r").iter_rows())
    under = [rate[m] for m in generated.truth["underserved_deprived_msoas"]]
    well = [rate[m] for m in generated.truth["well_served_deprived_msoas"]]
    assert max(under) < min(well)
    assert sum(under) / len(under) < 0.25 * sum(well) / len(well)


def test_over_caseload_pcns_wait_longer(
    tables: dict[str, pl.DataFrame], generated: GenerateResult
) -> None:
    over = generated.truth["pcns_over_caseload"]
    waits = (
        tables["referrals"]
        .join(tables["practices"], on="practice_code")
        .with_columns(
            (pl.col("first_contact_date") - pl.col("referral_date")).dt.total_days().alias("wait"),
            pl.col("pcn_code").is_in(over).alias("over"),
        )
        .group_by("over")
        .agg(pl.col("wait").mean())
    )
    wait = dict(waits.iter_rows())
    assert wait[True] > 2 * wait[False]
    capacity = tables["link_worker_capacity"]
    assert capacity["link_worker_fte"].is_between(1, 6).all()
    latest = capacity.filter(pl.col("month_start_date") == pl.col("month_start_date").max())
    per_fte = latest.with_columns((pl.col("open_caseload") / pl.col("link_worker_fte")).alias("x"))
    assert per_fte.filter(pl.col("pcn_code").is_in(over))["x"].min() > 150
    assert per_fte.filter(~pl.col("pcn_code").is_in(over))["x"].max() < 150


def test_referral_records_hang_together(tables: dict[str, pl.DataFrame]) -> None:
    referrals = tables["referrals"]
    declined = referrals["outcome"] == "declined"
    assert ((referrals["snomed_code"] == "871711000000103") == declined).all()
    closed = referrals["outcome"] != "in_progress"
    assert (referrals["discharge_date"].is_not_null() == closed).all()
    table = set(SWEMWBS_METRIC.round(2).tolist())
    for column in ("wellbeing_baseline_swemwbs", "wellbeing_followup_swemwbs"):
        assert set(referrals[column].drop_nulls().to_list()) <= table
    both = referrals.drop_nulls(["wellbeing_baseline_swemwbs", "wellbeing_followup_swemwbs"])
    change = (both["wellbeing_followup_swemwbs"] - both["wellbeing_baseline_swemwbs"]).mean()
    assert 1.0 < change < 3.0
    assert referrals["referral_source"].value_counts(sort=True)["referral_source"][0] == "gp"


def _purpose(title: str | None) -> str:
    """A programme title's purpose by the editable mapping's rules (lowest priority wins)."""
    rules = pl.read_csv(PURPOSE_RULES).sort("priority")
    for pattern, purpose in rules.select("pattern", "funding_purpose").iter_rows():
        if title and re.search(pattern, title, re.IGNORECASE):
            return purpose
    return "unknown"


def test_funding_is_published_as_real_funders_publish(
    generated: GenerateResult, tables: dict[str, pl.DataFrame]
) -> None:
    """Several funders, each in its own file and form; some grants borough-wide, some
    without planned dates, free-text programmes, recipients the directory does not list."""
    files = sorted(generated.files["provider_funding"].iterdir())
    assert {path.suffix for path in files} == {".json", ".csv", ".xlsx"}
    funding = tables["provider_funding"]
    assert funding["funding_org_id"].n_unique() == len(files)
    for path in files:
        if path.suffix == ".json":
            for grant in json.loads(path.read_text(encoding="utf-8"))["grants"]:
                assert row_to_grant(grant_to_row(grant)) == grant
    purposes = funding["grant_programme_title"].map_elements(_purpose, return_dtype=pl.String)
    share = dict(purposes.value_counts(normalize=True).iter_rows())
    assert share["project"] > 0.4 and share.get("social_prescribing_contract", 0) < 0.2
    assert 0 < share["unknown"] < 0.4  # some programmes no rule knows: a value, not a refusal
    providers = tables["providers"]["provider_id"]
    unlisted = funding.filter(~pl.col("recipient_org_id").is_in(providers.implode()))
    assert 0 < unlisted.height < 0.3 * funding.height
    geography = tables["geography"]
    codes = funding["beneficiary_area_codes"]
    borough = codes.is_in(geography["lad_code"].unique().implode())
    assert borough.sum() > 0 and codes.is_null().sum() > 0
    assert (
        codes.drop_nulls().is_in(
            pl.concat([geography["msoa_code"], geography["lad_code"]]).implode()
        )
    ).all()
    undated = funding["planned_end_date"].is_null()
    assert undated.sum() > 0 and funding["planned_duration_months"].drop_nulls().len() > 0
    ending = generated.truth["grants_ending_within_6_months"]
    soon = funding.filter(pl.col("grant_id").is_in(ending))
    assert soon.height == len(ending)
    assert (soon["planned_end_date"].drop_nulls() > AS_OF).all()


def test_unknown_scale_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        generate(tmp_path, scale="galaxy")


def test_scales_and_default_as_of() -> None:
    assert list(SCALES) == ["tiny", "small", "icb", "region", "england"]
    assert SCALES["england"].n_lsoas == 33_755
    assert SCALES["icb"].population == 1_500_000 and SCALES["icb"].years == 2
    assert default_as_of(date(2026, 11, 25)) == date(2026, 11, 22)
    assert default_as_of(date(2026, 11, 22)) == date(2026, 11, 22)
    assert default_as_of().weekday() == 6


def test_small_scale_is_bigger(tmp_path: Path, generated: GenerateResult) -> None:
    small = generate(tmp_path, seed=SEED, scale="small", as_of=AS_OF)
    assert small.rows["geography"] == SCALES["small"].n_lsoas
    assert small.rows["referrals"] > 2 * generated.rows["referrals"]


def test_directories_carry_the_planted_offer(
    tables: dict[str, pl.DataFrame], generated: GenerateResult
) -> None:
    """Read back from the Open Referral pages (venue from coordinates, sessions from the
    schedule, places from the capacity), the offer of the planted MSOAs is the one planted."""
    # the organisations' legal status says which are volunteer-led, as the generator made them
    volunteer = tables["providers"]["is_volunteer_led"]
    assert volunteer.drop_nulls().n_unique() == 2
    activities = tables["activities"]
    # as real feeds do, a few services come without places or without a location
    without_capacity = generated.truth["directory_activities_without_capacity"]
    without_location = generated.truth["directory_activities_without_location"]
    assert without_capacity and without_location
    unknown = activities.filter(pl.col("places_per_session").is_null())["activity_id"]
    assert sorted(unknown.to_list()) == sorted(without_capacity)
    placed = activities.filter(pl.col("venue_placement") == "publisher_area")
    assert sorted(placed["activity_id"].to_list()) == sorted(without_location)
    assert placed["venue_lsoa_code"].null_count() == placed.height
    assert placed["venue_lad_code"].is_in(generated.truth["la_codes"]).all()
    open_now = activities.filter(
        (pl.col("start_date") <= AS_OF)
        & (pl.col("end_date").is_null() | (pl.col("end_date") >= AS_OF))
    )
    geography = tables["geography"].join(tables["population"], on="lsoa_code")
    residents = geography.group_by("msoa_code").agg(pl.col("population_total").sum())
    offer = (
        open_now.join(geography, left_on="venue_lsoa_code", right_on="lsoa_code")
        .group_by("msoa_code")
        .agg((pl.col("sessions_per_week") * pl.col("places_per_session")).sum().alias("weekly"))
        .join(residents, on="msoa_code")
        .with_columns((1000 * pl.col("weekly") / pl.col("population_total")).alias("per_1000"))
    )
    per_1000 = dict(zip(offer["msoa_code"], offer["per_1000"], strict=True))
    for key in ("weekly_places_per_1000_underserved", "weekly_places_per_1000_well_served"):
        for msoa, planted in generated.truth[key].items():
            assert per_1000.get(msoa, 0.0) == pytest.approx(planted, abs=0.01), (key, msoa)


def test_a_flat_directory_file_left_by_an_earlier_run_is_removed(tmp_path: Path) -> None:
    """A fictional demo publishes its directory as Open Referral pages only: a providers or
    activities file left in the folder by an earlier run would be loaded instead."""
    (tmp_path / "providers.csv").write_text("provider_id\n")
    (tmp_path / "activities.xlsx").write_bytes(b"old")
    generate(tmp_path, seed=SEED, scale="tiny", as_of=AS_OF)
    assert not (tmp_path / "providers.csv").exists()
    assert not (tmp_path / "activities.xlsx").exists()
    assert (tmp_path / DIRECTORIES_FOLDER).is_dir()

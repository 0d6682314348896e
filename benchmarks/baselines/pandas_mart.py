"""The core monthly need-versus-capacity mart written the way an analyst would with pandas
alone, from the same source files the pipeline ingests (the generator's output folder):
referrals, referrals per 1,000, onward referrals, activities and weekly places (per 1,000),
funding and funding per head, and the population-weighted IMD score, by MSOA and month.

The rules are those of marts.fct_neighbourhood_need_capacity_monthly at neighbourhood_level
msoa with as_of_date unset (months from the first referral month to the latest referral
date; an activity counts in a month it ran on any day of; a grant is spread evenly per day
over its planned dates, or the period the warehouse takes for a grant published without
them). No validation, no audit, no tests: that is the point of comparison.

The councils' directories, published as Open Referral JSON, are taken as the loader read
them (the warehouse's raw providers and activities) when no flat directory files are in the
folder. The one XLSX source (activities, when flat) is read with fastexcel, the Rust
calamine reader that ``pandas.read_excel(engine="calamine")`` also wraps (pandas' own XLSX
engines, openpyxl and python-calamine, are not in the environment); every other step is
pandas.

    python -m benchmarks.baselines.pandas_mart SOURCE_DIR OUT.parquet
"""

import json
import sys
from pathlib import Path

import pandas as pd

COLUMNS = [
    "neighbourhood_code",
    "month_start_date",
    "population_total",
    "imd_score_pop_weighted",
    "referrals_count",
    "referrals_per_1000",
    "onward_referrals_count",
    "activities_active_count",
    "weekly_places",
    "weekly_places_per_1000",
    "funding_gbp",
    "funding_per_head_gbp",
]
KEYS = ["neighbourhood_code", "month_start_date"]


def _read_xlsx(path: Path) -> pd.DataFrame:
    import fastexcel

    return fastexcel.read_excel(str(path)).load_sheet(0).to_pandas()


def _read_grants(folder: Path) -> pd.DataFrame:
    """Every funder's file in the folder (360Giving JSON, or the flat CSV or XLSX with the
    standard's column titles, one row a grant), with the planned period resolved as the
    warehouse does: the published dates, else from the start (or the award date) the
    published duration or 12 months."""
    frames = []
    for path in sorted(folder.iterdir()):
        if path.suffix == ".json":
            grants = json.loads(path.read_text())["grants"]

            def first(grant: dict, key: str, field: str) -> object:
                return (grant.get(key) or [{}])[0].get(field)

            frame = pd.DataFrame(
                {
                    "provider_id": [first(g, "recipientOrganization", "id") for g in grants],
                    "amount_gbp": [float(g["amountAwarded"]) for g in grants],
                    "award": [g["awardDate"] for g in grants],
                    "start": [first(g, "plannedDates", "startDate") for g in grants],
                    "end": [first(g, "plannedDates", "endDate") for g in grants],
                    "months": [first(g, "plannedDates", "duration") for g in grants],
                }
            )
        else:
            flat = pd.read_csv(path, dtype=str) if path.suffix == ".csv" else _read_xlsx(path)
            flat = flat.astype(object).where(flat.notna(), None)
            titles = {
                "provider_id": "Recipient Org:Identifier",
                "amount_gbp": "Amount Awarded",
                "award": "Award Date",
                "start": "Planned Dates:Start Date",
                "end": "Planned Dates:End Date",
                "months": "Planned Dates:Duration (months)",
            }
            frame = pd.DataFrame(
                {name: flat[title] if title in flat else None for name, title in titles.items()}
            )
            frame["amount_gbp"] = frame["amount_gbp"].astype(float)
        frames.append(frame)
    grants = pd.concat(frames, ignore_index=True)
    for name in ("award", "start", "end"):
        grants[name] = pd.to_datetime(grants[name].astype(str).str[:10], errors="coerce")
    grants["start"] = grants["start"].fillna(grants["award"])
    months = pd.to_numeric(grants["months"], errors="coerce").fillna(12).astype(int)
    derived = [
        start + pd.DateOffset(months=int(n)) - pd.Timedelta(days=1)
        for start, n in zip(grants["start"], months, strict=True)
    ]
    grants["end"] = grants["end"].fillna(pd.Series(derived, index=grants.index))
    return grants[["provider_id", "amount_gbp", "start", "end"]]


def _read_directory(src: Path, db: Path | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Providers and activities: the flat files when the sources hold them; else (the
    councils' directories published as Open Referral JSON, whose venues are placed by
    point-in-polygon) the rows the loader read from them, from the warehouse's raw tables.
    Reading and placing the directories is then not in the pandas timing."""
    if (src / "providers.csv").exists() or db is None:
        providers = pd.read_csv(src / "providers.csv", usecols=["provider_id", "base_lsoa_code"])
        return providers, _read_xlsx(src / "activities.xlsx")
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        providers = con.sql("select provider_id, base_lsoa_code from raw.providers").df()
        activities = con.sql(
            "select activity_id, provider_id, venue_lsoa_code, sessions_per_week, "
            "places_per_session, start_date, end_date from raw.activities"
        ).df()
    finally:
        con.close()
    return providers, activities


def build_mart(src: Path, db: Path | None = None) -> pd.DataFrame:
    src = Path(src)
    geography = pd.read_csv(src / "geography.csv", usecols=["lsoa_code", "msoa_code"])
    population = pd.read_csv(src / "population.csv", usecols=["lsoa_code", "population_total"])
    deprivation = pd.read_csv(src / "deprivation.csv")
    deprivation = deprivation.iloc[:, [0, 4]]
    deprivation.columns = ["lsoa_code", "imd_score"]
    referrals = pd.read_csv(
        src / "referrals.csv",
        usecols=["referral_id", "referral_date", "lsoa_code"],
        parse_dates=["referral_date"],
    )
    onward = pd.read_csv(
        src / "onward_referrals.csv",
        usecols=["referral_id", "onward_referral_date"],
        parse_dates=["onward_referral_date"],
    )
    providers, activities = _read_directory(src, db)
    grants = _read_grants(src / "provider_funding")

    # LSOAs with their MSOA, population and IMD score
    lsoas = geography.merge(population, on="lsoa_code", how="left").merge(
        deprivation, on="lsoa_code", how="left"
    )
    lsoas["population_total"] = lsoas["population_total"].fillna(0)
    lsoas["pop_x_imd"] = lsoas["population_total"] * lsoas["imd_score"]
    lsoas["pop_with_imd"] = lsoas["population_total"].where(lsoas["imd_score"].notna(), 0)
    neighbourhoods = lsoas.groupby("msoa_code", as_index=False).agg(
        population_total=("population_total", "sum"),
        pop_x_imd=("pop_x_imd", "sum"),
        pop_with_imd=("pop_with_imd", "sum"),
    )
    neighbourhoods["imd_score_pop_weighted"] = neighbourhoods["pop_x_imd"] / neighbourhoods[
        "pop_with_imd"
    ].replace(0, float("nan"))
    lsoa_msoa = lsoas[["lsoa_code", "msoa_code"]]

    # months from the first referral month to the latest referral date
    as_of = referrals["referral_date"].max()
    first_month = referrals["referral_date"].min().to_period("M").to_timestamp()
    months = pd.DataFrame({"month_start_date": pd.date_range(first_month, as_of, freq="MS")})
    months["period_end_date"] = (months["month_start_date"] + pd.offsets.MonthEnd(0)).clip(
        upper=as_of
    )

    # referrals and onward referrals, placed where the person lives
    referrals = referrals.merge(lsoa_msoa, on="lsoa_code", how="inner")
    referrals["month_start_date"] = referrals["referral_date"].dt.to_period("M").dt.to_timestamp()
    referrals_by_month = (
        referrals.groupby(["msoa_code", "month_start_date"]).size().rename("referrals_count")
    )
    onward = onward[
        (onward["onward_referral_date"] >= first_month) & (onward["onward_referral_date"] <= as_of)
    ]
    onward = onward.merge(referrals[["referral_id", "msoa_code"]], on="referral_id", how="inner")
    onward["month_start_date"] = onward["onward_referral_date"].dt.to_period("M").dt.to_timestamp()
    onward_by_month = (
        onward.groupby(["msoa_code", "month_start_date"]).size().rename("onward_referrals_count")
    )

    # activities running on any day of the month, placed at their venue
    activities = activities.merge(
        lsoa_msoa, left_on="venue_lsoa_code", right_on="lsoa_code", how="inner"
    )
    activities["start_date"] = pd.to_datetime(activities["start_date"])
    activities["end_date"] = pd.to_datetime(activities["end_date"])
    activities["weekly_places"] = activities["sessions_per_week"] * activities["places_per_session"]
    active = activities.merge(months, how="cross")
    active = active[
        # an activity published without a start date runs throughout, as in the pipeline
        (active["start_date"].isna() | (active["start_date"] <= active["period_end_date"]))
        & (active["end_date"].isna() | (active["end_date"] >= active["month_start_date"]))
    ]
    activities_by_month = active.groupby(["msoa_code", "month_start_date"]).agg(
        activities_active_count=("activity_id", "size"),
        weekly_places=("weekly_places", "sum"),
    )

    # grants spread per day over their planned dates, placed where the recipient is based
    grants = grants.merge(providers, on="provider_id", how="inner").merge(
        lsoa_msoa, left_on="base_lsoa_code", right_on="lsoa_code", how="inner"
    )
    grants["per_day"] = grants["amount_gbp"] / ((grants["end"] - grants["start"]).dt.days + 1)
    spread = grants.merge(months, how="cross")
    spread = spread[
        (spread["start"] <= spread["period_end_date"])
        & (spread["end"] >= spread["month_start_date"])
    ]
    days = (
        spread[["end", "period_end_date"]].min(axis=1)
        - spread[["start", "month_start_date"]].max(axis=1)
    ).dt.days + 1
    spread = spread.assign(funding_gbp=spread["per_day"] * days)
    funding_by_month = spread.groupby(["msoa_code", "month_start_date"])["funding_gbp"].sum()

    # every MSOA in every month
    mart = neighbourhoods[["msoa_code", "population_total", "imd_score_pop_weighted"]].merge(
        months[["month_start_date"]], how="cross"
    )
    mart = mart.set_index(["msoa_code", "month_start_date"])
    mart = mart.join(
        [referrals_by_month, onward_by_month, activities_by_month, funding_by_month]
    ).reset_index()
    counts = [
        "referrals_count",
        "onward_referrals_count",
        "activities_active_count",
        "weekly_places",
        "funding_gbp",
    ]
    mart[counts] = mart[counts].fillna(0)
    population = mart["population_total"].replace(0, float("nan"))
    mart["referrals_per_1000"] = 1000 * mart["referrals_count"] / population
    mart["weekly_places_per_1000"] = 1000 * mart["weekly_places"] / population
    mart["funding_per_head_gbp"] = mart["funding_gbp"] / population
    mart = mart.rename(columns={"msoa_code": "neighbourhood_code"})
    mart["month_start_date"] = mart["month_start_date"].dt.date
    return mart[COLUMNS].sort_values(KEYS).reset_index(drop=True)


if __name__ == "__main__":
    build_mart(Path(sys.argv[1])).to_parquet(sys.argv[2], index=False)

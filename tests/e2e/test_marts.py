"""The need-versus-capacity marts prove their numbers on a generated tiny ICB (fixture
`built`, tests/e2e/conftest.py): they find the patterns the generator planted, add up to the
ICB's totals, and keep those totals when the neighbourhood level is switched."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.settings import DBT_PROJECT_DIR, DUCKDB_PATH_ENV

# ICB totals that must not move whatever a neighbourhood is made of
ICB_TOTALS = {
    "population": "select sum(population_total) from marts.dim_neighbourhoods",
    "referrals": "select sum(referrals_count) from marts.fct_neighbourhood_need_capacity_monthly",
    "onward referrals": (
        "select sum(onward_referrals_count) from marts.fct_neighbourhood_need_capacity_monthly"
    ),
    "weekly places, latest month": """
        select sum(weekly_places) from marts.fct_neighbourhood_need_capacity_monthly
        where month_start_date = (
            select max(month_start_date) from marts.fct_neighbourhood_need_capacity_monthly
        )
    """,
    "funding": "select round(sum(funding_gbp), 4) "
    "from marts.fct_neighbourhood_need_capacity_monthly",
    "referrals, weekly": (
        "select sum(referrals_count) from marts.fct_neighbourhood_need_capacity_weekly"
    ),
    "referrals in the index window": """
        select sum(referrals_12m_count) from marts.fct_neighbourhood_need_capacity_index
        where is_latest_month
    """,
}
LEVEL_CODES = {"lsoa": "lsoa_code", "ward": "ward_code", "lad": "lad_code"}


def rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def totals(db: Path) -> dict[str, object]:
    return {name: rows(db, sql)[0][0] for name, sql in ICB_TOTALS.items()}


def test_planted_underserved_deprived_neighbourhoods_are_flagged(built: dict) -> None:
    """Every deprived MSOA planted with (almost) no community offer is flagged this month and
    ranks above every deprived MSOA planted well served, which none is flagged."""
    truth = built["truth"]
    latest = {
        code: (rank, flagged)
        for code, rank, flagged in rows(
            built["db"],
            "select neighbourhood_code, gap_rank, is_underfunded "
            "from marts.fct_neighbourhood_need_capacity_index where is_latest_month",
        )
    }
    underserved, well_served = (
        truth["underserved_deprived_msoas"],
        truth["well_served_deprived_msoas"],
    )
    assert underserved and well_served
    assert [code for code in underserved if not latest[code][1]] == []
    assert [code for code in well_served if latest[code][1]] == []
    assert max(latest[code][0] for code in underserved) < min(
        latest[code][0] for code in well_served
    )


def test_build_summary_names_the_widest_gaps_and_why(built: dict) -> None:
    from orchestration.summary import build_summary

    ((code, name),) = rows(
        built["db"],
        "select neighbourhood_code, neighbourhood_name "
        "from marts.fct_neighbourhood_need_capacity_index where is_latest_month and gap_rank = 1",
    )
    summary = build_summary(built["db"])
    top = next(line for line in summary.splitlines() if f" {code} " in line)
    assert name[:28] in top and "need: " in top and "capacity: " in top
    assert "_" not in top.split("need: ")[1]  # reasons in words, not column names


def test_index_components_explain_the_gap(built: dict) -> None:
    ((worst,),) = rows(
        built["db"],
        "select max(abs(gap_score - (need_index - capacity_index))) "
        "from marts.fct_neighbourhood_need_capacity_index",
    )
    assert worst < 1e-9
    ((months, ranks),) = rows(
        built["db"],
        "select count(distinct month_start_date), count(distinct gap_rank) "
        "from marts.fct_neighbourhood_need_capacity_index where is_latest_month",
    )
    ((neighbourhoods,),) = rows(built["db"], "select count(*) from marts.dim_neighbourhoods")
    assert months == 1 and ranks == neighbourhoods


def flagged_in_latest_period(db: Path, mart: str, key: str, flag: str, period: str) -> set:
    """Keys whose flag is set in the mart's latest period (latest complete one when the mart
    says which are complete)."""
    columns = {name for (name,) in rows(db, f"select name from pragma_table_info('marts.{mart}')")}
    complete = next((c for c in columns if c.startswith("is_complete_")), None)
    latest = f"select max({period}) from marts.{mart}" + (f" where {complete}" if complete else "")
    sql = f"select {key} from marts.{mart} where {flag} and {period} = ({latest})"
    return {value for (value,) in rows(db, sql)}


def test_oversubscribed_activities_are_flagged(built: dict) -> None:
    planted = set(built["truth"]["oversubscribed_activities"])
    flagged = flagged_in_latest_period(
        built["db"],
        "fct_activity_pressure_weekly",
        "activity_id",
        "is_persistently_over_capacity",
        "week_start_date",
    )
    ((activities,),) = rows(built["db"], "select count(*) from marts.dim_activities")
    assert planted and planted <= flagged
    assert len(flagged) <= max(2 * len(planted), activities // 4)


def test_pcns_over_a_safe_caseload_are_flagged(built: dict) -> None:
    flagged = flagged_in_latest_period(
        built["db"],
        "fct_pcn_link_worker_caseload_monthly",
        "pcn_code",
        "is_over_safe_caseload",
        "month_start_date",
    )
    assert flagged == set(built["truth"]["pcns_over_caseload"])


def test_every_referral_lands_in_exactly_one_neighbourhood(built: dict) -> None:
    db = built["db"]
    ((loaded,),) = rows(db, "select count(*) from raw.referrals")
    ((facts, distinct, placed),) = rows(
        db,
        "select count(*), count(distinct referral_id), count(neighbourhood_code) "
        "from marts.fct_referrals",
    )
    assert loaded == facts == distinct == placed
    icb = totals(db)
    assert icb["referrals"] == icb["referrals, weekly"] == loaded
    ((population,),) = rows(db, "select sum(population_total) from raw.population")
    assert icb["population"] == population


def test_funding_cliff_adds_up_to_current_funding(built: dict) -> None:
    ((cliff, current),) = rows(
        built["db"],
        """
        select
            (select sum(current_funding_per_year_gbp) from marts.fct_funding_cliff),
            (select 365 * sum(amount_per_day_gbp) from marts.fct_provider_funding
             where is_current
                 -- placed where the recipient is based or works: a grant to a group the
                 -- directory does not list has neither
                 and provider_id in (select provider_id from marts.dim_providers))
        """,
    )
    assert cliff == pytest.approx(current)


def test_equity_rates_by_age_sex_and_ethnic_group_have_denominators(built: dict) -> None:
    """Each characteristic's populations add up to the ICB's; every group the census counts
    gets a rate, the groups it does not count (unknown, other sex) get none."""
    ((icb,),) = rows(built["db"], "select sum(population_total) from marts.dim_lsoas")
    for dimension in ("age_band", "sex", "ethnic_group", "imd_quintile"):
        groups = rows(
            built["db"],
            "select group_value, population_total, referrals_count, referrals_per_1000_per_year, "
            "months_count from marts.fct_equity where equity_dimension = ?",
            [dimension],
        )
        assert sum(population or 0 for _, population, *_ in groups) == icb, dimension
        for group, population, referrals, rate, months in groups:
            if group in ("unknown", "other") and dimension == "sex" or group == "unknown":
                assert population is None and rate is None, (dimension, group)
            else:
                assert rate == pytest.approx(1000 * referrals / population * 12 / months)


def test_area_deprivation_is_the_population_weighted_lsoa_score(built: dict) -> None:
    """The demo's deprivation file covers its ICB only: the ICB row summarises all of it,
    weighted by the file's own denominators."""
    ((by_hand, decile_1_share),) = rows(
        built["db"],
        """
        select
            sum(population_total * imd_score) / sum(population_total),
            count(*) filter (where imd_decile = 1) / count(*)
        from raw.deprivation
        """,
    )
    ((score, share, ranked_among),) = rows(
        built["db"],
        "select imd_average_score, imd_proportion_lsoas_most_deprived_10pct, ranked_among_count "
        "from marts.fct_area_deprivation where area_type = 'icb'",
    )
    assert score == pytest.approx(by_hand) and share == pytest.approx(decile_1_share)
    assert ranked_among == 1


@pytest.fixture(scope="module")
def rebuilt_at_levels(built: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The marts rebuilt by dbt at other neighbourhood levels, each into a copy of the
    warehouse, all at once: {level: (database, completed process)}."""
    root = tmp_path_factory.mktemp("levels")
    mapping = root / "neighbourhoods.csv"
    lsoas = [code for (code,) in rows(built["db"], "select lsoa_code from raw.geography")]
    # two footprints and three LSOAs left out, which must land in 'unmapped'
    mapping.write_text(
        "lsoa_code,neighbourhood_name\n"
        + "".join(f"{code},{'North' if i % 2 else 'South'}\n" for i, code in enumerate(lsoas[3:]))
    )
    runs = {
        "lsoa": {"neighbourhood_level": "lsoa"},
        "ward": {"neighbourhood_level": "ward"},
        "lad": {"neighbourhood_level": "lad"},
        "pcn": {"neighbourhood_level": "pcn"},
        "custom": {"neighbourhood_level": "custom", "neighbourhood_mapping_csv": str(mapping)},
        "custom_missing": {
            "neighbourhood_level": "custom",
            "neighbourhood_mapping_csv": str(root / "absent.csv"),
        },
    }
    dbt = Path(sys.executable).parent / "dbt"
    processes = {}
    for name, dbt_vars in runs.items():
        db = root / f"{name}.duckdb"
        shutil.copy(built["db"], db)
        selection = (
            ["int_lsoas_mapped_to_neighbourhoods"]
            if name == "custom_missing"
            else [
                f"+{model}"
                for model in (
                    "dim_neighbourhoods",
                    "fct_neighbourhood_need_capacity_index",
                    "fct_neighbourhood_need_capacity_weekly",
                )
            ]
        )
        command = [
            str(dbt),
            "run",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(root / f"target_{name}"),
            "--log-path",
            str(root / f"logs_{name}"),
            "--vars",
            str(dbt_vars),
            "--select",
            *selection,
        ]
        env = {**os.environ, DUCKDB_PATH_ENV: str(db)}
        processes[name] = (
            db,
            subprocess.Popen(
                command, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            ),
        )
    return {
        name: (db, process.communicate(timeout=600)[0], process.returncode)
        for name, (db, process) in processes.items()
    }


@pytest.mark.parametrize("level", ["lsoa", "ward", "lad", "pcn", "custom"])
def test_switching_neighbourhood_level_keeps_icb_totals(
    built: dict, rebuilt_at_levels: dict, level: str
) -> None:
    db, output, returncode = rebuilt_at_levels[level]
    assert returncode == 0, output[-3000:]
    assert totals(db) == totals(built["db"])
    names = {
        name
        for (name,) in rows(db, "select distinct neighbourhood_level from marts.dim_neighbourhoods")
    }
    assert names == {level}
    ((neighbourhoods,),) = rows(db, "select count(*) from marts.dim_neighbourhoods")
    if level in LEVEL_CODES:
        ((expected,),) = rows(db, f"select count(distinct {LEVEL_CODES[level]}) from raw.geography")
        assert neighbourhoods == expected
    elif level == "pcn":
        # every LSOA in exactly one PCN (population counted once, checked above by totals)
        codes = {
            code for (code,) in rows(db, "select neighbourhood_code from marts.dim_neighbourhoods")
        }
        pcns = {code for (code,) in rows(db, "select distinct pcn_code from raw.practices")}
        assert codes and codes <= pcns
        assert neighbourhoods == len(codes)
    else:
        codes = {
            code for (code,) in rows(db, "select neighbourhood_code from marts.dim_neighbourhoods")
        }
        assert codes == {"North", "South", "unmapped"}


def test_a_missing_custom_mapping_file_stops_the_run_with_a_message(
    rebuilt_at_levels: dict,
) -> None:
    _, output, returncode = rebuilt_at_levels["custom_missing"]
    assert returncode != 0
    assert "neighbourhood_mapping_csv" in output and "no such file" in output

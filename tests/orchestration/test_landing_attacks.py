"""Hostile files dropped into the landing folder, through the sensor's own code path: one
sensor tick, the run it requests (the ingest asset with its checks, in process), then a
publish. Whatever a file tries, nothing of its values or its name may be found afterwards in
the working or the published warehouse, the archive, ``rejected/``, the landing folder or
the run's logs; a refused file ends as ``refused`` with a note naming the rule.

Each case is one file (thirteen crafted, and 96 names generated from people, dates of birth,
NHS numbers and postcodes in many forms) with the rule it exercises and the texts
(``secrets``) that must not be kept. An accepted file's quarantined values may stay where the
data owner reads them (the working warehouse's ``audit.quarantine.record`` and the archived
file) and nowhere else. All files go through one sensor tick and one run (about 30 s).
"""

import hashlib
import io
import itertools
import logging
import os
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance
from dagster._serdes import serialize_value
from landing_runner import landed_run

from ingest.archive import file_label
from orchestration.publish import publish, published_path
from orchestration.resources import WarehouseResource

HEADER = (
    "referral_id,person_id,referral_date,snomed_code,referral_source,practice_code,lsoa_code,"
    "age_band,sex,ethnic_group,primary_need,referral_reason,link_worker_id,first_contact_date,"
    "contacts_count,outcome,discharge_date,wellbeing_baseline_swemwbs,wellbeing_followup_swemwbs"
)


def row(token: str, **change: str) -> str:
    """A valid referral row (``token`` makes it unique), with some columns changed."""
    values = {
        "referral_id": f"r{token}",
        "person_id": f"p{token}",
        "referral_date": "2026-03-02",
        "snomed_code": "871731000000106",
        "referral_source": "gp",
        "practice_code": "Z90003",
        "lsoa_code": "E01900007",
        "age_band": "65-74",
        "sex": "male",
        "ethnic_group": "white",
        "primary_need": "long_term_condition",
        "referral_reason": "",
        "link_worker_id": "lw0001aa",
        "first_contact_date": "",
        "contacts_count": "1",
        "outcome": "in_progress",
        "discharge_date": "",
        "wellbeing_baseline_swemwbs": "21.54",
        "wellbeing_followup_swemwbs": "",
    }
    values.update(change)
    return ",".join(values.values())


def referrals(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


@dataclass(frozen=True)
class Attack:
    case: str
    name: str  # the file's name in the landing folder
    text: str  # its content
    secrets: tuple[str, ...]  # what must not be kept (values, parts of the name)
    # the rule the refusal note names (one of); (): it is accepted; None: either (a name the
    # name screen may refuse or not: refused with a note, or loaded under its label)
    refused: tuple[str, ...] | None


# Names dressed up with a person, a date of birth, an NHS number or a postcode, in the forms
# senders (or attackers) write them: whichever the name screen refuses, no name may be kept.
PEOPLE = (("Ottoline", "Quillfeather"), ("Thaddeus", "Brackenbury"), ("perpetua", "vasquez-ormond"))
MARKERS = (
    "1938-11-29", "29.11.1938", "29 Nov 1938", "29111938", "b 29-11-38",
    "401 023 2137", "401-023-2137", "4010232137", "401.023.2137", "NHSno4010232137",
    "\uff14\uff10\uff11\uff10\uff12\uff13\uff12\uff11\uff13\uff17",
    "M1 1AE", "M11AE", "M1-1AE", "M1\u00a01AE", "m1  1ae",
)  # fmt: skip
TEMPLATES = ("{first}_{last}_{marker}.csv", "{marker} {last}, {first}.TXT")


def name_variants() -> tuple[Attack, ...]:
    variants = []
    for index, ((first, last), marker, template) in enumerate(
        itertools.product(PEOPLE, MARKERS, TEMPLATES)
    ):
        name = template.format(first=first, last=last, marker=marker)
        variants.append(
            Attack(
                f"name {index}: {name}",
                name,
                referrals(row(f"var{index:05d}")),
                (first, last, marker),
                None,
            )
        )
    return tuple(variants)


ATTACKS = (
    Attack(
        "identifiable name that passes the name screen is replaced by the label",
        "Quimbyfold_Zarkwell_referrals.csv",  # a made-up name no list knows
        referrals(row("name0001")),
        ("Quimbyfold", "Zarkwell"),
        (),
    ),
    Attack(
        "full postcode in the file's name",
        "clinic list LS1 4AP.csv",
        referrals(row("name0002")),
        ("LS1 4AP", "clinic list"),
        ("postcode",),
    ),
    Attack(
        "NHS number in the file's name",
        "Zoltan 401 023 2137.csv",
        referrals(row("name0003")),
        ("401 023 2137", "4010232137", "Zoltan"),
        ("NHS number",),
    ),
    Attack(
        "name with an unknown extension that a message would repeat",
        "Jane.Doebrook",
        referrals(row("name0004")),
        ("Doebrook", "Jane"),
        ("unsupported file type",),
    ),
    Attack(
        "NHS number in a token column, spaced 3-3-4",
        "upload_1.csv",
        referrals(row("nhs00001"), row("nhs00002", person_id="943 476 5919")),
        ("943 476 5919", "9434765919"),
        ("NHS number",),
    ),
    Attack(
        "NHS number in a column outside the contract",
        "upload_2.csv",
        referrals(row("nhs00003") + ",", row("nhs00004") + ",450-557-7104", header=HEADER + ",ref"),
        ("450-557-7104", "4505577104"),
        ("NHS number",),
    ),
    Attack(
        "full postcode in a code column",
        "upload_3.csv",
        referrals(row("pc000001", lsoa_code="SW1A 2AA")),
        ("SW1A 2AA",),
        ("postcode",),
    ),
    Attack(
        "a title and a name in the free-text column",
        "upload_4.csv",
        referrals(row("fre00001", referral_reason="Mrs Quennell-Ashby asked")),
        ("Quennell-Ashby",),
        ("name",),
    ),
    Attack(
        "a street address in the free-text column",
        "upload_5.csv",
        referrals(row("fre00002", referral_reason="lives at 14 Tamarisk Crescent")),
        ("Tamarisk",),
        ("address",),
    ),
    Attack(
        "a date-of-birth column outside the contract",
        "upload_6.csv",
        referrals(row("dob00001") + ",1944-06-17", header=HEADER + ",date_of_birth"),
        ("1944-06-17",),
        ("date of birth",),
    ),
    Attack(
        "a file without its header row: the first row would be read as the header",
        "upload_8.csv",
        "\n".join([row("hdr00001", person_id="485 777 3456"), row("hdr00002")]) + "\n",
        ("485 777 3456", "4857773456", "rhdr00001"),
        ("NHS number", "header row"),
    ),
    Attack(
        "a repeated header (a message could quote it) beside an NHS number",
        "upload_9.csv",
        referrals(row("dup00001") + ",x,943 476 5919", header=HEADER + ",Quimbyfold,Quimbyfold"),
        ("Quimbyfold", "943 476 5919"),
        ("duplicate header", "NHS number"),
    ),
    Attack(
        "values that break rules, quarantined: kept for the data owner only",
        "upload_7.csv",
        referrals(
            row("qua00001"),
            row("qua00002", age_band="Zebedee-Quartermain", outcome="Xanthippe"),
            row("qua00003", lsoa_code="E0QWERTYZ", contacts_count="Vortigern"),
        ),
        ("Zebedee-Quartermain", "Xanthippe", "E0QWERTYZ", "Vortigern"),
        (),
    ),
) + name_variants()


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def label(attack: Attack) -> str:
    return file_label("referrals", sha(attack.text), attack.name)


@dataclass
class Outcome:
    data: Path
    working: str  # every cell of every table of the working warehouse
    record: str  # audit.quarantine.record of the working warehouse (the data owner's)
    published: str  # every cell of the published warehouse, and its bytes
    archive: str  # paths and bytes of the archive
    rejected: str  # paths and bytes of rejected/
    landing: list[str]
    logs: str  # the sensor's request, the run (config included), its events, Python logs
    statuses: dict[str, str]  # audit.loads: label -> status


def _cells(db: Path, *, skip: tuple[str, str] | None = None) -> str:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cells = []
        tables = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns"
        ).fetchall()
        for schema, table, column in tables:
            if (f"{schema}.{table}", column) == skip:
                continue
            values = con.execute(f'select "{column}" from {schema}."{table}"').fetchall()
            cells += [f"{schema}.{table}.{column}", *(str(value) for (value,) in values)]
        return "\n".join(cells)
    finally:
        con.close()


def _tree(folder: Path) -> str:
    if not folder.exists():
        return ""
    found = []
    for path in sorted(folder.rglob("*")):
        found.append(str(path.relative_to(folder)))
        if path.is_file():
            found.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(found)


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    data = tmp_path_factory.mktemp("landing_attacks")
    landing = data / "landing" / "referrals"
    landing.mkdir(parents=True)
    past = time.time() - 60
    for attack in ATTACKS:
        path = landing / attack.name
        path.write_text(attack.text, encoding="utf-8")
        os.utime(path, (past, past))

    handler_stream = io.StringIO()
    handler = logging.StreamHandler(handler_stream)
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.DEBUG)
    printed = io.StringIO()
    try:
        with DagsterInstance.ephemeral() as instance, redirect_stdout(printed):
            with redirect_stderr(printed):
                request, result = landed_run(data, "referrals", instance)
            assert result.success
            run = instance.get_run_by_id(result.run_id)
            events = instance.all_logs(result.run_id)
            logs = "\n".join(
                [
                    serialize_value(request),
                    serialize_value(run),
                    *(serialize_value(event) for event in events),
                ]
            )
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    logs += "\n" + handler_stream.getvalue() + "\n" + printed.getvalue()

    db = WarehouseResource(location=str(data / "warehouse")).db_path
    con = duckdb.connect(str(db))
    con.execute("create schema if not exists marts")  # publish needs a mart to publish
    con.execute("create table marts.placeholder as select 1 as one")
    con.close()
    publish(db)
    published = _cells(published_path(db))
    published += "\n".join(
        path.read_bytes().decode("utf-8", "replace") for path in (db.parent / "versions").iterdir()
    )
    con = duckdb.connect(str(db), read_only=True)
    try:
        record = "\n".join(
            value for (value,) in con.execute("select record from audit.quarantine").fetchall()
        )
        statuses = dict(con.execute("select file_name, status from audit.loads").fetchall())
    finally:
        con.close()
    return Outcome(
        data=data,
        working=_cells(db, skip=("audit.quarantine", "record")),
        record=record,
        published=published,
        archive=_tree(data / "archive"),
        rejected=_tree(data / "rejected"),
        landing=sorted(path.name for path in landing.iterdir()),
        logs=logs,
        statuses=statuses,
    )


def test_the_landing_folder_is_emptied(outcome: Outcome) -> None:
    assert outcome.landing == []


@pytest.mark.parametrize("attack", ATTACKS, ids=[attack.case for attack in ATTACKS])
def test_nothing_of_a_hostile_file_is_kept(outcome: Outcome, attack: Attack) -> None:
    kept_by_the_pipeline = {
        "working warehouse": outcome.working,
        "published warehouse": outcome.published,
        "rejected/": outcome.rejected,
        "logs": outcome.logs,
    }
    if attack.refused != ():  # nothing of a refused file is kept, anywhere
        kept_by_the_pipeline["archive"] = outcome.archive
        kept_by_the_pipeline["quarantined records"] = outcome.record
    for secret in attack.secrets:
        for where, text in kept_by_the_pipeline.items():
            assert secret not in text, f"{secret!r} of {attack.name!r} found in {where}"
    stem = Path(attack.name).stem
    for where, text in {**kept_by_the_pipeline, "archive": outcome.archive}.items():
        assert stem not in text, f"the name {attack.name!r} found in {where}"


@pytest.mark.parametrize(
    "attack", [a for a in ATTACKS if a.refused], ids=[a.case for a in ATTACKS if a.refused]
)
def test_a_refused_file_leaves_only_a_note_naming_the_rule(outcome: Outcome, attack) -> None:
    rejected = outcome.data / "rejected" / "referrals"
    note = rejected / f"{label(attack)}.refused.txt"
    assert note.is_file()
    text = note.read_text()
    assert any(rule in text for rule in attack.refused)
    assert sha(attack.text) in text
    assert [path for path in rejected.iterdir() if not path.name.endswith(".refused.txt")] == []
    assert sha(attack.text) not in outcome.archive  # not archived
    # refused in the run (audited as refused), or by its name in the sensor's tick (no run)
    assert outcome.statuses.get(label(attack), "refused") == "refused"


ACCEPTED = [a for a in ATTACKS if a.refused == ()]


@pytest.mark.parametrize("attack", ACCEPTED, ids=[a.case for a in ACCEPTED])
def test_an_accepted_file_is_known_by_its_label(outcome: Outcome, attack) -> None:
    assert outcome.statuses[label(attack)] in ("loaded", "superseded")  # same month
    assert (outcome.data / "archive" / "referrals" / sha(attack.text) / label(attack)).is_file()
    assert label(attack) in outcome.published


def test_every_file_is_loaded_or_refused_with_a_note(outcome: Outcome) -> None:
    rejected = outcome.data / "rejected" / "referrals"
    for attack in ATTACKS:
        noted = (rejected / f"{label(attack)}.refused.txt").is_file()
        status = outcome.statuses.get(label(attack), "refused" if noted else None)
        assert (noted, status) in (
            (True, "refused"),
            (False, "loaded"),
            (False, "superseded"),
        ), attack.case

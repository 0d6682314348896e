"""A corpus of messy and bad files through the real command line, each with its exact outcome.

Every case builds one file, runs ``icb-insight ingest SOURCE FILE`` through ``main()`` into a
temporary warehouse, and checks the exit code, a fragment of the message, and (for files that
load) which rules set rows aside. Then: a file carrying NHS numbers must leave no trace in the
warehouse (file bytes and every table) or in anything printed or logged, and random row
corruptions (hypothesis) never crash ingest and always keep rows read = loaded + quarantined.
"""

import io
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pytest
from cli_runner import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.archive import file_label
from ingest.load import file_sha256

COLUMNS = (
    "referral_id,person_id,referral_date,snomed_code,referral_source,practice_code,lsoa_code,"
    "age_band,sex,ethnic_group,primary_need,referral_reason,link_worker_id,first_contact_date,"
    "contacts_count,outcome,discharge_date,wellbeing_baseline_swemwbs,wellbeing_followup_swemwbs"
).split(",")


def row(index: int, **changes: str) -> dict[str, str]:
    """A valid referral; ``changes`` override columns."""
    values = {
        "referral_id": f"ref{index:05d}a",
        "person_id": f"per{index:05d}b",
        "referral_date": f"2026-03-{index % 27 + 1:02d}",
        "snomed_code": "871731000000106",
        "referral_source": "gp",
        "practice_code": "Z90003",
        "lsoa_code": "E01900007",
        "age_band": "65-74",
        "sex": "female",
        "ethnic_group": "white",
        "primary_need": "loneliness_isolation",
        "referral_reason": "wants to meet people",
        "link_worker_id": "lw0001aa",
        "first_contact_date": f"2026-04-{index % 27 + 1:02d}",
        "contacts_count": "3",
        "outcome": "completed",
        "discharge_date": f"2026-05-{index % 27 + 1:02d}",
        "wellbeing_baseline_swemwbs": "19.25",
        "wellbeing_followup_swemwbs": "21.54",
    }
    values.update(changes)
    return values


def frame(*changed: dict[str, str], clean: int = 3) -> pl.DataFrame:
    rows = [row(index) for index in range(clean)]
    rows += [row(clean + index, **changes) for index, changes in enumerate(changed)]
    return pl.DataFrame(rows, schema=dict.fromkeys(COLUMNS, pl.String))


def csv_text(data: pl.DataFrame, separator: str = ",") -> str:
    buffer = io.StringIO()
    data.write_csv(buffer, separator=separator)
    return buffer.getvalue()


Builder = Callable[[Path], Path]


def text_file(name: str, text: str, encoding: str = "utf-8") -> Builder:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(text.encode(encoding))
        return path

    return build


def bytes_file(name: str, data: bytes) -> Builder:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return build


def csv_of(*changed: dict[str, str], name: str = "referrals.csv", clean: int = 3) -> Builder:
    return text_file(name, csv_text(frame(*changed, clean=clean)))


def xlsx_of(sheet: str = "Sheet1", *, truncate: bool = False) -> Builder:
    def build(folder: Path) -> Path:
        path = folder / "referrals.xlsx"
        frame().write_excel(path, worksheet=sheet)
        if truncate:
            path.write_bytes(path.read_bytes()[:300])
        return path

    return build


def parquet_of(*, truncate: bool = False) -> Builder:
    def build(folder: Path) -> Path:
        path = folder / "referrals.parquet"
        frame().write_parquet(path)
        if truncate:
            path.write_bytes(path.read_bytes()[:-40])
        return path

    return build


def renamed_headers(folder: Path) -> Path:
    data = frame()
    data = data.select(list(reversed(data.columns)))
    data = data.rename({name: f" {name.replace('_', ' ').title()} " for name in data.columns})
    path = folder / "referrals.csv"
    path.write_text(csv_text(data))
    return path


def extra_column(folder: Path) -> Path:
    path = folder / "referrals.csv"
    path.write_text(csv_text(frame().with_columns(pl.lit("x").alias("site_notes"))))
    return path


def without(column: str, *more: str) -> Builder:
    def build(folder: Path) -> Path:
        path = folder / "referrals.csv"
        path.write_text(csv_text(frame().drop(column, *more)))
        return path

    return build


def with_column(name: str, values: list[str]) -> Builder:
    def build(folder: Path) -> Path:
        data = frame(clean=len(values)).with_columns(pl.Series(name, values))
        path = folder / "referrals.csv"
        path.write_text(csv_text(data))
        return path

    return build


@dataclass(frozen=True)
class Case:
    id: str
    build: Builder
    code: int
    fragments: tuple[str, ...] = ()  # all must appear (stderr for refusals, stdout for loads)
    rules: tuple[str, ...] = ()  # quarantine rules, sorted, one per quarantined row
    strict: bool = False
    source: str = "referrals"
    options: tuple[str, ...] = ()


NHS = "943 476 5919"  # passes the modulus 11 check
NOT_NHS = "9434765918"  # fails it: a bare number, not a token either

CASES = [
    # --- files that cannot be read at all
    Case("empty", bytes_file("referrals.csv", b""), 2, ("referrals.csv", "empty (0 bytes)")),
    Case("header only", text_file("referrals.csv", ",".join(COLUMNS) + "\n"), 2, ("no data",)),
    Case("whitespace only", text_file("referrals.csv", "\n \n\n"), 2, ("empty",)),
    Case("binary", bytes_file("referrals.csv", b"\x00\x01\x02" * 200), 2, ("binary data",)),
    Case("png as csv", bytes_file("referrals.csv", b"\x89PNG\r\n\x1a\n" + b"0" * 99), 2, ("PNG",)),
    Case("xlsx as csv", bytes_file("referrals.csv", b"PK\x03\x04rest"), 2, ("zip archive",)),
    Case("truncated xlsx", xlsx_of(truncate=True), 2, ("XLSX",)),
    Case("truncated parquet", parquet_of(truncate=True), 2, ("Parquet",)),
    Case("truncated json", text_file("referrals.json", '[{"referral_id": "a'), 2, ("JSON",)),
    Case("json not records", text_file("referrals.json", "[1, 2]"), 2, ("row 1", "object")),
    Case("unsupported type", text_file("referrals.docx", "x"), 2, ("unsupported file type",)),
    Case(
        "missing columns",
        without("lsoa_code", "referral_date"),
        2,
        ("missing required columns", "referral_date", "lsoa_code"),
    ),
    Case("extra column strict", extra_column, 2, ("unexpected column", "column 20"), strict=True),
    # --- identifiable data: refused whole, column named, never the value
    Case(
        "nhs number spaced",
        csv_of({"person_id": NHS}),
        2,
        ("identifiable", "person_id", "NHS number"),
    ),
    Case(
        "nhs number unknown column",
        with_column("patient_ref", ["9434765919", "x", "y"]),
        2,
        ("patient_ref", "NHS number"),
    ),
    Case("full postcode", csv_of({"lsoa_code": "LS1 4AP"}), 2, ("lsoa_code", "a full postcode")),
    Case(
        "dob header",
        with_column("Date of Birth", ["1950-01-01"] * 3),
        2,
        ("Date of Birth", "date of birth"),
    ),
    Case(
        "name in free text",
        csv_of({"referral_reason": "lonely since Mrs Smith moved"}),
        2,
        ("referral_reason", "a person's name"),
    ),
    Case(
        "address in free text",
        csv_of({"referral_reason": "lives at 12 Acacia Avenue alone"}),
        2,
        ("referral_reason", "street address"),
    ),
    Case(
        "nhs number and postcode",
        csv_of({"person_id": "9434765919", "lsoa_code": "SW1A 1AA"}),
        2,
        ("person_id", "NHS number", "lsoa_code", "postcode"),
    ),
    # --- messy but fine
    Case(
        "bom and semicolons",
        text_file("referrals.csv", "\ufeff" + csv_text(frame(), ";")),
        0,
        ("3 loaded, 0 quarantined",),
    ),
    Case(
        "windows-1252 and tabs",
        text_file(
            "referrals.tsv",
            csv_text(frame({"referral_reason": "café club"}), "\t"),
            encoding="cp1252",
        ),
        0,
        ("4 loaded, 0 quarantined",),
    ),
    Case(
        "newline in quoted field",
        csv_of({"referral_reason": "wants company\nand a walk"}),
        0,
        ("4 loaded",),
    ),
    Case("headers renamed and reordered", renamed_headers, 0, ("3 loaded",)),
    Case("extra column not strict", extra_column, 0, ("3 loaded",)),
    Case(
        "xlsx named sheet", xlsx_of("Referrals"), 0, ("3 loaded",), options=("--sheet", "Referrals")
    ),
    Case(
        "xlsx missing sheet",
        xlsx_of("Sheet1"),
        2,
        ("sheet", "Referrals"),
        options=("--sheet", "Referrals"),
    ),
    Case("xlsx first sheet, any name", xlsx_of("Data"), 0, ("3 loaded",)),
    Case("parquet", parquet_of(), 0, ("3 loaded",)),
    # --- rows set aside, each with its rule
    Case("bad lsoa", csv_of({"lsoa_code": "E0X123"}), 0, ("pattern (lsoa_code)",), ("pattern",)),
    Case("bad date", csv_of({"referral_date": "31/02/2026"}), 0, ("type",), ("type",)),
    Case("future date", csv_of({"referral_date": "2099-01-01"}), 0, ("future",), ("not_future",)),
    Case(
        "discharge before referral",
        csv_of({"discharge_date": "2026-01-01"}),
        0,
        ("not_before",),
        ("not_before",),
    ),
    Case(
        "score out of range",
        csv_of({"wellbeing_baseline_swemwbs": "40"}),
        0,
        ("maximum",),
        ("maximum",),
    ),
    Case("negative count", csv_of({"contacts_count": "-1"}), 0, ("minimum",), ("minimum",)),
    Case(
        "unknown value", csv_of({"age_band": "16-17"}), 0, ("allowed_values",), ("allowed_values",)
    ),
    Case("empty required", csv_of({"sex": ""}), 0, ("required (sex)",), ("required",)),
    Case(
        "duplicate key",
        csv_of({"referral_id": "dupe00a"}, {"referral_id": "dupe00a"}),
        0,
        ("duplicate_key",),
        ("duplicate_key", "duplicate_key"),
    ),
    Case(
        "bare number is not a token", csv_of({"person_id": NOT_NHS}), 0, ("pattern",), ("pattern",)
    ),
    Case(
        "several failures in one row",
        csv_of({"referral_date": "soon", "lsoa_code": "nowhere"}, {"sex": "x"}),
        0,
        ("2 quarantined",),
        ("allowed_values", "type"),
    ),
    Case(
        "every row bad",
        csv_of({"age_band": "x"}, {"age_band": "y"}, clean=0),
        0,
        ("0 loaded, 2 quarantined",),
        ("allowed_values", "allowed_values"),
    ),
]


def quarantine_rules(db: Path) -> tuple[str, ...]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("select rule from audit.quarantine order by rule").fetchall()
    finally:
        con.close()
    return tuple(rule for (rule,) in rows)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_corpus(case: Case, tmp_path: Path, monkeypatch, capsys) -> None:
    path = case.build(tmp_path)
    db = tmp_path / "warehouse" / "warehouse.duckdb"
    args = ["ingest", case.source, str(path), "--warehouse", str(db), *case.options]
    code, out, err = run_cli([*args, "--strict"] if case.strict else args, monkeypatch, capsys)
    assert code == case.code, err
    assert "Traceback" not in out + err
    shown = err if code else out
    for fragment in case.fragments:
        assert fragment in shown
    if code == 2:
        assert str(path) in err
        assert "refused; nothing of it was kept" in err
        assert not (tmp_path / "archive").exists()
    else:
        assert quarantine_rules(db) == case.rules


def test_unknown_practice_is_quarantined_once_practices_are_loaded(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    db = str(tmp_path / "warehouse" / "warehouse.duckdb")
    practices = tmp_path / "practices.csv"
    practices.write_text(
        "practice_code,practice_name,pcn_code,pcn_name,lsoa_code,registered_patients\n"
        "Z90003,Three Surgery,U90001,North PCN,E01900007,9000\n"
    )
    assert (
        run_cli(["ingest", "practices", str(practices), "--warehouse", db], monkeypatch, capsys)[0]
        == 0
    )
    referrals = csv_of({"practice_code": "Z99999"})(tmp_path)
    code, out, _ = run_cli(
        ["ingest", "referrals", str(referrals), "--warehouse", db], monkeypatch, capsys
    )
    assert code == 0
    assert "foreign_key (practice_code)" in out and "row 5" in out


def test_several_files_load_what_can_be_loaded_and_exit_2(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    good = csv_of()(tmp_path / "a")
    bad = csv_of({"person_id": NHS})(tmp_path / "b")
    db = str(tmp_path / "warehouse" / "warehouse.duckdb")
    code, out, err = run_cli(
        ["ingest", "referrals", str(good), str(bad), "--warehouse", db], monkeypatch, capsys
    )
    assert code == 2
    assert "3 loaded" in out
    assert str(bad) in err and "1 of 2 files refused" in err


# --- no trace of a refused identifiable file -----------------------------------------------


def valid_nhs_numbers(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    found: list[str] = []
    while len(found) < count:
        digits = [rng.randrange(10) for _ in range(9)]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            found.append("".join(map(str, digits)) + str(check))
    return found


def test_nhs_number_file_leaves_no_trace(tmp_path: Path, monkeypatch, capsys, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    db = tmp_path / "warehouse" / "warehouse.duckdb"
    good = csv_of()(tmp_path)
    assert (
        run_cli(["ingest", "referrals", str(good), "--warehouse", str(db)], monkeypatch, capsys)[0]
        == 0
    )

    numbers = valid_nhs_numbers(6)
    shapes = [numbers[0], f"{numbers[1][:3]} {numbers[1][3:6]} {numbers[1][6:]}", numbers[2]]
    shapes += [f"{numbers[3][:3]}-{numbers[3][3:6]}-{numbers[3][6:]}", numbers[4], numbers[5]]
    changed = [{"person_id": shape, "referral_reason": f"ref {shape}"} for shape in shapes]
    (tmp_path / "in").mkdir()
    bad = csv_of(*changed, name="identifiable.csv", clean=20)(tmp_path / "in")
    code, out, err = run_cli(
        ["ingest", "referrals", str(bad), "--warehouse", str(db)], monkeypatch, capsys
    )
    assert code == 2 and "NHS number" in err

    printed = out + err + caplog.text
    stored = b"".join(path.read_bytes() for path in db.parent.iterdir() if path.is_file())
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
        cells = []
        for schema, table in tables:
            for values in con.execute(f"select * from {schema}.{table}").fetchall():
                cells += [str(value) for value in values]
    finally:
        con.close()
    text = "\n".join(cells)
    for number in numbers:
        for form in (
            number,
            f"{number[:3]} {number[3:6]} {number[6:]}",
            f"{number[:3]}-{number[3:6]}-{number[6:]}",
        ):
            assert form not in printed
            assert form.encode() not in stored
            assert form not in text
    # the refusal is audited by the file's label (its name is not kept either)
    assert file_label("referrals", file_sha256(bad), bad) in text
    assert "identifiable.csv" not in text
    archived = [path.name for path in (tmp_path / "archive").rglob("*") if path.is_file()]
    assert archived == [file_label("referrals", file_sha256(good), good)]


# --- random corruption never crashes, rows always reconcile --------------------------------

CORRUPTIONS = st.sampled_from(
    [
        "",
        " ",
        "x",
        "-1",
        "99999999999",
        "2099-12-31",
        "31/31/2026",
        "E01",
        "Z9",
        "1.5",
        "\u00e9",
        "null",
        "N/A",
        "true",
        '"',
        "'",
        ";",
        "\t",
        "2026-02-30",
        "0",
        "E01900007",
        "gp",
        "9434765918",
    ]
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    corruptions=st.lists(
        st.tuples(st.integers(0, 7), st.sampled_from(COLUMNS), CORRUPTIONS), max_size=12
    )
)
def test_random_corruption_never_crashes_and_rows_reconcile(tmp_path_factory, corruptions) -> None:
    from ingest.errors import InputError
    from ingest.load import load_file

    folder = tmp_path_factory.mktemp("fuzz")
    data = frame(clean=8).to_dicts()
    for index, column, value in corruptions:
        data[index][column] = value
    path = folder / "referrals.csv"
    path.write_text(csv_text(pl.DataFrame(data, schema=dict.fromkeys(COLUMNS, pl.String))))
    db = folder / "warehouse" / "warehouse.duckdb"
    try:
        result = load_file("referrals", path, db)
    except InputError:
        return  # refused whole, with a message: allowed
    assert result.rows_read == 8
    assert result.rows_read == result.rows_loaded + result.rows_quarantined
    con = duckdb.connect(str(db), read_only=True)
    try:
        (loaded,) = con.execute("select count(*) from raw.referrals").fetchone()
        (quarantined,) = con.execute("select count(*) from audit.quarantine").fetchone()
    finally:
        con.close()
    assert (loaded, quarantined) == (result.rows_loaded, result.rows_quarantined)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    edits=st.lists(
        st.tuples(
            st.integers(0, 10_000),
            st.sampled_from(["delete", "insert", "cut line"]),
            st.sampled_from(
                [",", '"', "\n", "\r", ";", "\t", "x", "0", " ", "\x00", "é", "\ufeff"]
            ),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_random_damage_to_the_file_is_loaded_or_refused_never_a_crash(
    tmp_path_factory, edits
) -> None:
    from ingest.contracts import get_contract
    from ingest.errors import InputError
    from ingest.identifiable import check_identifiable
    from ingest.read import read_raw, to_typed
    from ingest.validate import split_rows

    folder = tmp_path_factory.mktemp("damage")
    text = csv_text(frame(clean=8))
    for position, edit, character in edits:
        at = position % (len(text) + 1)
        if edit == "delete":
            text = text[:at] + text[at + 1 :]
        elif edit == "insert":
            text = text[:at] + character + text[at:]
        else:
            end = text.find("\n", at)
            text = text[:at] + (text[end:] if end >= 0 else "")
    path = folder / "referrals.csv"
    path.write_text(text, encoding="utf-8")
    contract = get_contract("referrals")
    try:  # the loader's steps before writing (load_file itself is fuzzed above)
        raw = read_raw(contract, path)
        check_identifiable(contract, raw, path)
        typed = to_typed(contract, raw, path=path)
    except InputError as error:
        assert error.path == path and error.reason
        return
    split = split_rows(contract, typed)
    assert typed.height == split.valid.height + split.quarantined.height


def test_a_file_named_after_an_nhs_number_is_refused_without_repeating_it(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    path = csv_of(name="patient_9434765919.csv")(tmp_path)
    db = tmp_path / "warehouse" / "warehouse.duckdb"
    code, out, err = run_cli(
        ["ingest", "referrals", str(path), "--warehouse", str(db)], monkeypatch, capsys
    )
    assert code == 2
    assert "the file's name looks like it holds an NHS number" in err
    assert "9434765919" not in out + err
    assert not db.exists() and not (tmp_path / "archive").exists()

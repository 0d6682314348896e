"""The contracts for every source icb-insight accepts (docs/contracts.md is generated from here)."""

import re
from pathlib import Path

from ingest.contracts.model import Column, Contract, ForeignKey

# --- Code formats (ONS GSS and NHS ODS) -------------------------------------------------------
LSOA_CODE = r"^E01\d{6}$"
MSOA_CODE = r"^E02\d{6}$"
WARD_CODE = r"^E05\d{6}$"
LAD_CODE = r"^E0[6-9]\d{6}$"
SUB_ICB_CODE = r"^E38\d{6}$"
ICB_CODE = r"^E54\d{6}$"
REGION_CODE = r"^E12\d{6}$"
PRACTICE_CODE = r"^[A-Z]\d{5}$"
PCN_CODE = r"^U\d{5}$"
# 360Giving org-id prefixes: GB-CHC charity, GB-COH company, GB-SC Scottish charity,
# GB-NIC Northern Ireland charity, GB-LAE / GB-LAS English / Scottish local authority (a
# register code of letters, e.g. GB-LAE-ABC), 360G- for groups with no registration.
ORG_ID = (
    r"^(GB-CHC-\d{6,8}|GB-COH-[A-Z0-9]{8}|GB-SC-SC\d{6}|GB-NIC-\d{6}|GB-LA[ES]-[A-Z]{3,4}"
    r"|360G-[A-Za-z0-9-]+)$"
)
# 360Giving identifiers: org-ids as org-id.guide lists them (a registered list's prefix, then
# the organisation's id in that list), and 360G- identifiers, which a publisher forms from
# its own prefix and reference as it likes (dots, underscores, slashes, lower case...): any
# text without white space. The prefixes: see GIVING_ORG_ID_PREFIXES.
GRANT_ID = r"^360G-\S+$"
# Several GSS codes joined by ';'.
GSS_CODE_LIST = r"^[EWSNK]\d{8}(;[EWSNK]\d{8})*$"
# 6-64 letters, digits, _ or -, at least one of them a letter, so a bare number (an NHS
# number, say) is never a token. Without look-ahead (polars' regex has none), one branch per
# place of the first letter: in the first five characters (exact), or later (then a token
# may run past 64 characters, which is harmless).
TOKEN = (
    r"^(?:[A-Za-z][A-Za-z0-9_-]{5,63}|[0-9_-][A-Za-z][A-Za-z0-9_-]{4,62}"
    r"|[0-9_-]{2}[A-Za-z][A-Za-z0-9_-]{3,61}|[0-9_-]{3}[A-Za-z][A-Za-z0-9_-]{2,60}"
    r"|[0-9_-]{4}[A-Za-z][A-Za-z0-9_-]{1,59}|[0-9_-]{5,63}[A-Za-z][A-Za-z0-9_-]{0,58})$"
)
# A directory's short name: letters, digits, '.', '_' or '-'.
DIRECTORY_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
# Registered charity numbers (England and Wales 6-8 digits with an optional -N subsidiary
# suffix, Scotland SC + 6, Northern Ireland NIC/NI + 5-6) and Companies House numbers.
CHARITY_NUMBER = r"^(\d{6,8}(-\d{1,3})?|SC\d{6}|NIC?\d{5,6})$"
COMPANY_NUMBER = r"^[A-Z0-9]{8}$"
# Org-ids as org-id.guide defines them: a registered list's code (org_id_prefixes.txt, from
# the org-id.guide register), '-', then the organisation's identifier in that list, or 360G-
# and an identifier the publisher made up for a group on no list. The case of the list code
# is not held against a publisher; the identifier is any text without white space.
GIVING_ORG_ID_PREFIXES: tuple[str, ...] = tuple(
    line.strip()
    for line in (Path(__file__).with_name("org_id_prefixes.txt")).read_text().splitlines()
    if line.strip() and not line.startswith("#")
)
GIVING_ORG_ID = (
    r"^(?i:" + "|".join(re.escape(code) for code in (*GIVING_ORG_ID_PREFIXES, "360G")) + r")-\S+$"
)
ORG_ID_WORDS = (
    "an org-id: a list code registered with org-id.guide (GB-CHC, GB-COH, GB-SC, GB-NIC, "
    "GB-LAE, GB-NHS, XI-GRID... as listed in ingest/contracts/org_id_prefixes.txt) or 360G, "
    "then '-' and the identifier"
)
# Identifiers published openly for organisations and grants: the privacy screen does not
# take a run of ten digits in one for an NHS number (a company or grant reference).
PUBLIC_IDENTIFIERS = frozenset({GRANT_ID, GIVING_ORG_ID, ORG_ID})
# Any ONS GSS code: a country letter and 8 digits.
GSS_CODE = r"^[EWSN]\d{8}$"

# --- Shared value lists -----------------------------------------------------------------------
SNOMED_REFERRAL_TO_SOCIAL_PRESCRIBING = "871731000000106"
SNOMED_SOCIAL_PRESCRIBING_DECLINED = "871711000000103"

REFERRAL_SOURCES = (
    "gp",
    "other_health_professional",
    "mental_health_service",
    "local_authority",
    "vcse",
    "self",
    "family_or_friend",
    "other",
)
AGE_BANDS = ("0-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75-84", "85+")
SEXES = ("female", "male", "other", "unknown")
ETHNIC_GROUPS = ("asian", "black", "mixed", "white", "other", "unknown")
PRIMARY_NEEDS = (
    "loneliness_isolation",
    "mental_wellbeing",
    "financial_debt",
    "housing",
    "physical_activity",
    "long_term_condition",
    "carer_support",
    "food_insecurity",
    "other",
)
REFERRAL_OUTCOMES = ("in_progress", "completed", "declined", "did_not_engage", "closed_other")
ONWARD_STATUSES = (
    "accepted",
    "waitlisted",
    "refused_no_capacity",
    "attended",
    "did_not_attend",
    "declined_by_person",
)
ACTIVITY_CATEGORIES = (
    "arts_culture_heritage",
    "physical_activity",
    "nature_green",
    "advice_information",
    "social_connection",
    "peer_support",
    "food",
    "learning_volunteering",
    "other",
)
PROVIDER_TYPES = (
    "registered_charity",
    "community_group",
    "social_enterprise",
    "community_interest_company",
    "faith_group",
    "local_authority",
    "other",
)
VENUE_PLACEMENTS = ("coordinates", "lsoa_given", "publisher_area", "outside_area")
FUNDING_PURPOSES = ("core", "project", "social_prescribing_contract", "unknown")

PRSB = "PRSB Social Prescribing Information Standard (v1.0)"
GIVING = "360Giving Data Standard (grants schema 1.4)"
ORUK = "Open Referral UK (organisation, service, location, schedule)"
GSS = "ONS GSS codes (9 characters)"
ODS = "NHS ODS organisation codes"
IOD = "English Indices of Deprivation (IoD2025 file 7 column layout; IoD2019 accepted)"


def _lsoa(name: str = "lsoa_code", *, nullable: bool = False, what: str = "") -> Column:
    return Column(
        name,
        "string",
        what or "LSOA 2021 code (ONS GSS).",
        nullable=nullable,
        pattern=LSOA_CODE,
        standard=GSS,
    )


def _directory_id() -> Column:
    return Column(
        "directory_id",
        "string",
        "Which directory the record came from (a short name given when it is loaded); a "
        "file replaces only its own directories' rows. Empty in files of our own.",
        nullable=True,
        optional=True,
        pattern=DIRECTORY_ID,
    )


def _record_updated() -> Column:
    return Column(
        "record_updated_date",
        "date",
        "When the directory last updated the record, as published.",
        nullable=True,
        optional=True,
    )


REFERRALS = Contract(
    name="referrals",
    title="Referrals to social prescribing",
    description=(
        "One row per referral of a person to a social prescribing link worker, with the "
        "PRSB information standard's referral, contact, outcome and follow-up items."
    ),
    sender="GP practices and link-worker case management platforms, via the ICB's data service",
    file_format="csv",
    standards=(PRSB, GSS, ODS, "SNOMED CT"),
    primary_key=("referral_id",),
    period_column="referral_date",
    free_text_columns=("referral_reason",),
    columns=(
        Column("referral_id", "string", "Pseudonymised referral identifier.", pattern=TOKEN),
        Column(
            "person_id",
            "string",
            "Pseudonymised person token (never an NHS number).",
            pattern=TOKEN,
        ),
        Column("referral_date", "date", "Date the referral was made.", not_future=True),
        Column(
            "snomed_code",
            "string",
            "SNOMED CT concept recorded for the referral: "
            f"{SNOMED_REFERRAL_TO_SOCIAL_PRESCRIBING} referral to social prescribing service, "
            f"{SNOMED_SOCIAL_PRESCRIBING_DECLINED} social prescribing declined.",
            allowed=(SNOMED_REFERRAL_TO_SOCIAL_PRESCRIBING, SNOMED_SOCIAL_PRESCRIBING_DECLINED),
            standard="SNOMED CT",
        ),
        Column(
            "referral_source",
            "string",
            "Who referred the person (PRSB 'referral source').",
            allowed=REFERRAL_SOURCES,
            standard=PRSB,
        ),
        Column(
            "practice_code",
            "string",
            "GP practice the person is registered with (ODS code).",
            pattern=PRACTICE_CODE,
            standard=ODS,
        ),
        _lsoa(what="LSOA 2021 of the person's residence (never a postcode)."),
        Column("age_band", "string", "Age band at referral.", allowed=AGE_BANDS),
        Column("sex", "string", "Sex as recorded.", allowed=SEXES),
        Column(
            "ethnic_group",
            "string",
            "ONS high-level ethnic group, or unknown.",
            allowed=ETHNIC_GROUPS,
        ),
        Column(
            "primary_need",
            "string",
            "Main reason for referral (PRSB 'reason for referral', coded).",
            allowed=PRIMARY_NEEDS,
            standard=PRSB,
        ),
        Column(
            "referral_reason",
            "string",
            "Short free-text reason; screened for names and addresses before loading.",
            nullable=True,
            optional=True,
        ),
        Column(
            "link_worker_id",
            "string",
            "Pseudonymised link worker token.",
            nullable=True,
            pattern=TOKEN,
        ),
        Column(
            "first_contact_date",
            "date",
            "Date of the link worker's first contact.",
            nullable=True,
            not_before="referral_date",
            not_future=True,
        ),
        Column(
            "contacts_count",
            "integer",
            "Link worker contacts so far.",
            minimum=0,
            maximum=200,
        ),
        Column(
            "outcome",
            "string",
            "Where the referral stands (PRSB 'outcome').",
            allowed=REFERRAL_OUTCOMES,
            standard=PRSB,
        ),
        Column(
            "discharge_date",
            "date",
            "Date the person was discharged from the link worker's caseload.",
            nullable=True,
            not_before="referral_date",
            not_future=True,
        ),
        Column(
            "wellbeing_baseline_swemwbs",
            "float",
            "SWEMWBS metric score at the first contact (7.00-35.00).",
            nullable=True,
            minimum=7,
            maximum=35,
            standard="SWEMWBS metric score conversion table",
        ),
        Column(
            "wellbeing_followup_swemwbs",
            "float",
            "SWEMWBS metric score at follow-up (7.00-35.00).",
            nullable=True,
            minimum=7,
            maximum=35,
            standard="SWEMWBS metric score conversion table",
        ),
    ),
    foreign_keys=(
        ForeignKey("practice_code", "practices.practice_code"),
        ForeignKey("lsoa_code", "geography.lsoa_code"),
    ),
)

ONWARD_REFERRALS = Contract(
    name="onward_referrals",
    title="Onward referrals from link workers to community activities",
    description=(
        "One row per onward referral a link worker makes to a community activity, with "
        "what became of it and whether the first visit was supported."
    ),
    sender="Link-worker case management platforms",
    file_format="csv",
    standards=(PRSB, ORUK),
    primary_key=("onward_referral_id",),
    period_column="onward_referral_date",
    columns=(
        Column("onward_referral_id", "string", "Pseudonymised onward referral id.", pattern=TOKEN),
        Column("referral_id", "string", "The referral this came from.", pattern=TOKEN),
        Column(
            "activity_id",
            "string",
            "The activity referred to (Open Referral UK service).",
            pattern=TOKEN,
        ),
        Column("onward_referral_date", "date", "Date of the onward referral.", not_future=True),
        Column(
            "status",
            "string",
            "What became of it: accepted, waitlisted, refused_no_capacity (the group was "
            "full), attended, did_not_attend, declined_by_person.",
            allowed=ONWARD_STATUSES,
        ),
        Column(
            "supported_first_visit",
            "boolean",
            "A link worker or volunteer went with the person to the first session.",
        ),
        Column(
            "first_attended_date",
            "date",
            "Date of the first session the person attended.",
            nullable=True,
            not_before="onward_referral_date",
            not_future=True,
        ),
    ),
    foreign_keys=(
        ForeignKey("referral_id", "referrals.referral_id"),
        ForeignKey("activity_id", "activities.activity_id"),
    ),
)

PROVIDERS = Contract(
    name="providers",
    title="Community providers",
    description=(
        "One row per organisation that runs community activities: the Open Referral UK "
        "'organization', as a directory lists it, with the identifiers (org-id, charity and "
        "company number) that join it to funding. A file replaces only the rows of the "
        "directories it holds (`directory_id`)."
    ),
    sender="Local authority or VCSE infrastructure body service directory",
    file_format="csv",
    standards=(ORUK, GIVING, GSS),
    primary_key=("provider_id",),
    replace_scope=("directory_id",),
    freshness_warn_days=100,
    freshness_error_days=400,
    columns=(
        _directory_id(),
        Column(
            "provider_id",
            "string",
            "The directory's own id for the organisation (an org-id in files of our own, "
            "the Open Referral organisation id in a directory feed).",
            pattern=TOKEN,
        ),
        Column(
            "org_id",
            "string",
            "Org-id when known (org-id.guide list code and identifier, e.g. GB-CHC-1234567, "
            "or 360G-).",
            nullable=True,
            optional=True,
            pattern=GIVING_ORG_ID,
            pattern_words=ORG_ID_WORDS,
            standard=GIVING,
        ),
        Column(
            "charity_number",
            "string",
            "Registered charity number when known (England and Wales, SC or NI numbers).",
            nullable=True,
            optional=True,
            pattern=CHARITY_NUMBER,
        ),
        Column(
            "company_number",
            "string",
            "Companies House number when known.",
            nullable=True,
            optional=True,
            pattern=COMPANY_NUMBER,
        ),
        Column(
            "provider_name",
            "string",
            "Name of the organisation (an organisation, not a person); empty when the "
            "directory does not give it.",
            nullable=True,
        ),
        Column(
            "provider_type",
            "string",
            "Kind of organisation; empty when the directory does not say.",
            nullable=True,
            allowed=PROVIDER_TYPES,
        ),
        _lsoa(
            "base_lsoa_code",
            nullable=True,
            what="LSOA 2021 where the organisation is based; empty when not known.",
        ),
        Column(
            "is_volunteer_led",
            "boolean",
            "Run wholly by volunteers (no paid staff).",
            nullable=True,
            optional=True,
        ),
        _record_updated(),
    ),
    foreign_keys=(ForeignKey("base_lsoa_code", "geography.lsoa_code"),),
)

ACTIVITIES = Contract(
    name="activities",
    title="Community activities",
    description=(
        "One row per activity a provider runs (Open Referral UK 'service' with its "
        "'location' and 'schedule'): where, how often and how many places. Places are "
        "empty when the directory does not publish them: unknown, never 0. A file replaces "
        "only the rows of the directories it holds (`directory_id`)."
    ),
    sender="Local authority or VCSE infrastructure body service directory",
    file_format="xlsx",
    standards=(ORUK, GSS),
    primary_key=("activity_id",),
    replace_scope=("directory_id",),
    freshness_warn_days=100,
    freshness_error_days=400,
    columns=(
        _directory_id(),
        Column("activity_id", "string", "Activity (service) identifier.", pattern=TOKEN),
        Column("provider_id", "string", "Provider that runs it.", pattern=TOKEN),
        Column("activity_name", "string", "Name of the activity."),
        Column(
            "category",
            "string",
            "Activity category; empty when the directory gives only taxonomy terms (then "
            "mapped from them, seed activity_taxonomy_categories).",
            nullable=True,
            allowed=ACTIVITY_CATEGORIES,
        ),
        Column(
            "taxonomy_terms",
            "string",
            "The directory's taxonomy terms for the service, as published, joined by ';'.",
            nullable=True,
            optional=True,
        ),
        _lsoa(
            "venue_lsoa_code",
            nullable=True,
            what="LSOA 2021 of the venue; empty when the service has no location.",
        ),
        Column(
            "venue_lad_code",
            "string",
            "Local authority of the venue; for a service without a location, the "
            "directory's own local authority.",
            nullable=True,
            optional=True,
            pattern=LAD_CODE,
            standard=GSS,
        ),
        Column(
            "venue_placement",
            "string",
            "How the venue was placed: coordinates (point in LSOA polygon), lsoa_given "
            "(the file gave the LSOA), publisher_area (no location: the directory's local "
            "authority) or outside_area (its coordinates are in no LSOA of the warehouse's "
            "geography: not this ICB's).",
            nullable=True,
            optional=True,
            allowed=VENUE_PLACEMENTS,
        ),
        Column(
            "sessions_per_week",
            "float",
            "Sessions a week (0.25 for monthly); empty when no schedule is published.",
            nullable=True,
            minimum=0.01,
            maximum=50,
        ),
        Column(
            "places_per_session",
            "integer",
            "Places at each session; empty when not published (unknown, never 0).",
            nullable=True,
            minimum=0,
            maximum=500,
        ),
        Column(
            "capacity_unit",
            "string",
            "What a place is, as published (HSDS service_capacity unit), e.g. places, beds.",
            nullable=True,
            optional=True,
        ),
        Column(
            "start_date", "date", "Date the activity started; empty when not known.", nullable=True
        ),
        Column(
            "end_date",
            "date",
            "Date it ended or is due to end; empty while open-ended.",
            nullable=True,
            not_before="start_date",
        ),
        Column(
            "cost_to_attend_gbp",
            "float",
            "Cost to the person per session, in pounds (0 when free); empty when not published.",
            nullable=True,
            minimum=0,
            maximum=100,
        ),
        _record_updated(),
    ),
    foreign_keys=(
        ForeignKey("provider_id", "providers.provider_id"),
        ForeignKey("venue_lsoa_code", "geography.lsoa_code"),
    ),
)

ACTIVITY_SESSIONS = Contract(
    name="activity_sessions",
    title="Activity sessions and attendance",
    description="One row per session held: places offered, people attending, and how many "
    "of them came through social prescribing.",
    sender="Community providers, through the VCSE infrastructure body",
    file_format="csv",
    standards=(ORUK,),
    primary_key=("activity_id", "session_date"),
    period_column="session_date",
    columns=(
        Column("activity_id", "string", "Activity the session belongs to.", pattern=TOKEN),
        Column("session_date", "date", "Date of the session.", not_future=True),
        Column("places_available", "integer", "Places offered.", minimum=0, maximum=500),
        Column("attendees", "integer", "People who attended.", minimum=0, maximum=1000),
        Column(
            "referred_attendees",
            "integer",
            "Attendees who came through a social prescribing referral (at most attendees).",
            minimum=0,
            maximum=1000,
        ),
    ),
    foreign_keys=(ForeignKey("activity_id", "activities.activity_id"),),
)

PROVIDER_FUNDING = Contract(
    name="provider_funding",
    title="Funding to community organisations",
    description=(
        "One row per grant or contract, as its funder published it to 360Giving: the JSON "
        'package (`{"grants": [...]}`), the flat CSV or the spreadsheet (XLSX or ODS, the '
        "standard's column titles). Column aliases are the 360Giving spreadsheet titles. "
        "Optional 360Giving fields may be absent: planned dates (the period is then taken from "
        "the planned duration, else the award date and a default length, and flagged as "
        "estimated), the grant programme (kept as published; its purpose comes from an editable "
        "mapping, `unknown` when no rule matches), beneficiary locations. A file replaces only "
        "the grants of the funders it holds, so funders' files load side by side in any order. "
        "An open publication about organisations: organisations' addresses are read past and "
        "never kept; other texts are screened for NHS numbers and dates of birth (names in "
        "them are of organisations, staff and places); a grant to an individual "
        "(recipientIndividual) or a column named for personal data refuses the file."
    ),
    sender="Funders (ICB, councils, trusts, foundations, national and lottery funders)",
    file_format="json",
    standards=(GIVING,),
    primary_key=("grant_id",),
    replace_scope=("funding_org_id",),
    published_openly=True,
    freshness_warn_days=100,
    freshness_error_days=400,
    columns=(
        Column(
            "grant_id",
            "string",
            "360Giving grant identifier: 360G-, the funder's prefix, then its own grant "
            "reference, in whatever form the funder uses.",
            pattern=GRANT_ID,
            aliases=("Identifier", "id"),
        ),
        Column("title", "string", "Grant title.", aliases=("Title",)),
        Column("currency", "string", "ISO 4217 currency.", allowed=("GBP",), aliases=("Currency",)),
        Column(
            "amount_awarded_gbp",
            "float",
            "Amount awarded, pounds.",
            minimum=0,
            maximum=1_000_000_000,
            aliases=("Amount Awarded", "amountAwarded"),
        ),
        Column(
            "award_date",
            "date",
            "Date of the award.",
            not_future=True,
            aliases=("Award Date", "awardDate"),
        ),
        Column(
            "planned_start_date",
            "date",
            "Planned start of the funded period, when published.",
            nullable=True,
            optional=True,
            aliases=("Planned Dates:Start Date",),
        ),
        Column(
            "planned_end_date",
            "date",
            "Planned end of the funded period, when published.",
            nullable=True,
            optional=True,
            not_before="planned_start_date",
            aliases=("Planned Dates:End Date",),
        ),
        Column(
            "planned_duration_months",
            "float",
            "Planned length of the funded period in months (360Giving plannedDates.duration), "
            "when published.",
            nullable=True,
            optional=True,
            minimum=0,
            maximum=600,
            aliases=("Planned Dates:Duration (months)", "Planned Dates:Duration"),
        ),
        Column(
            "recipient_org_id",
            "string",
            "Recipient org-id: a prefix registered with org-id.guide and the organisation's "
            "number in that register, or 360G- for a group with no registration.",
            pattern=GIVING_ORG_ID,
            pattern_words=ORG_ID_WORDS,
            aliases=("Recipient Org:Identifier",),
        ),
        Column(
            "recipient_org_name",
            "string",
            "Recipient organisation name.",
            aliases=("Recipient Org:Name",),
        ),
        Column(
            "recipient_charity_number",
            "string",
            "Recipient's charity number, when published.",
            nullable=True,
            optional=True,
            aliases=("Recipient Org:Charity Number",),
        ),
        Column(
            "recipient_company_number",
            "string",
            "Recipient's company number, when published.",
            nullable=True,
            optional=True,
            aliases=("Recipient Org:Company Number",),
        ),
        Column(
            "funding_org_id",
            "string",
            "Funder org-id (a file replaces the grants loaded before for the funders it holds).",
            pattern=GIVING_ORG_ID,
            pattern_words=ORG_ID_WORDS,
            aliases=("Funding Org:Identifier",),
        ),
        Column("funding_org_name", "string", "Funder name.", aliases=("Funding Org:Name",)),
        Column(
            "grant_programme_title",
            "string",
            "Grant programme as published (any text); its purpose (core, project, social "
            "prescribing contract or unknown) comes from the editable mapping "
            "dbt_project/seeds/grant_programme_purposes.csv.",
            nullable=True,
            optional=True,
            aliases=("Grant Programme:Title",),
        ),
        Column(
            "beneficiary_area_codes",
            "string",
            "Every GSS code among the grant's beneficiary locations, joined by ';'.",
            nullable=True,
            optional=True,
            pattern=GSS_CODE_LIST,
            aliases=("Beneficiary Location:Geographic Code",),
        ),
        Column(
            "beneficiary_locations_without_code",
            "integer",
            "Beneficiary locations published without a GSS code (a name only, or another "
            "kind of code): counted, so the funder can be told.",
            nullable=True,
            optional=True,
            minimum=0,
        ),
    ),
)

LINK_WORKER_CAPACITY = Contract(
    name="link_worker_capacity",
    title="Link worker capacity by PCN and month",
    description="Whole-time equivalent social prescribing link workers employed by each PCN, "
    "and their open caseload at the end of the month.",
    sender="PCNs (workforce returns) via the ICB primary care team",
    file_format="xlsx",
    standards=(ODS,),
    primary_key=("pcn_code", "month_start_date"),
    period_column="month_start_date",
    columns=(
        Column("pcn_code", "string", "PCN (ODS code).", pattern=PCN_CODE, standard=ODS),
        Column("month_start_date", "date", "First day of the month.", not_future=True),
        Column("link_worker_fte", "float", "Link worker FTE in post.", minimum=0, maximum=100),
        Column(
            "open_caseload",
            "integer",
            "People on the caseload at month end.",
            minimum=0,
            maximum=100_000,
        ),
    ),
    foreign_keys=(ForeignKey("pcn_code", "practices.pcn_code"),),
)

GEOGRAPHY = Contract(
    name="geography",
    title="Geography lookup",
    description="One row per LSOA 2021 in the ICB: the areas it sits in, from MSOA to ICB "
    "(the ONS best-fit lookups, joined).",
    sender="ONS Open Geography Portal (or the demo generator: fictional areas)",
    file_format="csv",
    standards=(GSS,),
    primary_key=("lsoa_code",),
    freshness_warn_days=400,
    freshness_error_days=800,
    columns=(
        _lsoa(),
        Column("lsoa_name", "string", "LSOA name."),
        Column("msoa_code", "string", "MSOA 2021.", pattern=MSOA_CODE, standard=GSS),
        Column("msoa_name", "string", "MSOA name (House of Commons Library name where known)."),
        Column(
            "ward_code", "string", "Electoral ward (best fit).", pattern=WARD_CODE, standard=GSS
        ),
        Column("ward_name", "string", "Ward name."),
        Column("lad_code", "string", "Local authority district.", pattern=LAD_CODE, standard=GSS),
        Column("lad_name", "string", "Local authority name."),
        Column("sub_icb_code", "string", "Sub-ICB location.", pattern=SUB_ICB_CODE, standard=GSS),
        Column("sub_icb_name", "string", "Sub-ICB location name."),
        Column("icb_code", "string", "Integrated Care Board.", pattern=ICB_CODE, standard=GSS),
        Column("icb_name", "string", "ICB name."),
        Column(
            "is_fictional",
            "boolean",
            "True for the demo's invented areas.",
            nullable=True,
            optional=True,
        ),
    ),
)

PRACTICES = Contract(
    name="practices",
    title="GP practices and PCNs",
    description="One row per GP practice: its PCN, where it is, and its registered list size.",
    sender="NHS ODS (epraccur, ePCN) and NHS England registered patients publication",
    file_format="csv",
    standards=(ODS,),
    primary_key=("practice_code",),
    freshness_warn_days=100,
    freshness_error_days=400,
    columns=(
        Column(
            "practice_code", "string", "GP practice (ODS).", pattern=PRACTICE_CODE, standard=ODS
        ),
        Column("practice_name", "string", "Practice name."),
        Column(
            "pcn_code", "string", "PCN the practice belongs to.", pattern=PCN_CODE, standard=ODS
        ),
        Column("pcn_name", "string", "PCN name."),
        _lsoa(what="LSOA 2021 of the main surgery.", nullable=True),
        Column(
            "registered_patients",
            "integer",
            "Registered list size.",
            nullable=True,
            minimum=0,
            maximum=200_000,
        ),
    ),
    foreign_keys=(ForeignKey("lsoa_code", "geography.lsoa_code"),),
)


def _vintage_columns(*, edition: bool) -> tuple[Column, ...]:
    """Which vintage a reference figure was published on (``ingest.reference`` fills these;
    docs/reference-data.md explains the 2011-to-2021 mapping). Not published columns, so a
    published-layout file names them as the contract does."""
    columns = []
    if edition:
        columns.append(
            Column(
                "iod_edition",
                "integer",
                "Edition of the Indices of Deprivation the figures come from (2019 or 2025).",
                nullable=True,
                optional=True,
                aliases=("iod_edition",),
                minimum=2004,
                maximum=2100,
            )
        )
    columns += [
        Column(
            "source_lsoa_vintage",
            "integer",
            "LSOA vintage the figures were published on: 2021, or 2011 when carried onto the "
            "2021 LSOA with the ONS LSOA (2011) to LSOA (2021) lookup.",
            nullable=True,
            optional=True,
            aliases=("source_lsoa_vintage",),
            minimum=2011,
            maximum=2021,
        ),
        Column(
            "lsoa_change_code",
            "string",
            "ONS change code from 2011 to 2021 when the figures were carried over: U "
            "unchanged, S split (parent's figures), M merged (population-weighted), X complex.",
            nullable=True,
            optional=True,
            aliases=("lsoa_change_code",),
            allowed=("U", "S", "M", "X"),
        ),
    ]
    return tuple(columns)


def _population_year(what: str) -> Column:
    return Column("population_year", "integer", what, minimum=2011, maximum=2100)


POPULATION = Contract(
    name="population",
    title="Population by LSOA",
    description="Resident population of each LSOA (ONS mid-year estimates).",
    sender="ONS mid-year population estimates",
    file_format="csv",
    standards=(GSS,),
    primary_key=("lsoa_code",),
    freshness_warn_days=400,
    freshness_error_days=800,
    columns=(
        _lsoa(),
        _population_year("Year of the mid-year estimate."),
        Column("population_total", "integer", "All residents.", minimum=0, maximum=20_000),
        Column(
            "population_aged_65_plus",
            "integer",
            "Residents aged 65 and over. Empty from the real reference files: the IoD gives 60+ "
            "only (docs/reference-data.md).",
            nullable=True,
            optional=True,
            minimum=0,
            maximum=20_000,
        ),
        *_vintage_columns(edition=False),
    ),
    foreign_keys=(ForeignKey("lsoa_code", "geography.lsoa_code"),),
)


POPULATION_CHARACTERISTICS = ("age_band", "sex", "ethnic_group")

POPULATION_GROUPS = Contract(
    name="population_groups",
    title="Population by LSOA and group",
    description=(
        "Residents of each LSOA by age band, by sex and by ethnic group, in the census's long "
        "layout: one row per LSOA, characteristic and group, with the groups coded as in the "
        "referrals file. Each characteristic's groups add up to the LSOA's population. The "
        "denominators of referral rates by group; optional: without it those rates are empty."
    ),
    sender="ONS mid-year estimates (age, sex) and Census 2021 (ethnic group), regrouped",
    file_format="csv",
    standards=(GSS,),
    primary_key=("lsoa_code", "characteristic", "group_value"),
    freshness_warn_days=400,
    freshness_error_days=800,
    columns=(
        _lsoa(),
        Column(
            "characteristic",
            "string",
            "What the residents are grouped by.",
            allowed=POPULATION_CHARACTERISTICS,
        ),
        Column(
            "group_value",
            "string",
            "The group, coded as the referrals file codes it: an age_band, sex or ethnic_group "
            "value there.",
            allowed=tuple(dict.fromkeys(AGE_BANDS + SEXES + ETHNIC_GROUPS)),
        ),
        _population_year("Year of the estimate."),
        Column("population", "integer", "Residents in the group.", minimum=0, maximum=20_000),
        *_vintage_columns(edition=False),
    ),
    foreign_keys=(ForeignKey("lsoa_code", "geography.lsoa_code"),),
)


def _iod(name: str, published: str, dtype: str, what: str, **rules: object) -> Column:
    return Column(name, dtype, what, aliases=(published,), standard=IOD, **rules)  # type: ignore[arg-type]


_WHERE = "(where 1 is most deprived)"
_DECILE = "(where 1 is most deprived 10% of LSOAs)"


def _domain(key: str, published: str, *, score: bool) -> tuple[Column, ...]:
    columns = []
    if score:
        score_name = (
            f"{published} Score (rate)"
            if key in ("income", "employment")
            else (f"{published} Score")
        )
        columns.append(
            _iod(
                f"{key}_score",
                score_name,
                "float",
                f"{published} domain score.",
                nullable=True,
                optional=True,
                minimum=-10,
                maximum=100,
            )
        )
    columns.append(
        _iod(
            f"{key}_rank",
            f"{published} Rank {_WHERE}",
            "integer",
            f"{published} national rank, 1 most deprived.",
            nullable=True,
            optional=True,
            minimum=1,
            maximum=40_000,
        )
    )
    columns.append(
        _iod(
            f"{key}_decile",
            f"{published} Decile {_DECILE}",
            "integer",
            f"{published} national decile, 1 most deprived.",
            nullable=True,
            optional=True,
            minimum=1,
            maximum=10,
        )
    )
    return tuple(columns)


def _area_columns() -> tuple[Column, ...]:
    """The LSOA's sub-ICB location and ICB (ONS April 2024 lookup), MSOA, ward and region: not
    File 7 columns, written by ``icb-insight reference prepare`` so that fct_area_deprivation
    ranks ICBs and sub-ICB locations among all of England's, as it does districts, and so that
    a grant to an area partly outside the ICB is shared by the area's whole population
    (int_lsoas_in_areas). Named as the contract names them."""
    summaries = " Not a File 7 column: for the national area summaries."
    placing = " Not a File 7 column: for placing grants by their beneficiary location."
    areas = (
        ("sub_icb_code", "Sub-ICB location of the LSOA." + summaries, SUB_ICB_CODE),
        ("sub_icb_name", "Sub-ICB location name." + summaries, None),
        ("icb_code", "Integrated Care Board of the LSOA." + summaries, ICB_CODE),
        ("icb_name", "ICB name." + summaries, None),
        ("msoa_code", "MSOA 2021 of the LSOA." + placing, MSOA_CODE),
        ("ward_code", "Electoral ward (best fit) of the LSOA." + placing, WARD_CODE),
        ("region_code", "Region of the LSOA's local authority." + placing, REGION_CODE),
    )
    return tuple(
        Column(
            name,
            "string",
            what,
            nullable=True,
            optional=True,
            aliases=(name,),
            **({"pattern": pattern, "standard": GSS} if pattern else {}),  # type: ignore[arg-type]
        )
        for name, what, pattern in areas
    )


DEPRIVATION = Contract(
    name="deprivation",
    title="English Indices of Deprivation by LSOA",
    description=(
        "The published IoD 'file 7' (all scores, ranks, deciles and population "
        "denominators), with its published column headers. Rank 1 and decile 1 are the most "
        "deprived. IMD columns are required; domain columns may be absent. May cover every "
        "LSOA in England (no foreign key to geography): LSOAs outside the geography feed only "
        "the national area summaries (fct_area_deprivation)."
    ),
    sender="MHCLG English Indices of Deprivation (or the demo generator)",
    file_format="csv",
    standards=(IOD, GSS),
    primary_key=("lsoa_code",),
    freshness_warn_days=1000,
    freshness_error_days=3000,
    columns=(
        _iod("lsoa_code", "LSOA code (2021)", "string", "LSOA 2021 code.", pattern=LSOA_CODE),
        _iod("lsoa_name", "LSOA name (2021)", "string", "LSOA name."),
        _iod(
            "lad_code",
            "Local Authority District code (2024)",
            "string",
            "Local authority.",
            pattern=LAD_CODE,
        ),
        _iod("lad_name", "Local Authority District name (2024)", "string", "Local authority name."),
        _iod(
            "imd_score",
            "Index of Multiple Deprivation (IMD) Score",
            "float",
            "IMD score (higher is more deprived).",
            minimum=0,
            maximum=100,
        ),
        _iod(
            "imd_rank",
            f"Index of Multiple Deprivation (IMD) Rank {_WHERE}",
            "integer",
            "IMD national rank, 1 most deprived.",
            minimum=1,
            maximum=40_000,
        ),
        _iod(
            "imd_decile",
            f"Index of Multiple Deprivation (IMD) Decile {_DECILE}",
            "integer",
            "IMD national decile, 1 most deprived.",
            minimum=1,
            maximum=10,
        ),
        *_domain("income", "Income", score=True),
        *_domain("employment", "Employment", score=True),
        *_domain("education", "Education, Skills and Training", score=True),
        *_domain("health", "Health Deprivation and Disability", score=True),
        *_domain("crime", "Crime", score=True),
        *_domain("barriers", "Barriers to Housing and Services", score=True),
        *_domain("living_environment", "Living Environment", score=True),
        _iod(
            "population_total",
            "Total population: mid 2022 (excluding prisoners)",
            "integer",
            "Population denominator published with the IoD.",
            nullable=True,
            optional=True,
            minimum=0,
            maximum=20_000,
        ),
        *_vintage_columns(edition=True),
        *_area_columns(),
    ),
    foreign_keys=(),
)

CONTRACTS: dict[str, Contract] = {
    contract.name: contract
    for contract in (
        GEOGRAPHY,
        PRACTICES,
        POPULATION,
        POPULATION_GROUPS,
        DEPRIVATION,
        PROVIDERS,
        ACTIVITIES,
        ACTIVITY_SESSIONS,
        PROVIDER_FUNDING,
        LINK_WORKER_CAPACITY,
        REFERRALS,
        ONWARD_REFERRALS,
    )
}
"""All contracts, in load order: every foreign key points to a contract listed before it."""


class UnknownSourceError(KeyError):
    pass


def get_contract(name: str) -> Contract:
    try:
        return CONTRACTS[name]
    except KeyError:
        known = ", ".join(CONTRACTS)
        raise UnknownSourceError(f"unknown source {name!r}; known sources: {known}") from None

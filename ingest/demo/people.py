"""People: referrals to link workers, onward referrals to activities, attendance at
sessions, and the link workers' capacity.

Planted patterns: referral rates rise with deprivation (about 2.5 times as high in decile 1
as in decile 10) and follow the seasons (high in winter, a dip in August); some PCNs have
far too few link workers for their demand (long waits, thin support, huge caseloads);
supported first visits nearly always convert to attendance, unsupported ones mostly do not;
onward referrals to full activities are waitlisted or refused; people in neighbourhoods
with no offer are referred further away or not at all.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from ingest.contracts.sources import (
    AGE_BANDS,
    ETHNIC_GROUPS,
    ONWARD_STATUSES,
    PRIMARY_NEEDS,
    REFERRAL_OUTCOMES,
    REFERRAL_SOURCES,
    SEXES,
    SNOMED_REFERRAL_TO_SOCIAL_PRESCRIBING,
    SNOMED_SOCIAL_PRESCRIBING_DECLINED,
)
from ingest.demo.common import (
    date_series,
    draw_categories,
    draw_within_groups,
    masked,
    month_index,
    month_of_year,
    month_start_days,
    pick,
    rng_for,
    text,
    to_days,
    tokens,
    weekday,
)
from ingest.demo.community import Community
from ingest.demo.names import REFERRAL_REASONS
from ingest.demo.places import Places

ANNUAL_REFERRAL_RATE = 0.015
WARM_UP_DAYS = 270  # referrals before the window, so caseloads do not start empty
SWEMWBS_METRIC = np.array(
    [
        7.00,
        9.51,
        11.25,
        12.40,
        13.33,
        14.08,
        14.75,
        15.32,
        15.84,
        16.36,
        16.88,
        17.43,
        17.98,
        18.59,
        19.25,
        19.98,
        20.73,
        21.54,
        22.35,
        23.21,
        24.11,
        25.03,
        26.02,
        27.03,
        28.13,
        29.31,
        30.70,
        32.55,
        35.00,
    ]
)  # raw total 7..35 -> metric score (published conversion table)
_SEASON = np.array([1.2, 1.15, 1.05, 0.95, 0.95, 0.92, 0.88, 0.65, 1.0, 1.08, 1.15, 1.0])
_WEEKDAY = np.array([1.05, 1.05, 1.0, 1.0, 0.95, 0.06, 0.02])
_AGE_AFFLUENT = np.array([0.02, 0.03, 0.06, 0.08, 0.12, 0.16, 0.20, 0.20, 0.13])
_AGE_DEPRIVED = np.array([0.04, 0.07, 0.12, 0.14, 0.17, 0.17, 0.14, 0.10, 0.05])
_SEX = np.array([0.58, 0.40, 0.004, 0.016])
_SOURCE = np.array([0.62, 0.10, 0.04, 0.05, 0.05, 0.09, 0.03, 0.02])
_NEED_AFFLUENT = np.array([0.31, 0.24, 0.05, 0.03, 0.12, 0.12, 0.06, 0.01, 0.06])
_NEED_DEPRIVED = np.array([0.20, 0.22, 0.15, 0.08, 0.07, 0.11, 0.04, 0.08, 0.05])
_NEED_OLDER = np.array([1.6, 0.8, 0.6, 0.8, 0.8, 1.4, 1.0, 0.7, 1.0])
# need x activity category affinity (arts, physical, nature, advice, social, peer, food,
# learning, other)
_AFFINITY = np.array(
    [
        [1.5, 1.0, 1.2, 0.3, 3.0, 1.5, 0.8, 1.0, 0.5],
        [2.0, 1.5, 2.0, 0.3, 1.5, 2.0, 0.3, 1.0, 0.5],
        [0.2, 0.2, 0.2, 5.0, 0.8, 0.5, 2.0, 0.8, 0.5],
        [0.2, 0.2, 0.2, 5.0, 0.5, 0.5, 1.0, 0.5, 0.8],
        [0.5, 5.0, 2.0, 0.1, 0.8, 0.5, 0.3, 0.3, 0.3],
        [0.8, 2.5, 1.0, 0.5, 1.0, 2.5, 0.5, 0.5, 0.5],
        [1.0, 0.8, 1.0, 1.0, 1.5, 4.0, 0.5, 0.5, 0.5],
        [0.2, 0.2, 0.3, 2.0, 1.0, 0.3, 6.0, 0.3, 0.5],
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.5, 2.0],
    ]
)
COMPLETED, DECLINED, DID_NOT_ENGAGE, CLOSED_OTHER, IN_PROGRESS = range(5)
# onward statuses, as positions in the contract's ONWARD_STATUSES
ACCEPTED, WAITLISTED, REFUSED, ATTENDED, DID_NOT_ATTEND, DECLINED_BY_PERSON = range(6)
assert ONWARD_STATUSES[REFUSED] == "refused_no_capacity"
assert ONWARD_STATUSES[DECLINED_BY_PERSON] == "declined_by_person"
_OUTCOME_NAMES = np.array(
    ["completed", "declined", "did_not_engage", "closed_other", "in_progress"]
)
assert set(_OUTCOME_NAMES) == set(REFERRAL_OUTCOMES)


@dataclass
class People:
    referrals: pl.DataFrame
    onward_referrals: pl.DataFrame
    link_worker_capacity: pl.DataFrame
    over_caseload_pcns: list[str]
    pcn_stats: dict[str, dict[str, Any]]
    # index of the first session each attending onward referral came to (-1: none); the
    # sessions' attendance is made from it by ``activity_sessions`` when it is written, so
    # that the largest table is not in memory together with the referrals
    first_sessions: np.ndarray


def _day_weights(days: np.ndarray, as_of_day: int) -> np.ndarray:
    month = month_of_year(days)
    day_of_month = days - month_start_days(month_index(days)) + 1
    weight = _SEASON[month - 1] * _WEEKDAY[weekday(days)]
    holiday = ((month == 12) & (day_of_month >= 24)) | ((month == 1) & (day_of_month == 1))
    weight = np.where(holiday, weight * 0.3, weight)
    trend = np.maximum(0.6, 1 + 0.10 * (days - as_of_day) / 365.25)  # growing service
    return weight * trend


def build_people(
    places: Places,
    community: Community,
    seed: int,
    as_of: date,
    history_start: date,
) -> People:
    rng = rng_for(seed, "referrals")
    as_of_day, start_day = to_days(as_of), to_days(history_start)
    n_pcns = len(places.pcn_code)

    # --- Which PCNs are short of link workers (planted, mostly in deprived places, among
    # PCNs with demand enough to overload one link worker) ---------------------------------
    pcn_dep = 1 - np.bincount(places.lsoa_pcn, weights=places.imd_q * places.lsoa_pop) / (
        places.pcn_pop
    )
    n_over = max(1, int(round(0.25 * n_pcns)))
    weights = (pcn_dep**2 + 0.1) * (places.pcn_pop >= 25_000)
    if weights.sum() == 0:
        weights = places.pcn_pop.astype(np.float64)
    n_over = min(n_over, int((weights > 0).sum()))
    over_pcn = np.zeros(n_pcns, dtype=bool)
    over_pcn[rng.choice(n_pcns, size=n_over, replace=False, p=weights / weights.sum())] = True

    # --- Referral volume: deprivation gradient x seasons -----------------------------------
    days = np.arange(start_day - WARM_UP_DAYS, as_of_day + 1)
    day_weight = _day_weights(days, as_of_day)
    years_equivalent = day_weight.sum() / (day_weight[-365:].sum())
    dep_mult = 2.8 ** (0.5 - places.imd_q) * rng.lognormal(0.0, 0.12, places.n_lsoas)
    pcn_mult = rng.lognormal(0.0, 0.1, n_pcns)
    lsoa_rate = places.lsoa_pop * dep_mult * pcn_mult[places.lsoa_pcn]
    lsoa_rate *= ANNUAL_REFERRAL_RATE * places.lsoa_pop.sum() / lsoa_rate.sum()
    counts = rng.poisson(lsoa_rate * years_equivalent)
    lsoa = np.repeat(np.arange(places.n_lsoas), counts)
    ref_day = rng.choice(days, size=lsoa.size, p=day_weight / day_weight.sum())
    order = np.lexsort((lsoa, ref_day))
    lsoa, ref_day = lsoa[order], ref_day[order]
    n = lsoa.size
    pcn = places.lsoa_pcn[lsoa]
    practice = draw_within_groups(rng, pcn, places.practice_pcn, places.practice_list)
    over = over_pcn[pcn]

    # --- People: about one referral in eleven is a returning person -------------------------
    by_place = np.lexsort((ref_day, lsoa))
    group_start = np.searchsorted(lsoa[by_place], lsoa[by_place], side="left")
    position = np.arange(n) - group_start
    person_root = np.arange(n)
    repeat = (rng.random(n) < 0.09) & (position >= 3)
    back = 1 + (rng.random(n) * np.minimum(position, 30)).astype(np.int64)
    person_root[by_place[repeat]] = by_place[np.flatnonzero(repeat) - back[repeat]]
    for _ in range(20):
        person_root = person_root[person_root]
    roots = np.unique(person_root)
    person_token = np.empty(n, dtype="S16")
    person_token[roots] = tokens(rng, roots.size)
    person_id = person_token[person_root]
    del by_place, group_start, position, repeat, back, person_token, roots

    dep = (1 - places.imd_q[lsoa])[:, None]
    older = (places.lsoa_pop65 / places.lsoa_pop)[lsoa][:, None] / 0.19
    age_probs = (1 - dep) * _AGE_AFFLUENT + dep * _AGE_DEPRIVED
    age_probs = age_probs * np.where(np.arange(9) >= 6, older, 1.0)
    age = draw_categories(rng, age_probs)[person_root]
    del older, age_probs  # (n, 9) matrices: the generator's memory peak at England scale
    sex = draw_categories(rng, np.broadcast_to(_SEX, (n, 4)))[person_root]
    white = places.la_white_share[places.lsoa_la[lsoa]][:, None]
    rest = 1 - white - 0.025
    ethnic_probs = np.hstack(
        [rest * 0.55, rest * 0.2, rest * 0.15, white, rest * 0.1, np.full((n, 1), 0.025)]
    )  # asian, black, mixed, white, other, unknown (contract order)
    ethnic = draw_categories(rng, ethnic_probs)[person_root]
    del white, rest, ethnic_probs
    source = draw_categories(rng, np.broadcast_to(_SOURCE, (n, len(_SOURCE))))
    need_probs = (1 - dep) * _NEED_AFFLUENT + dep * _NEED_DEPRIVED
    need_probs = np.where((age >= 6)[:, None], need_probs * _NEED_OLDER, need_probs)
    need = draw_categories(rng, need_probs)
    del dep, need_probs

    # --- The link worker's side: wait, engagement, outcome, contacts ----------------------
    u = rng.random(n)
    p_dne = np.where(over, 0.17, 0.09)
    path = np.select(
        [u < 0.07, u < 0.07 + p_dne, u < 0.12 + p_dne],
        [DECLINED, DID_NOT_ENGAGE, CLOSED_OTHER],
        COMPLETED,
    )
    wait = 1 + np.round(rng.gamma(2.0, np.where(over, 19.0, 4.0))).astype(np.int64)
    first = ref_day + wait
    first = first + np.where(weekday(first) == 6, 1, np.where(weekday(first) == 5, 2, 0))
    has_first = np.ones(n, dtype=bool)
    has_first[path == DECLINED] = rng.random((path == DECLINED).sum()) < 0.65
    has_first[path == DID_NOT_ENGAGE] = rng.random((path == DID_NOT_ENGAGE).sum()) < 0.3
    engagement = np.round(rng.gamma(3.0, np.where(over, 90.0, 25.0))).astype(np.int64)
    discharge = np.select(
        [path == COMPLETED, path == CLOSED_OTHER, path == DECLINED],
        [
            first + 14 + engagement,
            first + np.round(rng.gamma(2.0, 15.0)).astype(np.int64),
            np.where(has_first, first, ref_day + rng.integers(3, 15, n)),
        ],
        ref_day + rng.integers(30, 90, n),
    )
    discharge = np.maximum(discharge, np.where(has_first, first, ref_day))
    planned_contacts = np.select(
        [path == COMPLETED, path == CLOSED_OTHER],
        [np.where(over, 1 + rng.poisson(1.5, n), 2 + rng.poisson(4.0, n)), 1 + rng.poisson(1.0, n)],
        has_first.astype(np.int64),
    )
    # what is known on as_of
    has_first &= first <= as_of_day
    closed = discharge <= as_of_day
    outcome = np.where(closed, path, IN_PROGRESS)
    elapsed = np.clip((as_of_day - first) / np.maximum(discharge - first, 1), 0, 1)
    contacts = np.where(
        closed,
        planned_contacts,
        np.where(has_first, 1 + np.floor((planned_contacts - 1).clip(0) * elapsed), 0),
    ).astype(np.int64)
    contacts = np.where(has_first | closed, contacts, 0)
    contacts = np.minimum(contacts, 200)

    # link workers: tokens per PCN, sized to the PCN's expected demand
    expected = np.bincount(places.lsoa_pcn, weights=lsoa_rate, minlength=n_pcns)
    fte_guess = np.clip(expected / np.where(over_pcn, 600, 170), 1, 6)
    workers_per_pcn = np.ceil(fte_guess).astype(np.int64) + (rng.random(n_pcns) < 0.5)
    worker_pcn = np.repeat(np.arange(n_pcns), workers_per_pcn)
    worker_token = tokens(rng, worker_pcn.size)
    worker = draw_within_groups(rng, pcn, worker_pcn, np.ones(worker_pcn.size))
    allocated = has_first | ((outcome == IN_PROGRESS) & (rng.random(n) < 0.5))

    # SWEMWBS baseline at first contact (raw total 7..35)
    base_mean = 19.0 + 2.5 * places.imd_q[lsoa]
    baseline_raw = np.clip(np.round(rng.normal(base_mean, 4.5)), 7, 35).astype(np.int64)
    p_baseline = np.where(path == DECLINED, 0.0, np.where(path == DID_NOT_ENGAGE, 0.5, 0.85))
    has_baseline = has_first & (rng.random(n) < p_baseline)

    # --- Only referrals inside the window are written ------------------------------------
    written = ref_day >= start_day
    referral_token = tokens(rng, n)

    # --- Onward referrals ------------------------------------------------------------------
    onward = _onward(
        rng_for(seed, "onward"),
        places,
        community,
        written & has_first & np.isin(outcome, [COMPLETED, IN_PROGRESS, CLOSED_OTHER]),
        lsoa,
        need,
        first,
        discharge,
        closed,
        over,
        as_of_day,
    )
    attended_any = np.zeros(n, dtype=bool)
    attended_any[onward["referral"][onward["status"] == ATTENDED]] = True

    # SWEMWBS follow-up at discharge for some completed referrals
    p_followup = np.where(over, 0.3, 0.5)
    has_followup = has_baseline & (outcome == COMPLETED) & (rng.random(n) < p_followup)
    change = np.round(rng.normal(np.where(attended_any, 3.8, 2.0), 3.0))
    followup_raw = np.clip(baseline_raw + change, 7, 35).astype(np.int64)

    reason_pick = rng.random(n)
    reason_empty = rng.random(n) < 0.15
    all_reasons = np.array([reason for key in PRIMARY_NEEDS for reason in REFERRAL_REASONS[key]])
    per_need = np.array([len(REFERRAL_REASONS[key]) for key in PRIMARY_NEEDS])
    offset = np.cumsum(per_need) - per_need
    reason_index = offset[need] + (reason_pick * per_need[need]).astype(np.int64)

    w = written
    referrals = pl.DataFrame(
        [
            text("referral_id", referral_token[w]),
            text("person_id", person_id[w]),
            date_series("referral_date", ref_day[w]),
            pick(
                "snomed_code",
                (SNOMED_REFERRAL_TO_SOCIAL_PRESCRIBING, SNOMED_SOCIAL_PRESCRIBING_DECLINED),
                (outcome[w] == DECLINED).astype(np.int64),
            ),
            pick("referral_source", REFERRAL_SOURCES, source[w]),
            pick("practice_code", places.practice_code, practice[w]),
            pick("lsoa_code", places.lsoa_code, lsoa[w]),
            pick("age_band", AGE_BANDS, age[w]),
            pick("sex", SEXES, sex[w]),
            pick("ethnic_group", ETHNIC_GROUPS, ethnic[w]),
            pick("primary_need", PRIMARY_NEEDS, need[w]),
            masked(
                "referral_reason",
                pick("referral_reason", all_reasons, reason_index[w]),
                ~reason_empty[w],
            ),
            masked("link_worker_id", text("link_worker_id", worker_token[worker[w]]), allocated[w]),
            date_series("first_contact_date", first[w], has_first[w]),
            pl.Series("contacts_count", contacts[w]),
            pick("outcome", _OUTCOME_NAMES, outcome[w]),
            date_series("discharge_date", discharge[w], closed[w]),
            masked(
                "wellbeing_baseline_swemwbs", SWEMWBS_METRIC[baseline_raw[w] - 7], has_baseline[w]
            ),
            masked(
                "wellbeing_followup_swemwbs", SWEMWBS_METRIC[followup_raw[w] - 7], has_followup[w]
            ),
        ]
    )

    onward_frame = pl.DataFrame(
        [
            text(
                "onward_referral_id", tokens(rng_for(seed, "onward-ids"), onward["referral"].size)
            ),
            text("referral_id", referral_token[onward["referral"]]),
            pick("activity_id", community.act_id, onward["activity"]),
            date_series("onward_referral_date", onward["day"]),
            pick("status", ONWARD_STATUSES, onward["status"]),
            pl.Series("supported_first_visit", onward["supported"]),
            date_series("first_attended_date", onward["attended_day"], onward["attended_day"] >= 0),
        ]
    )

    capacity, pcn_stats = _capacity(
        rng_for(seed, "capacity"),
        places,
        over_pcn,
        pcn,
        ref_day,
        discharge,
        closed,
        written,
        as_of_day,
        start_day,
    )
    over_list = [
        code for code, stats in pcn_stats.items() if stats["referrals_per_fte_last_12_months"] > 250
    ]
    return People(
        referrals=referrals,
        onward_referrals=onward_frame,
        link_worker_capacity=capacity,
        over_caseload_pcns=over_list,
        pcn_stats=pcn_stats,
        first_sessions=onward["session"],
    )


def _onward(
    rng: np.random.Generator,
    places: Places,
    community: Community,
    eligible: np.ndarray,
    lsoa: np.ndarray,
    need: np.ndarray,
    first: np.ndarray,
    discharge: np.ndarray,
    closed: np.ndarray,
    over: np.ndarray,
    as_of_day: int,
) -> dict[str, np.ndarray]:
    """Onward referrals as aligned arrays: referral index, activity index, day, status,
    supported, attended day (-1 when none)."""
    source = np.flatnonzero(eligible)
    probs = np.where(over[source][:, None], [0.4, 0.4, 0.15, 0.05], [0.22, 0.46, 0.23, 0.09])
    how_many = draw_categories(rng, probs)
    referral = np.repeat(source, how_many)
    nth = np.arange(referral.size) - np.repeat(np.cumsum(how_many) - how_many, how_many)
    day = first[referral] + rng.integers(0, 15, referral.size) + 10 * nth
    day = np.where(closed[referral], np.minimum(day, discharge[referral]), day)
    keep = day <= as_of_day
    referral, day = referral[keep], day[keep]

    msoa = places.lsoa_msoa[lsoa[referral]]
    activity = np.full(referral.size, -1, dtype=np.int64)
    same_place = np.zeros(referral.size, dtype=bool)
    act_end = np.where(community.act_end < 0, np.iinfo(np.int64).max, community.act_end)
    order = np.argsort(msoa, kind="stable")
    bounds = np.searchsorted(msoa[order], np.arange(len(places.msoa_code) + 1))
    for m in range(len(places.msoa_code)):
        rows = order[bounds[m] : bounds[m + 1]]
        if rows.size == 0:
            continue
        la = places.msoa_la[m]
        candidates = np.flatnonzero(community.act_la == la)
        if candidates.size == 0:
            continue
        distance = np.abs(places.msoa_pos[community.act_msoa[candidates]] - places.msoa_pos[m])
        reach = np.where(community.act_msoa[candidates] == m, 8.0, np.exp(-distance / 1.5))
        near = reach > 0.03
        candidates, reach = candidates[near], reach[near]
        if candidates.size == 0:
            continue
        active = (community.act_start[candidates][None, :] <= day[rows][:, None]) & (
            act_end[candidates][None, :] >= day[rows][:, None]
        )
        local_weight = (reach[None, :] * active).sum(axis=1)
        # the thinner the offer nearby, the likelier the person is only signposted
        taken = rng.random(rows.size) < local_weight / (local_weight + 5.0)
        weight = (
            reach[None, :]
            * active
            * _AFFINITY[need[referral[rows]]][:, community.act_category[candidates]]
        )
        total = weight.sum(axis=1)
        ok = taken & (total > 0)
        if not ok.any():
            continue
        pick = draw_categories(rng, weight[ok])
        activity[rows[ok]] = candidates[pick]
        same_place[rows[ok]] = community.act_msoa[candidates[pick]] == m
    chosen = activity >= 0
    referral, day, activity, same_place = (
        referral[chosen],
        day[chosen],
        activity[chosen],
        same_place[chosen],
    )
    # one onward referral per referral and activity
    key = referral * (len(community.act_id) + 1) + activity
    by_key = np.argsort(key, kind="stable")
    first_of_key = np.ones(key.size, dtype=bool)
    first_of_key[1:] = key[by_key][1:] != key[by_key][:-1]
    unique_rows = np.sort(by_key[first_of_key])
    referral, day, activity, same_place = (
        referral[unique_rows],
        day[unique_rows],
        activity[unique_rows],
        same_place[unique_rows],
    )
    n = referral.size

    supported = rng.random(n) < np.where(over[referral], 0.16, 0.38)
    declined = rng.random(n) < 0.07
    full = community.act_oversubscribed[activity] & (rng.random(n) < 0.62)
    waitlisted = full & (rng.random(n) < 0.58)
    attends = rng.random(n) < np.where(supported, 0.9, np.where(same_place, 0.38, 0.28))
    # the first session on or after the referral (plus a few days to get going)
    target = day + rng.integers(0, 10, n)
    key_sessions = community.sess_act * 1_000_000 + community.sess_day
    found = np.searchsorted(key_sessions, activity * 1_000_000 + target)
    found_clipped = np.minimum(found, max(key_sessions.size - 1, 0))
    if key_sessions.size:
        found_ok = (found < key_sessions.size) & (community.sess_act[found_clipped] == activity)
        attended_day = np.where(found_ok, community.sess_day[found_clipped], -1)
    else:
        found_ok = np.zeros(n, dtype=bool)
        attended_day = np.full(n, -1, dtype=np.int64)
    recent = day >= as_of_day - 21
    status = np.select(
        [declined, waitlisted, full, attends & found_ok, recent],
        [DECLINED_BY_PERSON, WAITLISTED, REFUSED, ATTENDED, ACCEPTED],
        DID_NOT_ATTEND,
    )
    attended = status == ATTENDED
    supported &= ~np.isin(status, [DECLINED_BY_PERSON, WAITLISTED, REFUSED])
    order = np.lexsort((referral, day))
    return {
        "referral": referral[order],
        "activity": activity[order],
        "day": day[order],
        "status": status[order],
        "supported": supported[order],
        "attended_day": np.where(attended, attended_day, -1)[order],
        "session": np.where(attended, found_clipped, -1)[order],
    }


def activity_sessions(seed: int, community: Community, first_sessions: np.ndarray) -> pl.DataFrame:
    """Attendance per session: people who came anyway plus the referred people still coming.

    The largest table (tens of millions of rows at England scale): temporaries are 32-bit
    and let go as soon as they are used, so the generator stays within its memory budget."""
    rng = rng_for(seed, "attendance")
    n_sessions = community.sess_act.size
    start = first_sessions[first_sessions >= 0]
    stay = rng.geometric(0.14, start.size)
    last_of_activity = np.searchsorted(community.sess_act, community.sess_act[start], side="right")
    stop = np.minimum(start + stay, last_of_activity)
    del stay, last_of_activity
    delta = np.zeros(n_sessions + 1, dtype=np.int32)
    np.add.at(delta, start, 1)
    np.add.at(delta, stop, -1)
    del start, stop
    referred = np.cumsum(delta, dtype=np.int32)[:n_sessions]
    del delta

    places_available = community.sess_places
    usual = rng.uniform(0.3, 0.75, len(community.act_id))[community.sess_act]
    walk_ins = rng.binomial(places_available, usual).astype(np.int32)
    del usual
    over = community.act_oversubscribed[community.sess_act]
    attendees = np.where(
        over,
        places_available + rng.binomial(3, 0.3, n_sessions).astype(np.int32),
        np.minimum(walk_ins + referred, places_available),
    )
    del over, walk_ins
    referred = np.minimum(referred, attendees)
    return pl.DataFrame(
        [
            pick("activity_id", community.act_id, community.sess_act),
            date_series("session_date", community.sess_day),
            pl.Series("places_available", places_available.astype(np.int64)),
            pl.Series("attendees", attendees.astype(np.int64)),
            pl.Series("referred_attendees", referred.astype(np.int64)),
        ]
    )


def _capacity(
    rng: np.random.Generator,
    places: Places,
    over_pcn: np.ndarray,
    pcn: np.ndarray,
    ref_day: np.ndarray,
    discharge: np.ndarray,
    closed: np.ndarray,
    written: np.ndarray,
    as_of_day: int,
    start_day: int,
) -> tuple[pl.DataFrame, dict[str, dict[str, Any]]]:
    """Link worker FTE per PCN and month, and the open caseload at each month end."""
    n_pcns = len(places.pcn_code)
    months = np.arange(
        month_index(np.array([start_day]))[0], month_index(np.array([as_of_day]))[0] + 1
    )
    month_start = month_start_days(months)
    month_end = np.minimum(month_start_days(months + 1) - 1, as_of_day)
    last_year = (ref_day > as_of_day - 365) & written
    annual = np.bincount(pcn[last_year], minlength=n_pcns)
    target = np.where(over_pcn, rng.uniform(520, 720, n_pcns), rng.uniform(140, 200, n_pcns))
    floor = np.where(over_pcn, rng.uniform(1.0, 1.4, n_pcns), 1.0)
    base_fte = np.clip(annual / target, floor, 6.0)

    growth = 0.92 + 0.08 * (np.arange(months.size) / max(months.size - 1, 1))
    fte = base_fte[:, None] * growth[None, :] + rng.normal(0.0, 0.08, (n_pcns, months.size))
    vacancy = rng.random(n_pcns) < 0.3
    gap_start = rng.integers(0, months.size, n_pcns)
    gap_length = rng.integers(2, 6, n_pcns)
    in_gap = (np.arange(months.size)[None, :] >= gap_start[:, None]) & (
        np.arange(months.size)[None, :] < (gap_start + gap_length)[:, None]
    )
    fte = np.where(vacancy[:, None] & in_gap, fte - 1.0, fte)
    fte = np.round(np.clip(fte, 1.0, 6.0), 1)

    open_until = np.where(closed, discharge, np.iinfo(np.int64).max)
    # open at a month end = referred on or before it minus discharged on or before it
    caseload = np.zeros((n_pcns, months.size), dtype=np.int64)
    by_opened = np.lexsort((ref_day, pcn))
    by_shut = np.lexsort((open_until, pcn))
    bounds = np.searchsorted(pcn[by_opened], np.arange(n_pcns + 1))
    for p in range(n_pcns):
        opened = ref_day[by_opened[bounds[p] : bounds[p + 1]]]
        shut = open_until[by_shut[bounds[p] : bounds[p + 1]]]
        caseload[p] = np.searchsorted(opened, month_end, side="right") - np.searchsorted(
            shut, month_end, side="right"
        )

    frame = pl.DataFrame(
        [
            pick("pcn_code", places.pcn_code, np.repeat(np.arange(n_pcns), months.size)),
            date_series("month_start_date", np.tile(month_start, n_pcns)),
            pl.Series("link_worker_fte", fte.ravel()),
            pl.Series("open_caseload", caseload.ravel()),
        ]
    )
    recent = month_start > as_of_day - 365
    stats: dict[str, dict[str, Any]] = {}
    for p in range(n_pcns):
        mean_fte = float(fte[p, recent].mean())
        stats[str(places.pcn_code[p])] = {
            "planted_short_of_link_workers": bool(over_pcn[p]),
            "referrals_last_12_months": int(annual[p]),
            "mean_fte_last_12_months": round(mean_fte, 2),
            "referrals_per_fte_last_12_months": round(float(annual[p]) / mean_fte, 1),
            "latest_open_caseload_per_fte": round(float(caseload[p, -1] / fte[p, -1]), 1),
        }
    return frame, stats

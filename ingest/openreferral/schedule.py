"""Sessions a week from Open Referral schedules (iCalendar-style recurrence rules).

ORUK v1 ``regular_schedules`` and HSDS 3.x ``schedules`` carry the same fields: ``freq``
(WEEKLY, MONTHLY, DAILY, YEARLY), ``interval`` (every n periods), ``byday`` (``MO,TH`` or, in
a monthly rule, ``1MO,-1FR``), ``bymonthday``, ``count``/``until``, ``valid_from``/``valid_to``.
Each schedule in force gives occurrences a week; a service's schedules add up (one schedule
per weekday is a common way to publish). A schedule without ``freq`` but with ``byday`` (or
a ``weekday`` name) is read as weekly, as ORUK feeds often publish it. A schedule that ended
(``valid_to`` or ``until`` before the day judged) is left out while another is in force;
when all have ended they say how often the service ran, and ``running_dates`` when (start
and end dates of the activity). None that can be read: unknown.
"""

from datetime import date
from typing import Any

WEEKS_PER_MONTH = 52 / 12
MAX_SESSIONS_PER_WEEK = 50.0
_DAYS = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"}


def _items(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        parts = [str(item) for item in value]
    else:
        parts = str(value).replace(";", ",").split(",")
    return [part.strip().upper() for part in parts if part.strip()]


def _date(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _interval(value: Any) -> int:
    try:
        interval = int(value)
    except (TypeError, ValueError):
        return 1
    return interval if interval >= 1 else 1


def schedule_end(schedule: dict[str, Any]) -> date | None:
    return _date(schedule.get("valid_to")) or _date(schedule.get("until"))


def schedule_start(schedule: dict[str, Any]) -> date | None:
    return _date(schedule.get("valid_from")) or _date(schedule.get("dtstart"))


def schedule_sessions_per_week(schedule: dict[str, Any]) -> float | None:
    """Occurrences a week of one schedule while it runs; None when it cannot be read."""
    freq = str(schedule.get("freq") or "").strip().upper()
    days = [day for day in _items(schedule.get("byday")) if day[-2:] in _DAYS]
    weekday = str(schedule.get("weekday") or "").strip().upper()[:2]
    if weekday in _DAYS:  # ORUK-style APIs: one schedule per weekday, named ("Monday")
        days.append(weekday)
    month_days = _items(schedule.get("bymonthday"))
    interval = _interval(schedule.get("interval"))
    if not freq:
        if not days:
            return None
        freq = "WEEKLY"
    if freq == "WEEKLY":
        per_period = len({day[-2:] for day in days}) or 1
        return per_period / interval
    if freq == "DAILY":
        per_week = len({day[-2:] for day in days}) if days else 7
        return per_week / interval
    if freq == "MONTHLY":
        # 1MO,3MO: twice a month; MO alone: every Monday of the month
        per_month = sum(1 if day[:-2] else WEEKS_PER_MONTH for day in days) + len(month_days)
        return (per_month or 1) / WEEKS_PER_MONTH / interval
    if freq == "YEARLY":
        return 1 / 52 / interval
    return None


def in_force(schedules: list[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    """The schedules not ended by ``today``; all of them when every one has ended (how often
    the service ran while it ran)."""
    running = [item for item in schedules if (schedule_end(item) or today) >= today]
    return running or schedules


def sessions_per_week(schedules: list[dict[str, Any]], today: date) -> float | None:
    """Occurrences a week of a service's schedules in force (None when none can be read)."""
    counts = [schedule_sessions_per_week(item) for item in in_force(schedules, today)]
    known = [count for count in counts if count is not None]
    if not known or sum(known) <= 0:
        return None
    return round(min(sum(known), MAX_SESSIONS_PER_WEEK), 4)


def running_dates(schedules: list[dict[str, Any]]) -> tuple[date | None, date | None]:
    """When the service started and ended by its schedules: the earliest start when every
    schedule gives one, and the latest end when every schedule gives one (else open)."""
    if not schedules:
        return None, None
    starts = [schedule_start(item) for item in schedules]
    ends = [schedule_end(item) for item in schedules]
    start = min(starts) if all(starts) else None  # type: ignore[type-var]
    end = max(ends) if all(ends) else None  # type: ignore[type-var]
    if start is not None and end is not None and end < start:
        end = None  # an end before the start says nothing the loader could keep
    return start, end

"""Working days for request deadlines: 15 working days (《个人信息保护法》第五十条 asks for a
timely answer; 15 working days is the platform's promise).

A working day is Monday to Friday unless it is a public holiday, plus the weekend days the State
Council moves work to (调休上班). The national calendar below comes from the State Council's
notices (国办发明电〔2024〕12号 for 2025, the notice of 4 November 2025 for 2026). The operator
adds later years, or local days, without a release through the settings file:

    [extra]
    privacy_holidays = ["2027-01-01"]
    privacy_workdays = ["2027-02-06"]

Dates are the organisation's local dates (Asia/Shanghai).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

DEADLINE_WORKING_DAYS = 15
LOCAL_ZONE = ZoneInfo("Asia/Shanghai")


def _days(first: str, last: str) -> set[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return {start + timedelta(days=offset) for offset in range((end - start).days + 1)}


NATIONAL_HOLIDAYS: frozenset[date] = frozenset(
    # 2025
    _days("2025-01-01", "2025-01-01")
    | _days("2025-01-28", "2025-02-04")
    | _days("2025-04-04", "2025-04-06")
    | _days("2025-05-01", "2025-05-05")
    | _days("2025-05-31", "2025-06-02")
    | _days("2025-10-01", "2025-10-08")
    # 2026
    | _days("2026-01-01", "2026-01-03")
    | _days("2026-02-15", "2026-02-23")
    | _days("2026-04-04", "2026-04-06")
    | _days("2026-05-01", "2026-05-05")
    | _days("2026-06-19", "2026-06-21")
    | _days("2026-09-25", "2026-09-27")
    | _days("2026-10-01", "2026-10-07")
)

# Weekend days that are working days (调休上班).
NATIONAL_WORKDAYS: frozenset[date] = frozenset(
    date.fromisoformat(day)
    for day in (
        "2025-01-26",
        "2025-02-08",
        "2025-04-27",
        "2025-09-28",
        "2025-10-11",
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    )
)


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[date] = NATIONAL_HOLIDAYS
    workdays: frozenset[date] = NATIONAL_WORKDAYS

    @classmethod
    def from_settings(cls, extra: Mapping[str, Any]) -> WorkCalendar:
        """The national calendar plus the operator's `privacy_holidays` and `privacy_workdays`."""
        return cls(
            NATIONAL_HOLIDAYS | _parse(extra.get("privacy_holidays", ())),
            NATIONAL_WORKDAYS | _parse(extra.get("privacy_workdays", ())),
        )

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: date, count: int) -> date:
        """The `count`th working day after `start` (`start` itself does not count)."""
        day = start
        remaining = count
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end`; negative when `end` is earlier."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(
            1 for offset in range(1, (end - start).days + 1) if self.is_working_day(start + timedelta(offset))
        )


def _parse(values: Iterable[str]) -> frozenset[date]:
    return frozenset(date.fromisoformat(str(value)) for value in values)


def local_date(moment: datetime) -> date:
    return moment.astimezone(LOCAL_ZONE).date()


@dataclass(frozen=True)
class Deadline:
    due_on: date
    working_days_left: int  # 0: due today; negative: working days overdue
    overdue: bool


def deadline_of(calendar: WorkCalendar, due_on: date, today: date, *, still_open: bool) -> Deadline:
    left = calendar.working_days_between(today, due_on)
    return Deadline(due_on, left, still_open and today > due_on)

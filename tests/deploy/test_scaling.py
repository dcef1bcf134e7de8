"""The scaling and shutdown numbers: what deploy/README.md's table says is what the production
overlay deploys; the month-start cron windows, evaluated the way KEDA evaluates them, contain
the real window (last working day before the month to the third working day of it) every month
for fifty years, and the draw-day windows contain every draw day the audit timetable gives
(``audit.cycles.domain.timetable.draw_day``) over the same fifty years; the pod's termination grace period covers the preStop sleep, uvicorn's drain and
the consumers' grace with a margin."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from audit.cycles.domain.timetable import Month, draw_day
from shared.calendar import is_working_day, last_working_day_before

ROOT = Path(__file__).resolve().parents[2]
WINDOW_TRIGGERS = ("month-start", "month-start-february-march")
DRAW_TRIGGERS = ("draw-day-20th", "draw-day-21st", "draw-day-23rd", "draw-day-24th")
YEARS = range(2025, 2075)
#: Pre-scaling starts this early on the last working day, and lasts until this late on the third.
WORKDAY_START, WORKDAY_END = 6, 20
#: No window may run longer than this (the approximation's cost).
MAX_WINDOW = timedelta(days=13)
MAX_DRAW_WINDOW = timedelta(days=8)
#: The draw runs at the scheduler's first pass of the draw day (from midnight, local time) and its
#: allocations follow within the day: the window must be open from before midnight to this hour.
DRAW_END = 20


# --- the README's table against the production overlay --------------------------------------------


def _audit(rendered: dict[str, Any]) -> dict[str, Any]:
    return dict(rendered["production"].get("ScaledObject", "audit")["spec"])


def test_the_scaled_object_matches_the_readme(rendered: dict[str, Any], documented_numbers: dict[str, str]) -> None:
    spec = _audit(rendered)
    triggers = {t["name"]: t for t in spec["triggers"]}
    backlog = triggers["allocation-backlog"]["metadata"]
    assert backlog["queueName"] == documented_numbers["audit.queue"]
    assert backlog["value"] == documented_numbers["audit.backlog_per_replica"]
    assert str(spec["minReplicaCount"]) == documented_numbers["audit.min_replicas"]
    assert str(spec["maxReplicaCount"]) == documented_numbers["audit.max_replicas"]
    assert triggers["cpu"]["metadata"]["value"] == documented_numbers["audit.cpu_utilisation"]
    for name in (*WINDOW_TRIGGERS, *DRAW_TRIGGERS):
        cron = triggers[name]["metadata"]
        assert cron["start"] == documented_numbers[f"audit.window.{name}.start"]
        assert cron["end"] == documented_numbers[f"audit.window.{name}.end"]
        assert cron["desiredReplicas"] == documented_numbers["audit.window_replicas"]
        assert cron["timezone"] == documented_numbers["audit.window_timezone"]


def test_the_cpu_autoscalers_match_the_readme(rendered: dict[str, Any], documented_numbers: dict[str, str]) -> None:
    def documented(key: str) -> tuple[int, int, int]:
        match = re.fullmatch(r"(\d+)-(\d+) @ (\d+)", documented_numbers[key])
        assert match, key
        low, high, cpu = match.groups()
        return int(low), int(high), int(cpu)

    for service, key in (("gateway", "hpa.gateway"), ("signoff", "hpa.services"), ("resolution", "hpa.services"), ("notify", "hpa.services")):
        spec = rendered["production"].get("HorizontalPodAutoscaler", service)["spec"]
        cpu = spec["metrics"][0]["resource"]["target"]["averageUtilization"]
        assert (spec["minReplicas"], spec["maxReplicas"], cpu) == documented(key), service


def test_the_grace_period_covers_the_whole_shutdown_and_matches_the_readme(rendered: dict[str, Any], documented_numbers: dict[str, str]) -> None:
    uvicorn = _uvicorn_graceful_timeout()
    assert uvicorn == int(documented_numbers["grace.uvicorn_s"])
    for service in ("gateway", "signoff", "resolution", "audit", "notify"):
        production = rendered["production"]
        pod = production.get("Deployment", service)["spec"]["template"]["spec"]
        termination = pod["terminationGracePeriodSeconds"]
        pre_stop = int(production.container(service)["lifecycle"]["preStop"]["exec"]["command"][1])
        shutdown_grace = float(production.environment(service)["SHUTDOWN_GRACE_S"])
        assert termination == int(documented_numbers["grace.termination_s"])
        assert pre_stop == int(documented_numbers["grace.pre_stop_s"])
        assert shutdown_grace == float(documented_numbers["grace.shutdown_grace_s"])
        # SIGTERM comes after the preStop hook; uvicorn drains HTTP, then the consumers get their
        # grace; a margin is left for closing connections before SIGKILL.
        assert termination >= pre_stop + uvicorn + shutdown_grace + 5, service


def _uvicorn_graceful_timeout() -> int:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    [cmd] = [line for line in dockerfile.splitlines() if line.startswith("CMD ")]
    match = re.search(r"--timeout-graceful-shutdown (\d+)", cmd)
    assert match, "the image's uvicorn command sets --timeout-graceful-shutdown"
    return int(match.group(1))


# --- KEDA's cron rule, modelled ---------------------------------------------------------------------


@dataclass(frozen=True)
class Cron:
    """A five-field cron expression of numbers, ranges, lists and ``*`` (what our triggers use)."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int] | None  # None: "*"

    @classmethod
    def parse(cls, expression: str) -> Cron:
        fields = expression.split()
        assert len(fields) == 5, expression
        bounds = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)]

        def values(field: str, low: int, high: int) -> frozenset[int]:
            if field == "*":
                return frozenset(range(low, high + 1))
            found: set[int] = set()
            for part in field.split(","):
                first, _, last = part.partition("-")
                found.update(range(int(first), int(last or first) + 1))
            assert found and min(found) >= low and max(found) <= high, expression
            return frozenset(found)

        parsed = [values(f, *b) for f, b in zip(fields, bounds, strict=True)]
        return cls(parsed[0], parsed[1], parsed[2], parsed[3], None if fields[4] == "*" else parsed[4])

    def firings(self, start: date, end: date) -> Iterator[datetime]:
        day = start
        while day <= end:
            weekday = (day.weekday() + 1) % 7  # cron: 0 = Sunday
            if day.month in self.months and day.day in self.days and (self.weekdays is None or weekday in self.weekdays):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        yield datetime(day.year, day.month, day.day, hour, minute)
            day += timedelta(days=1)


def active_windows(start: str, end: str, first: date, last: date) -> list[tuple[datetime, datetime]]:
    """When a KEDA cron trigger is active, in local time: at any moment it is active iff its next
    ``end`` firing comes no later than its next ``start`` firing (KEDA's cron scaler). So each
    window opens at the last start firing before an end firing and closes at the last end firing
    before the next start firing."""
    events = sorted([(t, "start") for t in Cron.parse(start).firings(first, last)] + [(t, "end") for t in Cron.parse(end).firings(first, last)])
    windows: list[tuple[datetime, datetime]] = []
    opened: datetime | None = None
    for index, (moment, kind) in enumerate(events):
        following = events[index + 1][1] if index + 1 < len(events) else None
        if kind == "start" and following == "end":
            opened = moment
        elif kind == "end" and following != "end" and opened is not None:
            windows.append((opened, moment))
            opened = None
    return windows


def third_working_day(first: date) -> date:
    day, count = first, 0
    while True:
        if is_working_day(day):
            count += 1
            if count == 3:
                return day
        day += timedelta(days=1)


def true_windows() -> Iterator[tuple[datetime, datetime]]:
    for year in YEARS:
        for month in range(1, 13):
            first = date(year, month, 1)
            begin = last_working_day_before(first)
            finish = third_working_day(first)
            yield (datetime.combine(begin, datetime.min.time()).replace(hour=WORKDAY_START),
                   datetime.combine(finish, datetime.min.time()).replace(hour=WORKDAY_END))


def test_the_model_follows_keda_rule_for_multi_day_expressions() -> None:
    """Why the README warns against ``0 6 28-31 * *``: the window starts on the last of those
    days, not the first; and an end that fires in months without a start opens a long window."""
    [window] = active_windows("0 6 28-31 * *", "0 20 3 * *", date(2025, 5, 1), date(2025, 6, 20))
    assert window == (datetime(2025, 5, 31, 6), datetime(2025, 6, 3, 20)), "31 May 2025 is a Saturday: too late"
    windows = active_windows("0 6 26 2 *", "0 20 7 * *", date(2025, 1, 1), date(2025, 6, 30))
    assert (datetime(2025, 3, 7, 20), datetime(2025, 4, 7, 20)) not in windows
    assert windows[0] == (datetime(2025, 2, 26, 6), datetime(2025, 6, 7, 20)), "end in every month: active for months"


def _windows(rendered: dict[str, Any], names: tuple[str, ...]) -> list[tuple[datetime, datetime]]:
    triggers = {t["name"]: t["metadata"] for t in _audit(rendered)["triggers"]}
    windows: list[tuple[datetime, datetime]] = []
    for name in names:
        windows += active_windows(triggers[name]["start"], triggers[name]["end"], date(YEARS[0] - 1, 12, 1), date(YEARS[-1] + 1, 1, 31))
    return sorted(windows)


@pytest.fixture(scope="module")
def deployed_windows(rendered: dict[str, Any]) -> list[tuple[datetime, datetime]]:
    return _windows(rendered, WINDOW_TRIGGERS)


@pytest.fixture(scope="module")
def draw_windows(rendered: dict[str, Any]) -> list[tuple[datetime, datetime]]:
    return _windows(rendered, DRAW_TRIGGERS)


def draw_days() -> Iterator[tuple[datetime, datetime]]:
    """From the midnight that starts each month's draw day to the end of its allocations."""
    for year in YEARS:
        for month in range(1, 13):
            day = draw_day(Month(year, month))
            yield datetime.combine(day, datetime.min.time()), datetime.combine(day, datetime.min.time()).replace(hour=DRAW_END)


def test_the_draw_day_windows_contain_every_draw_day_for_fifty_years(draw_windows: list[tuple[datetime, datetime]]) -> None:
    uncovered = [(begin, finish) for begin, finish in draw_days() if not any(start < begin and finish <= end for start, end in draw_windows)]
    assert not uncovered, f"draw day not pre-scaled: {uncovered[:5]}"


def test_the_draw_day_windows_are_short_and_one_a_month(draw_windows: list[tuple[datetime, datetime]]) -> None:
    longest = max(end - start for start, end in draw_windows)
    assert longest <= MAX_DRAW_WINDOW, f"a draw-day window of {longest}"
    assert len([w for w in draw_windows if w[0].year == 2030]) == 12, "one window a month"


def test_a_draw_day_outside_its_window_is_caught(draw_windows: list[tuple[datetime, datetime]]) -> None:
    """The check above can fail: a draw a working day earlier than the timetable's (six working
    days before the month) falls outside some month's window."""
    earlier = [datetime.combine(draw_day(Month(y, m), 6), datetime.min.time()) for y in YEARS for m in range(1, 13)]
    assert any(not any(start < day < end for start, end in draw_windows) for day in earlier)


def test_the_month_start_windows_contain_every_real_window_for_fifty_years(deployed_windows: list[tuple[datetime, datetime]]) -> None:
    uncovered = [
        (begin, finish) for begin, finish in true_windows()
        if not any(start <= begin and finish <= end for start, end in deployed_windows)
    ]
    assert not uncovered, f"not pre-scaled: {uncovered[:5]}"


def test_the_month_start_windows_are_not_much_longer_than_needed(deployed_windows: list[tuple[datetime, datetime]]) -> None:
    longest = max(end - start for start, end in deployed_windows)
    assert longest <= MAX_WINDOW, f"a window of {longest}"
    per_year = len([w for w in deployed_windows if w[0].year == 2030])
    assert per_year == 12, "one window a month"

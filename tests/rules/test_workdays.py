"""Working-day arithmetic on the official PRC calendar (D15, DT-06 examples of analysis §8)."""

from datetime import date

import chinese_calendar
import pytest

from app.rules.workdays import OfficialCalendar, WorkdayResult, exceptions_from, weekend_only

KNOWN_YEARS = frozenset({2021, 2022, 2023})


def _official_calendar() -> OfficialCalendar:
    days = [(d, False) for d in chinese_calendar.constants.holidays if d.year in KNOWN_YEARS]
    days += [(d, True) for d in chinese_calendar.constants.workdays if d.year in KNOWN_YEARS]
    return OfficialCalendar(exceptions_from(days), KNOWN_YEARS)


@pytest.fixture(scope="module")
def official() -> OfficialCalendar:
    return _official_calendar()


def d(text: str) -> date:
    return date.fromisoformat(text)


def test_exceptions_keep_only_days_that_differ_from_monday_to_friday():
    exceptions = exceptions_from(
        [
            (d("2022-10-03"), False),  # Monday off: kept
            (d("2022-10-01"), False),  # Saturday off anyway: dropped
            (d("2022-10-08"), True),  # Saturday worked: kept
            (d("2022-10-10"), True),  # Monday worked anyway: dropped
        ]
    )
    assert exceptions == {d("2022-10-03"): False, d("2022-10-08"): True}


def test_official_calendar_knows_the_2022_holidays(official):
    assert not official.is_workday(d("2022-10-03"))  # National Day, a Monday
    assert official.is_workday(d("2022-10-08"))  # make-up Saturday
    assert official.is_workday(d("2022-10-09"))  # make-up Sunday
    assert not official.is_workday(d("2022-09-12"))  # Mid-Autumn, a Monday
    assert not official.is_workday(d("2022-10-15"))  # ordinary Saturday
    assert official.is_workday(d("2022-10-11"))  # ordinary Tuesday


@pytest.mark.parametrize(
    ("start", "days", "expected", "weekends_only"),
    [
        # P10: reported Thu 2022-09-29 -> earliest meeting Tue 2022-10-11 (make-up 10-08/09 count).
        ("2022-09-29", 5, "2022-10-11", "2022-10-06"),
        # P10: meeting Mon 2022-10-10 -> latest report Wed 2022-09-28.
        ("2022-10-10", -5, "2022-09-28", "2022-10-03"),
        ("2022-09-20", -5, "2022-09-13", "2022-09-13"),
        # Crossing Mid-Autumn (Sat 09-10 .. Mon 09-12).
        ("2022-09-15", -5, "2022-09-07", "2022-09-08"),
        ("2022-09-09", 1, "2022-09-13", "2022-09-12"),
        # P07: meeting Tue 2022-12-20 -> latest filing Tue 2022-12-13.
        ("2022-12-20", -5, "2022-12-13", "2022-12-13"),
        # D14: correction deadline of 10 working days from Thu 2022-09-29.
        ("2022-09-29", 10, "2022-10-18", "2022-10-13"),
        # Spring Festival 2023 (01-21..27) with make-up Sat 01-28 / Sun 01-29.
        ("2023-01-20", 1, "2023-01-28", "2023-01-23"),
        # Ordinary weeks are the same under both calendars.
        ("2022-11-18", 1, "2022-11-21", "2022-11-21"),
        ("2022-11-21", -1, "2022-11-18", "2022-11-18"),
    ],
)
def test_add_working_days(official, start, days, expected, weekends_only):
    result = official.add_working_days(d(start), days)
    assert result == WorkdayResult(d(expected), provisional=False)
    # The same arithmetic without the holiday data gives a different answer where a holiday is crossed.
    assert weekend_only().add_working_days(d(start), days).date == d(weekends_only)


@pytest.mark.parametrize("start", ["2022-10-01", "2022-10-10", "2030-06-15"])
def test_zero_days_returns_the_same_date(official, start):
    result = official.add_working_days(d(start), 0)
    assert result.date == d(start)


def test_start_itself_is_never_counted(official):
    # Monday 2022-10-10 is a working day, yet +1 is the next one.
    assert official.add_working_days(d("2022-10-10"), 1).date == d("2022-10-11")
    # Starting on a holiday: the first working day after it.
    assert official.add_working_days(d("2022-10-03"), 1).date == d("2022-10-08")


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # Into 2024 (not entered): 2024-01-01 is New Year's Day, but only weekends are known there.
        ("2023-12-29", 1, "2024-01-01"),
        # Wholly inside 2030: weekends-only fallback (Fri -> next Fri).
        ("2030-01-04", 5, "2030-01-11"),
        ("2030-10-01", 1, "2030-10-02"),  # National Day 2030 not known: a plain Wednesday
        # Backwards into 2020.
        ("2021-01-04", -1, "2020-12-31"),
    ],
)
def test_unknown_year_is_provisional_with_weekend_fallback(official, start, days, expected):
    result = official.add_working_days(d(start), days)
    assert result.date == d(expected)
    assert result.provisional is True


def test_known_years_are_not_provisional(official):
    assert official.add_working_days(d("2021-01-04"), 200).provisional is False
    # Ending on the last day of a known year, not stepping into the next.
    result = official.add_working_days(d("2023-12-28"), 1)
    assert result == WorkdayResult(d("2023-12-29"), provisional=False)


def test_weekend_only_calendar_is_always_provisional():
    assert weekend_only().add_working_days(d("2022-10-10"), 1).provisional is True


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2022-09-29", "2022-10-11", 5),
        ("2022-09-30", "2022-10-07", 0),  # the whole National Day week
        ("2022-10-07", "2022-10-08", 1),  # make-up Saturday counts
        ("2022-10-11", "2022-09-29", -5),
        ("2022-10-10", "2022-10-10", 0),
        ("2022-12-13", "2022-12-20", 5),
    ],
)
def test_working_days_between(official, start, end, expected):
    assert official.working_days_between(d(start), d(end)) == expected


@pytest.mark.parametrize(
    ("start", "days"), [("2022-09-29", 5), ("2022-10-10", -5), ("2023-01-20", 7), ("2022-02-28", 23)]
)
def test_between_inverts_add(official, start, days):
    end = official.add_working_days(d(start), days).date
    assert official.working_days_between(d(start), end) == days


def _counted_day_by_day(calendar: OfficialCalendar, start: date, end: date) -> int:
    sign, (low, high) = (1, (start, end)) if start <= end else (-1, (end, start))
    return sign * sum(1 for n in range(1, (high - low).days + 1)
                      if calendar.is_workday(date.fromordinal(low.toordinal() + n)))


def test_working_days_between_matches_counting_day_by_day(official):
    import random

    draw = random.Random(20221001)
    first, last = d("2019-01-01").toordinal(), d("2026-12-31").toordinal()
    spans = [(d("2022-09-30"), d("2022-10-10")), (d("2022-10-01"), d("2022-10-01")),  # National Day, make-ups
             (d("2023-01-20"), d("2023-01-30")), (d("2024-12-31"), d("2019-01-01"))]
    spans += [(date.fromordinal(draw.randint(first, last)), date.fromordinal(draw.randint(first, last)))
              for _ in range(300)]
    for start, end in spans:
        assert official.working_days_between(start, end) == _counted_day_by_day(official, start, end), (start, end)
    # An entry that repeats the Mon–Fri rule changes nothing.
    plain = OfficialCalendar({d("2022-10-10"): True, d("2022-10-08"): False}, frozenset({2022}))
    assert plain.working_days_between(d("2022-10-07"), d("2022-10-14")) == 5

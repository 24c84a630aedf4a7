"""Graduate initial determination rules outside the DMN tables: batches (D10), levels, month counting."""

from datetime import date, datetime

import pytest

from app import clock
from app.rules.dates import add_years, as_date, whole_months
from app.rules.graduate import batch_for, batch_opening, level_at_most, level_rank, levels_up_to
from app.rules.script_helpers import build_helpers
from app.rules.title import CITY_HR, county_hr
from app.rules.workdays import weekend_only


@pytest.mark.parametrize(
    ("submitted", "batch"),
    [
        ("2022-01-01", "2022-02"),
        ("2022-01-31", "2022-02"),
        ("2022-02-01", "2022-02"),
        ("2022-02-10", "2022-02"),  # cut-off day is inclusive
        ("2022-02-11", "2022-05"),  # after the cut-off: next batch
        ("2022-03-15", "2022-05"),
        ("2022-04-15", "2022-05"),  # P09 (a)
        ("2022-05-10", "2022-05"),
        ("2022-05-11", "2022-08"),
        ("2022-06-30", "2022-08"),
        ("2022-07-15", "2022-08"),  # P08 (a), P09 (b)
        ("2022-08-10", "2022-08"),
        ("2022-08-11", "2022-11"),
        ("2022-10-31", "2022-11"),
        ("2022-11-10", "2022-11"),
        ("2022-11-11", "2023-02"),  # November after the cut-off: February of the next year
        ("2022-11-30", "2023-02"),
        ("2022-12-01", "2023-02"),
        ("2022-12-20", "2023-02"),  # P08 (b)
        ("2023-01-10", "2023-02"),  # P08 (c)
    ],
)
def test_batch_for_default_cutoff(submitted, batch):
    assert batch_for(submitted) == batch
    assert batch_for(date.fromisoformat(submitted)) == batch


@pytest.mark.parametrize(
    ("submitted", "cutoff", "batch"),
    [
        ("2022-05-12", 15, "2022-05"),
        ("2022-05-15", 15, "2022-05"),
        ("2022-05-16", 15, "2022-08"),
        ("2022-05-06", 5, "2022-08"),
        ("2022-11-06", 5, "2023-02"),
        ("2022-08-31", 31, "2022-08"),
    ],
)
def test_batch_for_configured_cutoff(submitted, cutoff, batch):
    assert batch_for(submitted, cutoff) == batch


def test_batch_for_accepts_a_timestamp_string():
    assert batch_for("2022-08-11T09:30:00+08:00") == "2022-11"


@pytest.mark.parametrize(
    ("batch", "cutoff", "opening"),
    [
        ("2022-02", 10, date(2022, 2, 10)),
        ("2022-05", 10, date(2022, 5, 10)),
        ("2022-08", 10, date(2022, 8, 10)),
        ("2023-02", 10, date(2023, 2, 10)),
        ("2022-11", 20, date(2022, 11, 20)),
    ],
)
def test_batch_opening(batch, cutoff, opening):
    assert batch_opening(batch, cutoff) == opening


@pytest.mark.parametrize("batch", ["2022-01", "2022-07", "2022-12"])
def test_batch_opening_refuses_non_batch_months(batch):
    with pytest.raises(ValueError, match="批次月份"):
        batch_opening(batch)


@pytest.mark.parametrize(
    "submitted", ["2022-02-10", "2022-02-11", "2022-07-15", "2022-11-11", "2022-12-31", "2023-01-10"]
)
def test_batch_never_opens_before_the_cutoff_of_its_month(submitted):
    batch = batch_for(submitted)
    opening = batch_opening(batch)
    assert opening.month in (2, 5, 8, 11)
    # Submitted on or before the opening day of its batch, never a whole batch later.
    assert as_date(submitted) <= opening
    assert (opening - as_date(submitted)).days < 100


@pytest.mark.parametrize(
    ("level", "rank"), [(None, 0), ("", 0), ("员级", 1), ("助理级", 2), ("中级", 3)]
)
def test_level_rank(level, rank):
    assert level_rank(level) == rank


@pytest.mark.parametrize("level", ["高级", "副高级", "initial"])
def test_level_rank_refuses_unknown_levels(level):
    with pytest.raises(ValueError, match="未知级别"):
        level_rank(level)


@pytest.mark.parametrize(
    ("level", "ceiling", "granted"),
    [
        ("员级", "中级", True),
        ("助理级", "中级", True),
        ("中级", "中级", True),
        ("中级", "助理级", False),  # P08 (a)
        ("助理级", "员级", False),  # P09 (a)
        ("助理级", "助理级", True),  # P09 (b)
        ("员级", None, False),  # not eligible at all
        (None, "中级", False),  # nothing requested
        ("", "", False),
    ],
)
def test_level_at_most(level, ceiling, granted):
    assert level_at_most(level, ceiling) is granted


@pytest.mark.parametrize(
    ("ceiling", "levels"),
    [
        (None, []),
        ("", []),
        ("员级", ["员级"]),
        ("助理级", ["员级", "助理级"]),
        ("中级", ["员级", "助理级", "中级"]),
    ],
)
def test_levels_up_to(ceiling, levels):
    assert levels_up_to(ceiling) == levels


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        # P08: employed since 2020-07-01 (degree 2020-06-30).
        ("2020-07-01", "2022-07-15", 24),
        ("2020-07-01", "2022-12-20", 29),
        ("2020-07-01", "2023-01-10", 30),
        # P09: employed since 2019-07-01.
        ("2019-07-01", "2022-04-15", 33),
        ("2019-07-01", "2022-07-15", 36),
        ("2019-07-01", "2022-07-01", 36),  # the same day-of-month completes the month
        ("2019-07-01", "2022-06-30", 35),
        # Before the degree: 2018-01-01 up to (not including) 2018-07-01.
        ("2018-01-01", "2018-07-01", 6),
        ("2022-07-15", "2022-07-15", 0),
        ("2022-07-15", "2022-08-14", 0),
        ("2022-07-15", "2022-08-15", 1),
        ("2022-07-15", "2021-07-15", 0),  # end before start
        # Month ends.
        ("2022-01-31", "2022-02-28", 1),
        ("2022-01-31", "2022-02-27", 0),
        ("2022-01-30", "2022-02-28", 1),
        ("2024-01-31", "2024-02-29", 1),
        ("2024-01-31", "2024-02-28", 0),
        ("2022-03-31", "2022-04-30", 1),
        ("2022-03-31", "2022-05-30", 1),
        ("2022-03-31", "2022-05-31", 2),
        ("2022-08-31", "2023-02-28", 6),
        ("2020-02-29", "2021-02-28", 12),
        ("2021-12-15", "2022-01-15", 1),  # across the year end
    ],
)
def test_whole_months(start, end, months):
    assert whole_months(start, end) == months
    assert whole_months(date.fromisoformat(start), date.fromisoformat(end)) == months


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [
        ("2020-02-29", 1, "2021-02-28"),
        ("2020-02-29", 4, "2024-02-29"),
        ("2020-02-29", 3, "2023-02-28"),
        ("2024-02-29", -1, "2023-02-28"),
        ("2019-03-01", 3, "2022-03-01"),
        ("2017-06-30", 5, "2022-06-30"),
    ],
)
def test_add_years(day, years, expected):
    assert add_years(day, years) == date.fromisoformat(expected)


def test_as_date():
    assert as_date("2022-07-15") == date(2022, 7, 15)
    assert as_date("2022-07-15T23:30:00+08:00") == date(2022, 7, 15)
    assert as_date(date(2022, 7, 15)) == date(2022, 7, 15)


@pytest.mark.parametrize(
    ("county", "bureau"),
    [
        ("市本级", CITY_HR),
        ("", CITY_HR),
        ("莲都区", "莲都区人力资源和社会保障局"),
        ("龙泉市", "龙泉市人力资源和社会保障局"),
    ],
)
def test_county_hr(county, bureau):
    assert county_hr(county) == bureau


@pytest.fixture
def helpers():
    yield build_helpers(weekend_only())
    clock.set_override(None)


def test_time_helpers_use_asia_shanghai(helpers):
    # 2022-08-09 16:30 UTC is already 2022-08-10 in Shanghai.
    clock.set_override(datetime.fromisoformat("2022-08-09T16:30:00+00:00"))
    assert helpers["today"]() == "2022-08-10"
    assert helpers["batch_opens_at"]("2022-08") == "2022-08-10T00:00:00+08:00"
    assert helpers["end_of_day"]("2022-10-18") == "2022-10-19T00:00:00+08:00"
    assert helpers["start_of_day"]("2022-10-18") == "2022-10-18T00:00:00+08:00"
    assert helpers["graduate_batch"]("2022-11-11") == "2023-02"
    assert helpers["add_working_days"]("2022-09-29", 5) == "2022-10-06"
    assert helpers["whole_months"]("2019-07-01", "2022-07-15") == 36


def test_batch_helpers_follow_the_configured_cutoff():
    h = build_helpers(weekend_only(), batch_cutoff_day=15)
    assert h["graduate_batch"]("2022-05-15") == "2022-05"
    assert h["graduate_batch"]("2022-05-16") == "2022-08"
    assert h["batch_opens_at"]("2022-05") == "2022-05-15T00:00:00+08:00"

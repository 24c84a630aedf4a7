"""DT-07 `authority_resolution` (with D1): the decision table of the review_session model, evaluated
through the rules service as the API does. Who supervises, is filed with, publishes, and issues the
委托评审函 for each level and location."""

from __future__ import annotations

import pytest

from app.rules.title import CITY_HR, LISHUI_COUNTIES
from app.services import rules
from app.services.errors import FormInvalid

LIANDU_HR = "莲都区人力资源和社会保障局"


def authority_resolution(level: str, location: str) -> dict:
    return rules.evaluate("authority_resolution", {"committee_level": level, "committee_location": location})


@pytest.mark.parametrize(
    ("level", "location", "supervising", "filing", "publishing"),
    [
        ("初", "莲都区", LIANDU_HR, None, LIANDU_HR),  # row 1
        ("中", "莲都区", LIANDU_HR, CITY_HR, LIANDU_HR),  # row 2, P01
        ("中", "龙泉市", "龙泉市人力资源和社会保障局", CITY_HR, "龙泉市人力资源和社会保障局"),  # row 3
        ("高", "景宁畲族自治县", "景宁畲族自治县人力资源和社会保障局", CITY_HR, "景宁畲族自治县人力资源和社会保障局"),
        ("初", "青田县", "青田县人力资源和社会保障局", None, "青田县人力资源和社会保障局"),
        ("中", "市本级", CITY_HR, None, CITY_HR),  # row 4: P03, P05, P10; P06 by D1
        ("高", "市本级", CITY_HR, None, CITY_HR),
        ("初", "市本级", CITY_HR, None, CITY_HR),
    ],
)
def test_authority_resolution(ctx, level, location, supervising, filing, publishing):
    assert authority_resolution(level, location) == {
        "supervising_hr": supervising,
        "filing_hr": filing,
        "publishing_hr": publishing,
        "letter_issuer": CITY_HR,  # row 5: P03's 委托评审函
    }


@pytest.mark.parametrize("county", LISHUI_COUNTIES)
def test_every_lishui_county_has_its_bureau(ctx, county):
    assert authority_resolution("中", county)["supervising_hr"] == f"{county}人力资源和社会保障局"


@pytest.mark.parametrize(("level", "location"), [("正高", "杭州市"), ("初级", "杭州市")])
def test_authority_resolution_unknown_values(ctx, level, location):
    with pytest.raises(FormInvalid) as info:
        authority_resolution(level, location)
    assert set(info.value.fields) == {"committee_level", "committee_location"}

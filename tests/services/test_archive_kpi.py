"""DT-05 / D8: the 5× performance-archive KPI per committee, competent department and employer (O1–O3)."""

from __future__ import annotations

import pytest
from kpi_world import (
    CITY_HR,
    COMMITTEE_A,
    COMMITTEE_B,
    DEPT_D,
    EMPLOYER_A,
    EMPLOYER_B,
    EMPLOYER_C,
    EMPLOYER_X,
    LIANDU_HR,
    YEAR,
    build,
    county_manager,
)

from app.services import archive_kpi
from app.services.errors import NotAllowed


def by_name(rows: list[archive_kpi.Row]) -> dict[str, archive_kpi.Row]:
    return {r.name: r for r in rows}


def figures(row: archive_kpi.Row) -> tuple:
    return row.applicants, row.archives, row.status, row.ratio, row.shortfall


@pytest.fixture()
def world(ctx):
    return build()


def test_o1_o3_per_committee_department_and_employer(world):
    rows = archive_kpi.kpi(YEAR)
    committees = by_name(rows["committees"])
    assert figures(committees[COMMITTEE_A]) == (12, 58, "NON_COMPLIANT", 4.83, 2)  # O1
    assert figures(committees[COMMITTEE_B]) == (10, 50, "COMPLIANT", 5.0, 0)  # O2, the boundary
    employers = by_name(rows["employers"])
    assert figures(employers[EMPLOYER_C]) == (0, 3, "NOT_APPLICABLE", None, 0)  # O3
    assert figures(employers[EMPLOYER_A]) == (12, 58, "NON_COMPLIANT", 4.83, 2)
    assert figures(employers[EMPLOYER_B]) == (10, 50, "COMPLIANT", 5.0, 0)
    # X's only application was refused at routing: no applicant, and its staff are not committee A's.
    assert figures(employers[EMPLOYER_X]) == (0, 4, "NOT_APPLICABLE", None, 0)
    departments = by_name(rows["departments"])
    assert figures(departments[DEPT_D]) == (12, 62, "COMPLIANT", 5.16, 0)  # the staff of A and X
    assert figures(departments[CITY_HR]) == (10, 50, "COMPLIANT", 5.0, 0)  # for B, which has no department
    assert figures(departments[LIANDU_HR]) == (0, 3, "NOT_APPLICABLE", None, 0)  # for C


def test_rows_sorted_by_shortfall_and_every_planned_committee_listed(world):
    rows = archive_kpi.kpi(YEAR)
    assert rows["committees"][0].name == COMMITTEE_A
    planned = by_name(rows["committees"])
    assert figures(planned["丽水市林业工程技术人员中级专业技术职务任职资格评审委员会"]) == (0, 0, "NOT_APPLICABLE", None, 0)
    # Employers and departments with neither applicants nor archives are left out.
    assert "丽水市莲都区示范中学" not in by_name(rows["employers"])
    assert "莲都区教育局" not in by_name(rows["departments"])


def test_other_years_and_unaudited_archives_do_not_count(world):
    rows = archive_kpi.kpi(YEAR - 1)
    committees = by_name(rows["committees"])
    # One 2021 application; in 2021 the archives audited on 2021-12-31 23:30 (Shanghai) and on
    # 2021-12-20 qualify, and the one updated on 2021-11-02 (audited in 2022).
    assert figures(committees[COMMITTEE_A])[:2] == (1, 3)
    assert COMMITTEE_B not in committees  # no scope in 2021, no applicants
    later = by_name(archive_kpi.kpi(YEAR + 1)["employers"])
    assert figures(later[EMPLOYER_A]) == (0, 2, "NOT_APPLICABLE", None, 0)


def test_county_manager_and_county_hr_see_their_county(world, user):
    for viewer in (county_manager(), user("liandu_hr")):
        rows = archive_kpi.kpi_for(viewer, YEAR)
        assert {COMMITTEE_A, "莲都区中小学教师中级专业技术职务任职资格评审委员会"} <= set(by_name(rows["committees"]))
        assert all(r.county == "莲都区" for level in rows.values() for r in level)
        assert set(by_name(rows["departments"])) == {DEPT_D, LIANDU_HR}
        assert set(by_name(rows["employers"])) == {EMPLOYER_A, EMPLOYER_C, EMPLOYER_X}
    for viewer in ("manager", "city_hr", "admin"):
        assert by_name(archive_kpi.kpi_for(user(viewer), YEAR)["employers"]).keys() >= {EMPLOYER_A, EMPLOYER_B}


@pytest.mark.parametrize("username", ["school_hr", "liandu_edu", "teacher1", "edu_office"])
def test_others_may_not_see_it(world, user, username):
    with pytest.raises(NotAllowed):
        archive_kpi.kpi_for(user(username), YEAR)

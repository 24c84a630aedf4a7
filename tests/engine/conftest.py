"""Fixtures for engine tests: the bundled graduate model compiled on the official calendar,
a recording certificate service, a frozen clock and a driver that round-trips the saved
state after every step."""

import json
from datetime import datetime
from pathlib import Path

import chinese_calendar
import pytest

from app import clock
from app.engine import Case, CompiledModel, Runtime, compile_model, read_model_folder
from app.rules.script_helpers import build_helpers
from app.rules.workdays import OfficialCalendar, exceptions_from

ROOT = Path(__file__).resolve().parents[2]

MODEL_DIR = ROOT / "bpmn" / "graduate_initial_determination"
FORMS_DIR = ROOT / "forms"
KNOWN_YEARS = frozenset({2021, 2022, 2023})


def official_calendar() -> OfficialCalendar:
    days = [(d, False) for d in chinese_calendar.constants.holidays if d.year in KNOWN_YEARS]
    days += [(d, True) for d in chinese_calendar.constants.workdays if d.year in KNOWN_YEARS]
    return OfficialCalendar(exceptions_from(days), KNOWN_YEARS)


def instant(text: str) -> datetime:
    """An ISO timestamp; without an offset it is read as Asia/Shanghai."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=clock.SHANGHAI)


@pytest.fixture(autouse=True)
def _reset_clock():
    yield
    clock.set_override(None)


@pytest.fixture(scope="session")
def helpers():
    return build_helpers(official_calendar())


@pytest.fixture(scope="session")
def bundled_files_master() -> dict[str, str]:
    return read_model_folder(MODEL_DIR, FORMS_DIR)


@pytest.fixture
def bundled_files(bundled_files_master) -> dict[str, str]:
    """A fresh copy of every file of the bundled model, for tests that tamper with one."""
    return dict(bundled_files_master)


@pytest.fixture(scope="session")
def model(helpers, bundled_files_master) -> CompiledModel:
    return compile_model(bundled_files_master, helpers, Runtime(helpers).evaluate)


@pytest.fixture
def compile_files(helpers):
    def _compile(files):
        return compile_model(files, helpers, Runtime(helpers).evaluate)

    return _compile


@pytest.fixture
def certificates() -> list[tuple[str, dict, dict]]:
    return []


@pytest.fixture
def runtime(helpers, certificates) -> Runtime:
    def issue(operation, params, context):
        certificates.append((operation, dict(params), dict(context)))
        return {"number": f"LS2022CD{len(certificates):06d}"}

    return Runtime(helpers, issue)


def _p08(**overrides) -> dict:
    """林若溪: 硕士 2020-06-30, 6 months of related work before the degree, 市本级 institution."""
    data = {
        "applicant_name": "林若溪",
        "education": "硕士",
        "graduation_date": "2020-06-30",
        "work_start_date": "2020-07-01",
        "months_pre_degree": 6,
        "specialty": "农业技术推广",
        "requested_level": "中级",
        "employer_org": "丽水市农业科学研究院",
        "unit_county": "市本级",
        "self_managed": False,
        "correction_working_days": 10,
    }
    data.update(overrides)
    return data


def _p09(**overrides) -> dict:
    """何俊: 大专 2019-06-30, related work since 2019-07-01, a 莲都区 private company."""
    data = {
        "applicant_name": "何俊",
        "education": "大专",
        "graduation_date": "2019-06-30",
        "work_start_date": "2019-07-01",
        "months_pre_degree": 0,
        "specialty": "机械制造",
        "requested_level": "助理级",
        "employer_org": "丽水市莲都区云峰机械有限公司",
        "unit_county": "莲都区",
        "self_managed": False,
        "correction_working_days": 10,
    }
    data.update(overrides)
    return data


@pytest.fixture
def p08():
    """Factory for P08's application data; keyword arguments override fields."""
    return _p08


@pytest.fixture
def p09():
    """Factory for P09's application data; keyword arguments override fields."""
    return _p09


class Driver:
    """Runs a case step by step; after each step the state is saved as JSON and reloaded."""

    def __init__(self, runtime: Runtime, model: CompiledModel):
        self.runtime = runtime
        self.model = model
        self.round_trips = 0

    @staticmethod
    def at(text: str) -> None:
        clock.set_override(instant(text))

    def ready(self, case: Case) -> list[str]:
        return sorted(t.bpmn_id for t in case.ready_user_tasks())

    def roundtrip(self, case: Case) -> Case:
        state = json.loads(json.dumps(self.runtime.dump(case), ensure_ascii=False))
        restored = self.runtime.restore(self.model, state)
        before = sorted((t.guid, t.bpmn_id, t.lane) for t in case.ready_user_tasks())
        after = sorted((t.guid, t.bpmn_id, t.lane) for t in restored.ready_user_tasks())
        assert after == before
        assert restored.status() == case.status()
        assert restored.next_timer_at() == case.next_timer_at()
        assert restored.data() == case.data()
        self.round_trips += 1
        return restored

    def start(self, data: dict, when: str) -> Case:
        self.at(when)
        return self.roundtrip(self.runtime.start(self.model, data))

    def complete(self, case: Case, bpmn_id: str, data: dict, when: str | None = None) -> Case:
        if when:
            self.at(when)
        matching = [t for t in case.ready_user_tasks() if t.bpmn_id == bpmn_id]
        assert len(matching) == 1, f"{bpmn_id} not ready; ready: {self.ready(case)}"
        case.complete(matching[0].guid, data)
        return self.roundtrip(case)

    def fire(self, case: Case, when: str) -> Case:
        self.at(when)
        case.fire_timers()
        return self.roundtrip(case)


@pytest.fixture
def driver(runtime, model) -> Driver:
    return Driver(runtime, model)

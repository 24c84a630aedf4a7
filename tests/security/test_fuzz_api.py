"""Fuzzing API v1: schemathesis over every operation of GET /api/v1/openapi.json, as demo users of
three roles; no 5xx, every answer as documented (status codes, content type, schema, Allow on a
405, authentication enforced). Then, by hand, what the generator does not reach: malformed JSON,
wrong types in the start and task forms, huge bodies, and every kind of text in the HTML forms
(login, a start form, the objection form of a 公示); last, the bugs the fuzzing found, pinned.

How this meets pytest: the schema is loaded when the module is imported (schemathesis makes one
test item per operation at collection), from an app of the same factory that serves only the spec;
every request then goes to the test's own app (``app=ctx``), on the fresh seeded database of the
function-scoped ``ctx`` fixture. Fixtures are set up once per item, not per example, so one
(operation, user) item runs all its examples on one database: mutating examples may change data for
the later examples of the same item, never for another item. ``test_the_running_app_serves_this_spec``
checks that the spec fuzzed is the one the real app serves.

Generation is deterministic (derandomized, no example database): the same cases on every run of
the same code. For a deeper look by hand, FUZZ_SEED picks other cases and FUZZ_EXAMPLES more of
them (FUZZ_SEED=7 FUZZ_EXAMPLES=100 pytest tests/security/test_fuzz_api.py -k test_api).
"""

from __future__ import annotations

import io
import os
import re
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
import schemathesis
from api_client import Api
from hypothesis import HealthCheck, settings
from openpyxl import Workbook
from page_client import PASSWORD, Browser, csrf_from
from sqlalchemy import select

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.models import Objection, PublicNotice, User
from app.services import ce
from app.services.errors import FormInvalid
from app.web.openapi import spec

USERS = ["admin", "city_hr", "teacher1"]  # system administrator, HR bureau staff, applicant
# per (operation, user) in the fuzzing phase; the coverage phase adds its own (boundaries, each kind of
# wrong value), a dozen to a hundred per operation
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES") or 12)
SEED = os.environ.get("FUZZ_SEED")

# Operations that answer 422 to requests the OpenAPI schema cannot tell from good ones: the start
# and task forms are defined per BPMN model (app/services/forms.py), usernames, series and files are
# checked against data (users, committees, file signatures), and some rules span fields (a date range's
# ends, general_public <= public, a reset's target task). For these, 422 counts as an acceptable answer
# to schema-valid data; everywhere else a schema-valid request must not be refused (400 or 422).
SEMANTIC_422 = [
    "POST /api/v1/process-instances",
    "GET /api/v1/process-instances",
    "POST /api/v1/process-instances/{id}/comments",
    *(f"POST /api/v1/process-instances/{{id}}/{action}" for action in ("reset", "correct", "suspend", "resume",
                                                                        "terminate")),
    "POST /api/v1/tasks/{id}/complete",
    "POST /api/v1/tasks/{id}/delegate",
    "POST /api/v1/messages",
    "POST /api/v1/rules/{rule_id}/evaluate",
    "PUT /api/v1/clock",
    "PUT /api/v1/ce-records",
    "POST /api/v1/documents",
    "POST /api/v1/process-models/validate",
]
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "429"]

CONFIG = schemathesis.Config.from_dict({
    **({"seed": int(SEED)} if SEED else {}),
    "generation": {
        "max-examples": MAX_EXAMPLES,
        "deterministic": True,
        "database": "none",
        # The app refuses a NUL character in any parameter or body on purpose, with 400, before
        # anything is parsed (app/web/errors.py: PostgreSQL cannot store one). JSON Schema cannot say
        # "no NUL anywhere", so generated NULs would make correct refusals look like rejected valid
        # data; NULs are sent by hand below instead.
        "allow-x00": False,
        # The Authorization header is passed as each demo user's (below); the ignored_auth check
        # still sends every successful request again without and with a bad token.
        "with-security-parameters": False,
    },
    "checks": {
        # 5xx is never acceptable: not even for data the schema forbids.
        "not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx"]},
        "positive_data_acceptance": {"expected-statuses": POSITIVE_STATUSES},
        "negative_data_rejection": {"expected-statuses": ["400", "401", "403", "404", "405", "409", "413", "415",
                                                          "422", "429"]},
    },
    "operations": [
        *({"include-name": name, "checks": {"positive_data_acceptance": {
            "expected-statuses": [*POSITIVE_STATUSES, "422"]}}} for name in SEMANTIC_422),
        # /process-models/validate lies under /process-models/{id}: OPTIONS on it rightly advertises
        # GET too (GET /process-models/validate asks for a model whose id is "validate" and answers
        # 404), which the spec documents on the template path, not on this one.
        {"include-name": "POST /api/v1/process-models/validate",
         "checks": {"allow_header_conformance": {"enabled": False}}},
    ],
})


class _SpecOnly(TestConfig):
    """Serves /api/v1/openapi.json at collection; no request reaches its (empty, in-memory) database."""

    SQLALCHEMY_DATABASE_URI = "sqlite://"
    CLOCK_OVERRIDE = False


schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", create_app(_SpecOnly), config=CONFIG)
EXAMPLES: Counter[tuple[str, str]] = Counter()  # (operation, token) → generated requests
ANSWERS: Counter[str] = Counter()  # "2xx", "4xx" → how many


@pytest.fixture(params=USERS)
def headers(ctx, request) -> dict[str, str]:
    """The demo user's bearer token, on a database with a running case: the graduate case of
    grad_liandu (instance 1, an open task for liandu_co_hr) gives ids the generator can hit."""
    client = ctx.test_client()
    started = Api(client, "grad_liandu").post("/api/v1/process-instances", json={
        "process_model": "graduate_initial_determination",
        "data": {"education": "本科", "graduation_date": "2021-06-30", "work_start_date": "2021-07-01",
                 "months_pre_degree": 0, "specialty": "计算机应用", "requested_level": "助理级"}})
    assert started.status_code == 201, started.get_json()
    return Api(client, request.param).headers


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if EXAMPLES and reporter is not None and capture is not None:
        operations = {operation for operation, _ in EXAMPLES}
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\nschemathesis: {len(operations)} operations × {len(EXAMPLES) // len(operations)} "
                                f"users, {sum(EXAMPLES.values())} generated requests "
                                f"({', '.join(f'{n} {k}' for k, n in sorted(ANSWERS.items()))})")


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_api(case, ctx, headers):
    EXAMPLES[case.operation.label, headers["Authorization"]] += 1
    response = case.call_and_validate(app=ctx, headers=headers)
    ANSWERS[f"{response.status_code // 100}xx"] += 1


def test_the_running_app_serves_this_spec(ctx):
    """What was fuzzed is what the app under test serves, every operation of it."""
    served = ctx.test_client().get("/api/v1/openapi.json")
    assert served.status_code == 200
    assert served.get_json() == schema.raw_schema == spec()
    labels = {result.ok().label for result in schema.get_all_operations()}
    assert len(labels) == sum(len(methods) for methods in spec()["paths"].values()) == 33


# -- hand-written edges: what the generator does not reach ---------------------------------------
GRAD_START = {"education": "本科", "graduation_date": "2021-06-30", "work_start_date": "2021-07-01",
              "months_pre_degree": 0, "specialty": "计算机应用", "requested_level": "助理级"}
DEEP_LIST = "[" * 10_000 + "]" * 10_000
DEEP_OBJECT = '{"a":' * 10_000 + "1" + "}" * 10_000
# Strings a client may send: every kind of character a form or JSON field can carry.
TEXTS = {
    "rtl_override": "\u202e申请人\u202d",
    "zero_width": "计\u200b算\u200c机\u200d应\ufeff用\u2060",
    "emoji_zwj": "👩\u200d👩\u200d👧\u200d👦🀄",
    "astral_cjk": "𠀀𪚥𡃁",  # 4 bytes in UTF-8 (CJK Extension B)
    "combining": "e\u0301" * 500,
    "bidi_arabic": "مرحبا بالعالم",
    "crlf": "第一行\r\n第二行\n\r",
    "markup": "<script>alert(1)</script>&amp;\"'",
    "very_long": "長" * 100_000,
    "controls": "\x01\x07\x1b[31m\x7f",
}


def error_of(response, *statuses: int) -> dict:
    """An API error in the contract's format, with one of the statuses."""
    text = response.get_data(as_text=True)[:300]
    assert response.status_code in statuses, (response.status_code, text)
    assert response.mimetype == "application/json", text
    body = response.get_json()
    assert set(body) == {"error"} and isinstance(body["error"]["code"], str) and body["error"]["message"], body
    assert set(body["error"]) <= {"code", "message", "fields"}, body
    return body["error"]


@pytest.fixture()
def case(ctx):
    """grad_liandu's graduate case with its open 用人单位考核 task (for liandu_co_hr)."""
    client = ctx.test_client()
    apis = {name: Api(client, name) for name in ("admin", "grad_liandu", "liandu_co_hr")}
    started = apis["grad_liandu"].post("/api/v1/process-instances", json={
        "process_model": "graduate_initial_determination", "data": GRAD_START})
    assert started.status_code == 201, started.get_json()
    [task] = apis["liandu_co_hr"].tasks(instance_id=started.get_json()["id"])
    return client, apis, started.get_json()["id"], task["id"]


def _json_targets(instance_id: int, task_id: int) -> list[tuple[str, str, str | None]]:
    """(method, url, user) of the operations that read a JSON body."""
    return [("POST", "/api/v1/auth/token", None),
            ("POST", "/api/v1/process-instances", "grad_liandu"),
            ("POST", f"/api/v1/tasks/{task_id}/complete", "liandu_co_hr"),
            ("POST", f"/api/v1/tasks/{task_id}/delegate", "liandu_co_hr"),
            ("POST", f"/api/v1/process-instances/{instance_id}/comments", "grad_liandu"),
            ("POST", f"/api/v1/process-instances/{instance_id}/suspend", "admin"),
            ("POST", "/api/v1/messages", "admin"),
            ("POST", "/api/v1/rules/vote_result/evaluate", "grad_liandu"),
            ("PUT", "/api/v1/clock", "admin"),
            ("PUT", "/api/v1/ce-records", "admin")]


MALFORMED = [  # (name, body bytes, content type): never JSON the API can read → 400
    ("empty", b"", "application/json"),
    ("truncated", b'{"process_model": "graduate_init', "application/json"),
    ("trailing_comma", b'{"a": 1,}', "application/json"),
    ("single_quotes", b"{'a': 1}", "application/json"),
    ("bare_words", b"process_model=graduate_initial_determination", "application/json"),
    ("json_as_text_plain", b'{"process_model": "graduate_initial_determination"}', "text/plain"),
    ("json_as_form", b'{"process_model": "graduate_initial_determination"}', "application/x-www-form-urlencoded"),
    ("null", b"null", "application/json"),
    ("not_utf8", b'{"body": "\xff\xfe\xc0\xaf"}', "application/json"),
    ("nan", b'{"body": NaN, "inputs": {"members": NaN}}', "application/json"),
    ("infinity", b'{"now": -Infinity, "data": {"months_pre_degree": Infinity}}', "application/json"),
    ("float_overflow", b'{"data": {"months_pre_degree": 1e999}, "inputs": {"yes": -1e400}}', "application/json"),
    ("lone_high_surrogate", b'{"body": "\\ud800", "reason": "\\ud800", "username": "\\ud800"}', "application/json"),
    ("lone_low_surrogate_key", b'{"\\udfff": 1, "data": {"\\udc00": "x"}}', "application/json"),
    ("deep_list", DEEP_LIST.encode(), "application/json"),
    ("deep_object", DEEP_OBJECT.encode(), "application/json"),
    ("deep_inside_data", ('{"process_model": "x", "data": {"x": ' + DEEP_LIST + "}}").encode(), "application/json"),
    ("nul_in_value", b'{"body": "a\\u0000b", "username": "\\u0000"}', "application/json"),
    ("nul_in_key", b'{"a\\u0000": 1}', "application/json"),
]
WRONG_SHAPE = [b'"a string"', b"42", b"true", b'["a", "list"]', b"[]"]  # JSON, but not an object → 422


def test_malformed_json_is_400_and_json_of_the_wrong_shape_422_everywhere(case):
    client, apis, instance_id, task_id = case
    for method, url, username in _json_targets(instance_id, task_id):
        headers = apis[username].headers if username else {}
        for name, raw, content_type in MALFORMED:
            response = client.open(url, method=method, data=raw, content_type=content_type, headers=headers)
            assert error_of(response, 400)["code"] == "bad_request", (url, name)
        # ce-records takes a list: there, an object is the wrong shape
        for raw in [b'{"username": "teacher1"}'] if url.endswith("ce-records") else WRONG_SHAPE:
            response = client.open(url, method=method, data=raw, content_type="application/json", headers=headers)
            assert error_of(response, 422)["code"] == "validation_failed", (url, raw)
    # nothing of it was stored: still the one case, its task open
    assert apis["admin"].get("/api/v1/process-instances").get_json()["total"] == 1
    assert [t["id"] for t in apis["liandu_co_hr"].tasks()] == [task_id]


WRONG_VALUES = [None, True, False, 0, -1, 1.5, 10**30, -(10**30), "", " ", "x", "²", "２０２１-０６-３０",
                "2021-13-45", "0001-01-01", "9999-12-31", [], [1], {}, {"a": 1}, *TEXTS.values()]


def test_start_takes_no_wrong_type_in_any_field(case):
    client, apis, *_ = case
    grad = apis["grad_liandu"]
    statuses: Counter[int] = Counter()
    for value in WRONG_VALUES:
        for body in ({"process_model": value, "data": GRAD_START}, {"process_model": "graduate_initial_determination",
                                                                  "data": value}):
            response = grad.post("/api/v1/process-instances", json=body)
            statuses[response.status_code] += 1
            error_of(response, 404, 422)  # no such model, or no such form (null or {}: an empty one)
        for field in [*GRAD_START, "attachments", "plan_year", "unknown_field"]:
            response = grad.post("/api/v1/process-instances", json={
                "process_model": "graduate_initial_determination", "data": {**GRAD_START, field: value}})
            statuses[response.status_code] += 1
            # An object, a list (but for the attachments) or true/false is no field's value; other
            # values are right for some fields (a number for text is its digits, "x" for none).
            refused = isinstance(value, (dict, bool)) or (isinstance(value, list) and field != "attachments")
            if response.status_code != 201 or (refused and field in GRAD_START):
                assert field in error_of(response, 422).get("fields", {}), (field, value, response.get_json())
    assert statuses[201] > 0 and statuses[422] > 0 and not any(s >= 500 for s in statuses), statuses


def test_complete_takes_no_wrong_type_in_any_field(case):
    """The 用人单位考核 form: decision (approve, return or reject), opinion (text up to 1000, required
    unless approve); null is "not given", and a number for a text field is its digits (the API and the
    page share the form's validators). No body below is a good answer, so the task stays open."""
    client, apis, instance_id, task_id = case
    hr = apis["liandu_co_hr"]
    not_text = [v for v in WRONG_VALUES if isinstance(v, (bool, list, dict))]
    bodies = [
        *({"data": v} for v in WRONG_VALUES if v not in (None, {})),
        *({"data": {"decision": v}} for v in WRONG_VALUES),
        *({"data": {"decision": "return", "opinion": v}} for v in [*not_text, TEXTS["very_long"]]),
        # no votes on this task (an unknown field that is null or false is no answer, and ignored)
        *({"data": {"decision": "approve", "votes": v}} for v in WRONG_VALUES if not (v is None or v is False)),
        *({"data": {"decision": "approve", name: "y"}} for name in [*TEXTS.values(), "²", ""]),  # no such field
        *({"data": {"decision": "approve", "votes": votes}} for votes in (
            {"1": {"yes": -1}}, {"1": {"yes": "3"}}, {"99999999999999999999": {"yes": 1}}, {"1": {"score": 1e308}})),
    ]
    for body in bodies:
        response = hr.post(f"/api/v1/tasks/{task_id}/complete", json=body)
        assert response.status_code == 422, body
        error_of(response, 422)
    [task] = hr.tasks(instance_id=instance_id)
    assert task["id"] == task_id and task["state"] == "open"


def test_twenty_megabytes_are_refused_with_413(case):
    client, apis, instance_id, _ = case
    huge = b'{"process_model": "' + b"a" * (20 * 1024 * 1024) + b'"}'
    for url, headers in (("/api/v1/process-instances", apis["grad_liandu"].headers), ("/api/v1/auth/token", {})):
        assert error_of(client.post(url, data=huge, content_type="application/json", headers=headers),
                        413)["code"] == "request_entity_too_large"
    upload = apis["grad_liandu"].upload("big.pdf", b"%PDF-1.4\n" + b"0" * (20 * 1024 * 1024))
    error_of(upload, 413)
    page = client.post("/login", data={"username": "x" * (20 * 1024 * 1024), "password": "p"})
    assert page.status_code == 413 and page.mimetype == "text/html"
    many = client.post("/login", data={f"f{i}": (io.BytesIO(b"v"), "v.txt") for i in range(2000)},
                       content_type="multipart/form-data")
    assert many.status_code == 413 and many.mimetype == "text/html"  # werkzeug's max_form_parts
    # large but within the limits: an answer, not an error page
    long_comment = apis["grad_liandu"].post(f"/api/v1/process-instances/{instance_id}/comments",
                                            json={"body": "长" * 1_000_000})
    assert "body" in error_of(long_comment, 422)["fields"]


# -- HTML forms ------------------------------------------------------------------------------------
FORM_TEXTS = {**TEXTS, "nul": "申请\x00人"}
# Percent-encoded bytes that are no UTF-8 text: a surrogate (CESU-8), an overlong "/", bytes that
# never start a character, a character cut short.
RAW_BYTES = {"lone_surrogate": "%ED%A0%80", "overlong_slash": "%C0%AF", "invalid": "%FF%FE", "cut_short": "%E4%BD",
             "surrogate_pair_as_cesu": "%ED%A0%BD%ED%B8%80"}


def page_answer(response, *statuses: int) -> str:
    """An HTML answer with one of the statuses: a page, not the 500 page, and what was typed escaped."""
    html = response.get_data(as_text=True)
    assert response.status_code in statuses, (response.status_code, html[:500])
    assert response.mimetype == "text/html" and "服务器内部错误" not in html
    assert "<script>alert(1)" not in html
    return html


def raw_form(token: str, fields: dict[str, str]) -> str:
    """A form body as bytes a client may send (values already percent-encoded)."""
    return "&".join([f"csrf_token={quote(token)}", *(f"{k}={v}" for k, v in fields.items())])


def test_login_form_refuses_or_re_renders_for_any_text(ctx):
    client = ctx.test_client()
    for name, value in FORM_TEXTS.items():
        token = csrf_from(client.get("/login").get_data(as_text=True))
        response = client.post("/login", data={"csrf_token": token, "username": value, "password": value})
        if "\x00" in value:
            assert "\\0" in page_answer(response, 400)
        else:
            assert 'name="username"' in page_answer(response, 401, 422), name
    for name, raw in RAW_BYTES.items():
        token = csrf_from(client.get("/login").get_data(as_text=True))
        response = client.post("/login", data=raw_form(token, {"username": raw, "password": raw}),
                               content_type="application/x-www-form-urlencoded")
        assert 'name="username"' in page_answer(response, 401, 422), name
    # the real password still works after all of it
    token = csrf_from(client.get("/login").get_data(as_text=True))
    ok = client.post("/login", data={"csrf_token": token, "username": "grad_city", "password": PASSWORD})
    assert ok.status_code == 302


def test_start_form_takes_any_text_or_says_what_is_wrong(ctx):
    browser = Browser(ctx, "grad_city")
    url = "/start/graduate_initial_determination"
    statuses: Counter[int] = Counter()
    for field in ("specialty", "education", "graduation_date", "months_pre_degree"):
        for name, value in FORM_TEXTS.items():
            response = browser.submit(url, {**GRAD_START, field: value})
            statuses[response.status_code] += 1
            if "\x00" in value:
                page_answer(response, 400)
            elif response.status_code != 302:  # started: the text was a good specialty
                html = page_answer(response, 422)
                assert f'class="field has-error" id="field-{field}"' in html, (field, name)
        for raw in RAW_BYTES.values():
            token = csrf_from(browser.page(url))
            fields = {**{k: quote(str(v)) for k, v in GRAD_START.items()}, field: raw}
            response = browser.client.post(url, data=raw_form(token, fields),
                                           content_type="application/x-www-form-urlencoded")
            statuses[response.status_code] += 1
            if response.status_code != 302:
                page_answer(response, 422)
    assert statuses[302] and statuses[422] and statuses[400], statuses
    # what was accepted is stored and shown as typed: 4-byte characters and all
    started = Api(ctx.test_client(), "grad_city").get("/api/v1/process-instances").get_json()["items"]
    specialties = {i["data"].get("specialty") for i in started}
    assert {TEXTS["astral_cjk"], TEXTS["emoji_zwj"], TEXTS["zero_width"]} <= specialties
    for instance in started[:3]:
        page_answer(browser.client.get(f"/instances/{instance['id']}"), 200)


def _notice_open_for_objections(app) -> int:
    """P01 周晓岚 up to the 评前公示 of 2022-08-29 (as tests/title/test_public_notices.py): its id."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "title"))
    from title_flow import Flow, build_world

    build_world()
    flow = Flow(app.test_client())
    flow.p01_accepted()
    flow.at("2022-08-22")
    sid = flow.start_session("edu_office", "2022-09-20")["id"]
    flow.at("2022-08-29")
    flow.do("edu_office", sid, "发布评前公示", {"notice_start": "2022-08-29"})
    db.session.rollback()
    return db.session.scalar(select(PublicNotice.id).where(PublicNotice.session_instance_id == sid))


def test_objection_form_takes_any_text_or_says_what_is_wrong(ctx):
    notice_id = _notice_open_for_objections(ctx)
    public = ctx.test_client()
    html = public.get(f"/notices/{notice_id}").get_data(as_text=True)
    token = csrf_from(html)
    good = {"entry": re.search(r'<option value="(\d+)">1\. 周晓岚', html).group(1), "objector_name": "张明",
            "objector_contact": "13905781234", "content": "反映该申报人的论文存在一稿多投的问题，请核实。"}
    addresses = (f"10.9.{i // 250}.{i % 250 + 1}" for i in range(10_000))  # past the per-address limits

    def post(data: dict | str, **kw):
        data = {"csrf_token": token, **data} if isinstance(data, dict) else data
        return public.post(f"/notices/{notice_id}/objections", data=data,
                           environ_base={"REMOTE_ADDR": next(addresses)}, **kw)

    statuses: Counter[int] = Counter()
    for field in ("objector_name", "objector_contact", "content", "entry"):
        for name, value in FORM_TEXTS.items():
            response = post({**good, field: value})
            statuses[response.status_code] += 1
            if "\x00" in value:
                page_answer(response, 400)
            elif response.status_code != 302:  # received: the text was a good name or content
                assert 'id="objection-form"' in page_answer(response, 422), (field, name)
        for raw in RAW_BYTES.values():
            response = post(raw_form(token, {**{k: quote(v) for k, v in good.items()}, field: raw}),
                            content_type="application/x-www-form-urlencoded")
            statuses[response.status_code] += 1
            if response.status_code != 302:
                page_answer(response, 422)
    assert statuses[302] and statuses[422] and statuses[400], statuses
    db.session.rollback()
    kept = {o.content for o in db.session.scalars(select(Objection))}
    # every text of 10–2000 characters was received as an objection's content, stored as typed
    assert {v.strip() for v in FORM_TEXTS.values() if "\x00" not in v and 10 <= len(v.strip()) <= 2000} <= kept
    assert TEXTS["astral_cjk"] not in kept  # 3 characters: too short
    # and the officials' page shows them all (escaped: page_answer)
    page_answer(Browser(ctx, "liandu_hr").client.get("/objection-reports"), 200)


# -- what the fuzzing found, pinned ----------------------------------------------------------------
def test_numbers_no_integer_column_takes_and_digits_int_cannot_read_are_4xx(case):
    """An integer column takes 32 bits on PostgreSQL, 64 on SQLite: a larger id names no row and cannot
    be bound (a 500 on one database or both). "²".isdigit() holds, but int("²") fails."""
    client, apis, instance_id, task_id = case
    admin = apis["admin"]
    for big in (2**31, 2**63, 10**30):
        for method, url in (("GET", f"/api/v1/process-instances/{big}"), ("GET", f"/api/v1/tasks/{big}"),
                            ("POST", f"/api/v1/tasks/{big}/claim"), ("GET", f"/api/v1/plans/{big}"),
                            ("GET", f"/api/v1/process-instances/{big}/events")):
            error_of(client.open(url, method=method, headers=admin.headers), 404)
        assert "instance_id" in error_of(admin.get(f"/api/v1/tasks?instance_id={big}"), 422)["fields"]
        assert "page" in error_of(admin.get(f"/api/v1/process-instances?page={big}"), 422)["fields"]
        reset = admin.post(f"/api/v1/process-instances/{instance_id}/reset", json={"reason": "核对", "task_id": big})
        assert "task_id" in error_of(reset, 422)["fields"]
        for correlation in ({"instance_id": big}, {"instance_id": str(big)}, {"instance_id": [1]}):
            error_of(admin.post("/api/v1/messages", {"name": "objection_received", "correlation": correlation}), 404)
        # a correction may hold any integer; the plan year's column holds what it can
        corrected = admin.post(f"/api/v1/process-instances/{instance_id}/correct",
                               {"reason": "核对", "data": {"plan_year": big}})
        assert corrected.status_code == 200, corrected.get_json()
        page_answer(client.get(f"/supervision/{big}"), 404)
    assert admin.get(f"/api/v1/process-instances?page={2**31 - 1}").status_code == 200
    assert admin.get(f"/api/v1/process-instances?page={-(10**30)}").status_code == 422
    assert "plan_year" in error_of(admin.get("/api/v1/process-instances?plan_year=%C2%B2"), 422)["fields"]
    for employer in (str(2**31), "99999999999999999999999", "%C2%B2%C2%B3", "１２"):
        assert admin.get(f"/api/v1/process-instances?employer={employer}").status_code == 200
    for task in ("²", "99999999999999999999", -1):
        reset = admin.post(f"/api/v1/process-instances/{instance_id}/reset", json={"reason": "核对", "task_id": task})
        assert "task_id" in error_of(reset, 422)["fields"], task

    browser = Browser(client.application, "admin")
    for url in (f"/instances/{2**31}", f"/tasks/{10**30}", f"/plans/{2**63}"):
        page_answer(browser.client.get(url), 404)
    page_answer(browser.client.get(f"/plans/1/compare?with={10**30}"), 404)
    page_answer(browser.client.get(f"/instances?page={10**30}"), 200)
    hr = Browser(client.application, "liandu_co_hr")
    page_answer(hr.client.get("/inbox?page=%C2%B2&mine_page=%C2%B9"), 200)
    refused = hr.submit("/tasks/batch-approve", {"task_id": [str(task_id), str(2**31)], "opinion": "同意"},
                        token_from="/inbox")
    page_answer(refused, 400)
    assert hr.page("/inbox").count(f'data-task-id="{task_id}"')  # still open


def test_continuing_education_and_clock_and_calendar_refuse_what_they_cannot_use(case):
    client, apis, *_ = case
    admin = apis["admin"]
    for username in ({}, [], 1, None, True):
        row = {"username": username, "year": 2022, "professional": 10, "public": 5, "general_public": 2}
        assert "0.username" in error_of(admin.put("/api/v1/ce-records", [row]), 422)["fields"]
    sheet = Workbook()
    sheet.active.append(["用户名", "年度", "专业科目", "公需科目", "一般公需科目"])
    sheet.active.append(["teacher1", "²⁰²²", "¹", "2", "1"])
    stream = io.BytesIO()
    sheet.save(stream)
    stream.seek(0)
    records = ce.read_excel(stream)
    with pytest.raises(FormInvalid):  # the superscripts are no year, and no hours
        ce.upsert(db.session.scalar(select(User).where(User.username == "admin")), records)
    db.session.rollback()
    for now in ([None, None], {}, 0, 2022, True, "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+14:00",
                "2101-06-01", "1899-06-30"):
        assert "now" in error_of(admin.put("/api/v1/clock", {"now": now}), 422)["fields"], now
    assert admin.get("/api/v1/clock").status_code == 200  # and the app still tells the time
    for date, days in (("0001-01-01", -3650), ("9999-12-31", 3650), ("0001-01-01", -1)):
        answer = admin.get(f"/api/v1/calendar/add-working-days?date={date}&days={days}")
        assert "date" in error_of(answer, 422)["fields"]


def test_a_405_says_which_methods_are_allowed(case):
    client, apis, *_ = case
    for method, url in (("DELETE", "/api/v1/me"), ("PATCH", "/api/v1/process-instances"), ("TRACE", "/api/v1/clock")):
        response = client.open(url, method=method, headers=apis["admin"].headers)
        error_of(response, 405)
        assert "GET" in response.headers["Allow"], (url, response.headers.get("Allow"))
    page = client.delete("/login")
    assert page.status_code == 405 and page.mimetype == "text/html" and "POST" in page.headers["Allow"]

"""Web hardening: headers, cookies, sessions, redirects, CSRF, passwords, logs."""

from __future__ import annotations

import logging
import re

import pytest
from api_client import Api
from click.testing import CliRunner
from page_client import PASSWORD, Browser, csrf_from
from sqlalchemy import select

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.models import ApiToken, Event, User
from app.services import auth

STRONG = "Lishui-Review-2027"


def _cookie(response, name: str = "session") -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}="))


def test_pages_and_api_carry_the_security_headers(ctx):
    browser = Browser(ctx, "city_hr")
    response = browser.client.get("/inbox")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-eval" not in policy and "script-src 'self' 'unsafe-inline'" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers  # plain http in development

    api = Api(ctx.test_client(), "city_hr").get("/api/v1/tasks")
    assert api.headers["Cache-Control"] == "no-store" and "Content-Security-Policy" in api.headers


def test_no_page_runs_inline_script(ctx):
    """The policy forbids inline code, so no page may depend on it: only JSON data blocks."""
    browser = Browser(ctx, "admin")
    for url in ("/inbox", "/instances", "/models", "/dashboard", "/plans", "/login", "/notices"):
        html = browser.client.get(url).get_data(as_text=True)
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (url, tag)
        assert not re.search(r"\son[a-z]+=\"", html), url


def test_session_cookie_is_httponly_and_lax_and_secure_behind_tls(app, ctx):
    login = app.test_client().get("/login")
    cookie = _cookie(login)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie

    class Production(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        SESSION_COOKIE_SECURE = True

    secure = create_app(Production)
    client = secure.test_client()
    page = client.get("/login", base_url="https://localhost")
    response = client.post("/login", base_url="https://localhost", headers={"Referer": "https://localhost/login"}, data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "username": "city_hr", "password": PASSWORD})
    assert response.status_code == 302
    assert "Secure" in _cookie(response) and "HttpOnly" in _cookie(response)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    with secure.app_context():
        db.session.remove()


def test_login_starts_a_fresh_session_and_logout_ends_every_copy(app, ctx):
    client = app.test_client()
    page = client.get("/login")
    before = client.get_cookie("session").value
    client.post("/login", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                "username": "city_hr", "password": PASSWORD})
    after = client.get_cookie("session").value
    assert after != before

    planted = app.test_client()  # an attacker who fixed the pre-login cookie gets no session
    planted.set_cookie("session", before)
    assert planted.get("/inbox").status_code == 302

    stolen = app.test_client()  # a copy of the logged-in cookie works until logout...
    stolen.set_cookie("session", after)
    assert stolen.get("/inbox").status_code == 200
    inbox = client.get("/inbox").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": csrf_from(inbox)}).status_code == 302
    assert stolen.get("/inbox").status_code == 302  # ...and not after it


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example/",
                                    "\\\\evil.example", "/\tevil", "javascript:alert(1)", "evil.example"])
def test_login_never_redirects_off_site(app, ctx, target):
    client = app.test_client()
    page = client.get("/login")
    response = client.post("/login", query_string={"next": target}, data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "username": "city_hr", "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/inbox"


def test_login_follows_a_local_next(app, ctx):
    client = app.test_client()
    page = client.get("/login")
    response = client.post("/login", query_string={"next": "/instances?status=open"}, data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "username": "city_hr", "password": PASSWORD})
    assert response.headers["Location"] == "/instances?status=open"


def _form_routes(app) -> list[str]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(("api.", "static")) or not (rule.methods & {"POST", "PUT", "DELETE", "PATCH"}):
            continue
        url = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", "1", rule.rule)
        routes.append(url)
    return sorted(set(routes))


def test_every_form_route_refuses_a_post_without_the_csrf_token(app, ctx):
    routes = _form_routes(app)
    assert len(routes) > 40
    browser = Browser(ctx, "admin")
    anonymous = app.test_client()
    for url in routes:
        for client in (browser.client, anonymous):
            response = client.post(url, data={"decision": "approve"})
            assert response.status_code == 400, (url, response.status_code)
            assert "CSRF" in response.get_data(as_text=True) or "令牌" in response.get_data(as_text=True), url


def test_the_api_takes_no_cookie_session(ctx):
    browser = Browser(ctx, "admin")
    response = browser.client.post("/api/v1/timers/run")
    assert response.status_code == 401


@pytest.mark.parametrize(("password", "problem"), [
    ("Short-1", "至少 10 位"), ("alllowercaseletters", "至少三类"), ("city_hr-Review-1", "用户名"),
    ("Aa1!Aa1!Aa1!", "常见或简单"), ("p@ssw0rd123", "常见或简单"),
])
def test_the_password_policy_names_each_problem(password, problem):
    assert any(problem in p for p in auth.password_problems(password, "city_hr"))


def test_the_policy_accepts_a_long_mixed_password():
    assert auth.password_problems(STRONG, "city_hr") == []
    assert auth.password_problems("demo-pass-2026", "city_hr") == []


def test_changing_the_password_renews_the_session_and_ends_tokens(app, ctx):
    browser = Browser(ctx, "city_hr")
    other = Browser(ctx, "city_hr")
    api = Api(app.test_client(), "city_hr")
    weak = browser.submit("/account/password", {"current_password": PASSWORD, "new_password": "short",
                                                "confirm_password": "short"})
    assert weak.status_code == 422 and "至少 10 位" in weak.get_data(as_text=True)
    wrong = browser.submit("/account/password", {"current_password": "nope", "new_password": STRONG,
                                                 "confirm_password": STRONG})
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.get_data(as_text=True)
    old_hash = db.session.scalar(select(User.password_hash).where(User.username == "city_hr"))

    done = browser.submit("/account/password", {"current_password": PASSWORD, "new_password": STRONG,
                                                "confirm_password": STRONG})
    assert done.status_code == 302
    assert browser.client.get("/inbox").status_code == 200  # this session goes on
    assert other.client.get("/inbox").status_code == 302  # the other one has ended
    assert api.get("/api/v1/tasks").status_code == 401
    db.session.rollback()
    user = db.session.scalar(select(User).where(User.username == "city_hr"))
    assert user.password_hash != old_hash and user.password_hash.startswith("scrypt:")
    assert STRONG not in user.password_hash
    assert db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == user.id)) is None
    event = db.session.scalar(select(Event).where(Event.type == "password_changed"))
    assert event.details == {"user": "city_hr"}
    token = app.test_client().post("/api/v1/auth/token", json={"username": "city_hr", "password": STRONG})
    assert token.status_code == 200


def test_the_set_password_command_applies_the_policy(app, ctx):
    runner = CliRunner()
    weak = runner.invoke(app.cli, ["set-password", "city_hr", "--password", "weak"])
    assert weak.exit_code != 0 and "至少 10 位" in weak.output
    ok = runner.invoke(app.cli, ["set-password", "city_hr", "--password", STRONG])
    assert ok.exit_code == 0, ok.output
    db.session.rollback()
    user = db.session.scalar(select(User).where(User.username == "city_hr"))
    assert auth.check_password_hash(user.password_hash, STRONG)


def test_logs_hold_no_password_id_number_or_phone(app, ctx, caplog):
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    client.post("/api/v1/auth/token", json={"username": "teacher1", "password": "wrong-Secret-991"})
    api = Api(client, "grad_liandu")
    api.post("/api/v1/process-instances", json={"process_model": "graduate_initial_determination", "data": {
        "education": "本科", "graduation_date": "2024-07-01", "work_start_date": "2024-07-15",
        "months_pre_degree": 0, "specialty": "软件工程", "requested_level": "助理级",
        "id_number": "33250119900101777X", "phone": "0578-7654321"}})
    api.post("/api/v1/process-instances", json={"process_model": "no_such_model", "data": {"id_number": "33250119900101777X"}})
    text = "\n".join(record.getMessage() + str(record.args or "") for record in caplog.records)
    for secret in ("wrong-Secret-991", PASSWORD, "33250119900101777X", "0578-7654321"):
        assert secret not in text


def test_login_is_throttled_per_username_after_repeated_failures(app, ctx):
    client = app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert client.post("/api/v1/auth/token", json={"username": "city_hr", "password": "guess"}).status_code == 401
    refused = client.post("/api/v1/auth/token", json={"username": "city_hr", "password": PASSWORD})
    assert refused.status_code == 429 and "登录失败次数过多" in refused.get_json()["error"]["message"]
    page = client.get("/login")
    form = client.post("/login", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                       "username": "city_hr", "password": PASSWORD})
    assert form.status_code == 429 and "登录失败次数过多" in form.get_data(as_text=True)
    assert Api(app.test_client(), "liandu_hr").get("/api/v1/me").status_code == 200  # others log in as before
    from app.models import LoginAttempt

    stored = " ".join(f"{a.username} {a.remote_addr}" for a in db.session.scalars(select(LoginAttempt)))
    assert "guess" not in stored and PASSWORD not in stored


@pytest.mark.parametrize("cause", ["sqlite", "deadlock", "serialization"])
def test_two_writers_parted_by_the_database_get_a_409_and_nothing_is_saved(app, ctx, monkeypatch, cause):
    """SQLite's write lock past its busy timeout, a PostgreSQL deadlock or serialization failure:
    the request that lost is told to try again (409, in Chinese), never an internal error."""
    import sqlite3

    import psycopg
    from sqlalchemy.exc import OperationalError

    from app.models import CaseComment
    from app.web import api as web_api

    original = {"sqlite": sqlite3.OperationalError("database is locked"),
                "deadlock": psycopg.errors.DeadlockDetected("deadlock detected"),
                "serialization": psycopg.errors.SerializationFailure("could not serialize access")}[cause]

    def collide(*args, **kwargs):
        db.session.add(CaseComment(instance_id=None, author_id=None, body="never saved", created_at=None))
        raise OperationalError("INSERT INTO case_comment ...", {}, original)

    monkeypatch.setattr(web_api, "add_comment", collide)
    api = Api(app.test_client(), "grad_liandu")
    response = api.post("/api/v1/process-instances/1/comments", json={"body": "材料已补齐"})
    assert response.status_code == 409
    assert response.get_json()["error"]["message"] == "数据正由他人同时修改，本次操作未保存，请稍后重试"
    db.session.rollback()
    assert db.session.scalar(select(CaseComment.id).where(CaseComment.body == "never saved")) is None


def test_other_database_errors_stay_internal_errors(app, ctx, monkeypatch):
    from sqlalchemy.exc import ProgrammingError

    from app.web import api as web_api

    def broken(*args, **kwargs):
        raise ProgrammingError("SELECT nope", {}, Exception("relation nope does not exist"))

    monkeypatch.setattr(web_api, "add_comment", broken)
    response = Api(app.test_client(), "grad_liandu").post("/api/v1/process-instances/1/comments", json={"body": "x"})
    assert response.status_code == 500 and "relation nope" not in response.get_data(as_text=True)

"""The access matrix, asserted cell by cell: every route × variant × principal (access_matrix.py).

Allowed: the answer is neither 401, 403 nor 404, nor a redirect to the login page, nor a 5xx (an
allowed request may still be refused for what it sends: 400, 409, 422). Denied: anonymous users
are sent to the login page (HTML) or get 401 (API); users get 403 or 404 (a resource they may not
know of). Each route runs on a fresh copy of the world; denied principals go first, so nothing an
allowed one changes decides a denial.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
from api_client import Api
from db_snapshot import capture, restore, wipe
from page_client import PASSWORD, Browser, csrf_from

from app.extensions import db, limiter

sys.path.insert(0, str(Path(__file__).resolve().parent))
import access_world  # noqa: E402
from access_matrix import ANONYMOUS, LITERALS, MATRIX, PRINCIPALS, RESOURCES, USERS  # noqa: E402

PARAM = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


def _app_routes(app) -> set[str]:
    return {f"{method} {rule.rule}" for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_route_is_in_the_matrix_and_the_matrix_names_no_other(app):
    routes = _app_routes(app)
    missing = sorted(routes - set(MATRIX))
    assert not missing, f"routes with no row in tests/security/access_matrix.py: {missing}"
    assert not sorted(set(MATRIX) - routes), "rows for routes the app no longer has"


def _cells() -> list[tuple[str, int]]:
    return [(key, n) for key, row in sorted(MATRIX.items()) for n in range(len(row.variants))]


def test_the_matrix_has_this_many_cells():
    cells = sum(len(row.variants) for row in MATRIX.values()) * len(PRINCIPALS)
    print(f"\naccess matrix: {len(MATRIX)} routes, {len(_cells())} route variants, {len(PRINCIPALS)} principals, "
          f"{cells} cells")
    assert cells >= 4000


class World:
    def __init__(self, ids: dict[str, Any], snapshot: dict, clients: dict[str, tuple[Any, dict, str]]):
        self.ids, self.snapshot, self.clients = ids, snapshot, clients


_WORLD: World | None = None


@pytest.fixture()
def world(app, ctx) -> World:
    global _WORLD
    if _WORLD is None:
        ids = access_world.build(app)
        clients = {}
        for username in USERS:  # logged in once: the sessions and tokens are part of the snapshot
            browser = Browser(app, username)
            api = Api(app.test_client(), username)
            clients[username] = (browser.client, api.headers, csrf_from(browser.page("/inbox")))
        anonymous = app.test_client()
        clients[ANONYMOUS] = (anonymous, {}, csrf_from(anonymous.get("/login").get_data(as_text=True)))
        db.session.commit()
        _WORLD = World(ids, capture(), clients)
        db.session.rollback()
    else:
        wipe()
        restore(_WORLD.snapshot)
    return _WORLD


def _url(rule: str, world: World, resource: dict[str, str]) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        key = resource.get(name) or RESOURCES.get(name)
        return str(world.ids[key]) if key else LITERALS[name]
    return PARAM.sub(value, rule)


def _call(world: World, principal: str, method: str, url: str, body: dict | None, api: bool):
    client, headers, token = world.clients[principal]
    limiter.reset()  # the same pages asked 27 times in a row would hit the public rate limits
    # Each cell starts from the principal's logged-in session: a logout or a flash message of
    # one cell must not carry over into the next.
    cookie = client.get_cookie("session")
    try:
        if method == "GET":
            return client.get(url, headers=headers if api else None)
        if api:
            payload = dict(body or {})
            if url.endswith("/auth/token"):  # a user's own credentials; the anonymous have none
                payload = {"username": principal, "password": PASSWORD if principal != ANONYMOUS else "x"}
            return client.open(url, method=method, json=payload, headers=headers)
        return client.open(url, method=method, data={"csrf_token": token, **(body or {})})
    finally:
        if cookie is not None:
            client.set_cookie("session", cookie.value)


def _verdict(response) -> str:
    status = response.status_code
    if status >= 500:
        return f"error {status}"
    # Flask-Login sends the anonymous to the login page with where they were going (next=).
    to_login = status == 302 and "/login?next=" in response.headers.get("Location", "")
    return "denied" if status in (401, 403, 404) or to_login else "allowed"


@pytest.mark.parametrize(("key", "variant"), _cells(), ids=[f"{k}#{n}" for k, n in _cells()])
def test_cell(world, key, variant):
    row = MATRIX[key]
    method, rule = key.split(" ", 1)
    chosen = row.variants[variant]
    url = _url(rule, world, chosen.resource) + (f"?{row.query}" if row.query else "")
    api = rule.startswith("/api/")
    order = sorted(PRINCIPALS, key=lambda p: p in chosen.allowed)  # the denied first
    wrong = []
    for principal in order:
        response = _call(world, principal, method, url, row.body, api)
        verdict = _verdict(response)
        expected = "allowed" if principal in chosen.allowed else "denied"
        if verdict != expected:
            wrong.append(f"{principal}: {expected}, got {response.status_code}")
    assert not wrong, f"{key} ({url}{'; ' + chosen.note if chosen.note else ''}):\n  " + "\n  ".join(wrong)

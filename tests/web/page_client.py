"""A logged-in browser session over Flask's test client: real login form, real CSRF tokens."""

from __future__ import annotations

import re
from typing import Any

PASSWORD = "demo-pass-2026"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TASK_ROW = re.compile(r'<tr data-task-name="([^"]+)" data-task-id="(\d+)">')


def csrf_from(html: str) -> str:
    match = CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


class Browser:
    def __init__(self, app, username: str):
        self.client = app.test_client()
        login = self.client.get("/login")
        assert login.status_code == 200
        response = self.client.post("/login", data={
            "csrf_token": csrf_from(login.get_data(as_text=True)), "username": username, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]

    def page(self, url: str, status: int = 200, **kw: Any) -> str:
        response = self.client.get(url, **kw)
        assert response.status_code == status, (url, response.status_code)
        return response.get_data(as_text=True)

    def submit(self, url: str, data: dict[str, Any] | None = None, *, token_from: str | None = None,
               **kw: Any):
        """POST a form as a browser would: the CSRF token comes from the page the form is on."""
        html = self.page(token_from or url)
        return self.client.post(url, data={"csrf_token": csrf_from(html), **(data or {})}, **kw)

    def inbox(self) -> dict[str, list[tuple[str, int]]]:
        """{'mine': [(name, id)], 'group': [...]} as the inbox page lists them."""
        html = self.page("/inbox")
        mine, _, group = html.partition('id="group-tasks"')
        return {
            "mine": [(n, int(i)) for n, i in TASK_ROW.findall(mine)],
            "group": [(n, int(i)) for n, i in TASK_ROW.findall(group)],
        }

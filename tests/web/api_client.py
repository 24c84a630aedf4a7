"""A small JSON API client over Flask's test client."""

from __future__ import annotations

import io
from typing import Any

PASSWORD = "demo-pass-2026"


class Api:
    def __init__(self, client, username: str):
        self.client = client
        response = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.get_json()
        self.headers = {"Authorization": f"Bearer {response.get_json()['token']}"}

    def get(self, url: str, **kw: Any):
        return self.client.get(url, headers=self.headers, **kw)

    def post(self, url: str, json: Any = None, **kw: Any):
        return self.client.post(url, json=json, headers=self.headers, **kw)

    def upload(self, name: str, content: bytes):
        """POST /api/v1/documents with one file (multipart)."""
        return self.client.post("/api/v1/documents", headers=self.headers, content_type="multipart/form-data",
                                data={"file": (io.BytesIO(content), name)})

    def put(self, url: str, json: Any = None):
        return self.client.put(url, json=json, headers=self.headers)

    def tasks(self, **params: Any) -> list[dict]:
        response = self.get("/api/v1/tasks", query_string=params)
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        return response.get_json()

    def complete(self, task_id: int, data: dict):
        return self.post(f"/api/v1/tasks/{task_id}/complete", json={"data": data})

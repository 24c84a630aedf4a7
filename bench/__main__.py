"""Benchmarks: `make bench` (python -m bench). Prints figures; asserts nothing.

1. One task completion through the REST API (Flask test client, real database): median and p90.
2. Step cost against history length: one graduate case sent back and resubmitted again and
   again; the employer's completion time and the stored state size at each round.
3. The title review: a session of 100 applicants (bench/title_review.py).
4. Annual plans: import and publish, a new year copied and compared, bulk migration (bench/plans.py).
5. The managers' dashboard over 10,000 cases: the page, an export, a heat map (bench/dashboard.py).
6. On the same cases: instance list pages, a filtered export, the reminder sweep (bench/tracking.py).
B. Issue 8's targets B1 (services against the bare library) and B3 (history) (bench/targets.py).
S. On PostgreSQL only, in a database of their own: B2 (gunicorn, 8 clients), B5 (bytes per case),
   B6 (a session of 2,000), B4 (200,000 applications), B7 (100,000 timers, two Celery workers)
   (bench/scale.py; BENCH_SCALE=0 skips them).

The database is a fresh SQLite file, or BENCH_DATABASE_URL (e.g. PostgreSQL; it is upgraded
and filled with demo data, so point it at a scratch database).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time

from app import create_app
from app.config import Config, database_url

PASSWORD = "demo-pass-2026"
START = {"education": "大专", "graduation_date": "2019-06-30", "work_start_date": "2019-07-01",
         "months_pre_degree": 0, "specialty": "机械设计", "requested_level": "员级"}


class Client:
    def __init__(self, flask_client, username: str):
        self.client = flask_client
        token = flask_client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
        self.headers = {"Authorization": f"Bearer {token.get_json()['token']}"}

    def call(self, method: str, url: str, body=None):
        response = self.client.open(url, method=method, json=body, headers=self.headers)
        if response.status_code >= 400:
            sys.exit(f"{method} {url} → {response.status_code}: {response.get_data(as_text=True)[:300]}")
        return response.get_json()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def make_app(folder: str, url: str | None = None, **extra):
    url = url or os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{folder}/bench.sqlite3"

    class BenchConfig(Config):
        APP_ENV = "bench"
        SECRET_KEY = "bench"
        CLOCK_OVERRIDE = True
        TIMER_INTERVAL = 0
        SQLALCHEMY_DATABASE_URI = database_url(url)
        DOCUMENT_DIR = f"{folder}/documents"
        LOGIN_MAX_FAILURES = 10_000

    for key, value in extra.items():
        setattr(BenchConfig, key, value)
    app = create_app(BenchConfig)
    with app.app_context():
        from app.services.bootstrap import prepare

        prepare()
    return app, url


def completion_times(app, count: int) -> list[float]:
    flask_client = app.test_client()
    grad, employer = Client(flask_client, "grad_liandu"), Client(flask_client, "liandu_co_hr")
    times = []
    for _ in range(count):
        instance = grad.call("POST", "/api/v1/process-instances",
                             {"process_model": "graduate_initial_determination", "data": START})
        task_id = instance["open_tasks"][0]["id"]
        began = time.perf_counter()
        employer.call("POST", f"/api/v1/tasks/{task_id}/complete", {"data": {"decision": "approve"}})
        times.append((time.perf_counter() - began) * 1000)
    return times


def history_rounds(app, rounds: int, report_at: set[int]) -> list[tuple[int, float, int]]:
    from app.extensions import db
    from app.models import ProcessInstance

    flask_client = app.test_client()
    grad, employer = Client(flask_client, "grad_liandu"), Client(flask_client, "liandu_co_hr")
    instance = grad.call("POST", "/api/v1/process-instances",
                         {"process_model": "graduate_initial_determination", "data": START})
    rows = []
    for n in range(1, rounds + 1):
        task_id = employer.call("GET", f"/api/v1/tasks?instance_id={instance['id']}")[0]["id"]
        began = time.perf_counter()
        employer.call("POST", f"/api/v1/tasks/{task_id}/complete",
                      {"data": {"decision": "return", "opinion": f"第 {n} 次退回：请补充材料"}})
        elapsed = (time.perf_counter() - began) * 1000
        if n in report_at:
            with app.app_context():
                state = db.session.get(ProcessInstance, instance["id"]).state
                rows.append((n, elapsed, len(json.dumps(state, ensure_ascii=False).encode())))
        revise = grad.call("GET", f"/api/v1/tasks?instance_id={instance['id']}")[0]["id"]
        grad.call("POST", f"/api/v1/tasks/{revise}/complete", {"data": START})
    return rows


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        app, url = make_app(folder)
        admin = Client(app.test_client(), "admin")
        admin.call("PUT", "/api/v1/clock", {"now": "2022-07-15T09:00:00+08:00"})
        backend = url.split(":", 1)[0]
        print(f"数据库 / database: {backend}")

        completion_times(app, 5)  # warm-up: compiled model, caches, connections
        times = completion_times(app, 40)
        print(f"\n1. 一次任务办理（API 完成用人单位考核） / one task completion through the API, n={len(times)}")
        print(f"   median {statistics.median(times):.1f} ms   p90 {percentile(times, 0.9):.1f} ms   "
              f"min {min(times):.1f} ms   max {max(times):.1f} ms")

        report_at = {1, 10, 25, 50, 100}
        rows = history_rounds(app, max(report_at), report_at)
        print("\n2. 历史长度与单步耗时（退回—重新提交循环） / step cost against history length")
        print("   round   completion ms   stored state bytes")
        for n, elapsed, size in rows:
            print(f"   {n:5d}   {elapsed:13.1f}   {size:18d}")

        from bench import title_review

        title_review.run(app, int(os.environ.get("BENCH_SESSION_SIZE", "100")))

        from bench import plans

        plans.run(app, int(os.environ.get("BENCH_MIGRATION_SIZE", "50")))

        from bench import dashboard

        dashboard.run(app, int(os.environ.get("BENCH_DASHBOARD_SIZE", "10000")))

        from bench import tracking

        tracking.run(app)

        from bench import targets

        targets.run(app)

        if os.environ.get("BENCH_SCALE", "1") != "0":
            from bench import scale

            scale.run(make_app, url, folder)


if __name__ == "__main__":
    main()

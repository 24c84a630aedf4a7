"""Issue 8's scale targets on PostgreSQL: B2 (gunicorn, 8 clients), B5 (bytes per case), B6 (a
session of 2,000), B4 (200,000 applications), B7 (100,000 timers) — bench/RESULTS.md.

They need PostgreSQL (BENCH_DATABASE_URL); they run in a database of their own, ``<name>_scale``,
dropped and created afresh, so the data they generate never mixes with other figures. B2, B6 and
B7 also need Redis (CELERY_BROKER_URL, default redis://127.0.0.1:6379/12); B6 and B7 start two
Celery workers, B2 a gunicorn. Prints figures; asserts nothing. About 25 minutes on 2 cores.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from app.extensions import db
from app.models import HumanTask, ProcessInstance, Setting, User
from app.services import instances, tasks
from bench import clone

ROOT = Path(__file__).resolve().parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
BROKER = os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/12"
START = {"education": "大专", "graduation_date": "2019-06-30", "work_start_date": "2019-07-01",
         "months_pre_degree": 0, "specialty": "机械设计", "requested_level": "员级"}


def scale_url(url: str) -> str | None:
    """A fresh database beside BENCH_DATABASE_URL's (None unless that is PostgreSQL)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        return None
    name = f"{parsed.database}_scale"
    server = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def _user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def _clear_clock() -> None:
    db.session.query(Setting).filter(Setting.key == "clock_override").delete()
    db.session.commit()


def _set_clock(value) -> None:
    """The shared clock (what clock_service.sync gives every worker)."""
    row = db.session.get(Setting, "clock_override") or Setting(key="clock_override", value={})
    row.value = {"now": value.isoformat()}
    db.session.add(row)
    db.session.commit()


# -- B7 --------------------------------------------------------------------------------------------
def _workers(url: str, count: int, folder: str) -> list[subprocess.Popen]:
    env = {**os.environ, "DATABASE_URL": url, "CELERY_BROKER_URL": BROKER, "CLOCK_OVERRIDE": "1",
           "SECRET_KEY": "bench", "APP_ENV": "bench", "DOCUMENT_DIR": f"{folder}/documents",
           "PYTHONPATH": str(ROOT)}
    celery = str(Path(sys.executable).with_name("celery"))
    return [subprocess.Popen([celery, "-A", "app.celery_app", "worker", "--pool=solo", "--loglevel=WARNING",
                              f"--hostname=bench{i}@%h", "--without-gossip", "--without-mingle"],
                             cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for i in range(count)]


def _wait_for_workers(celery_app, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(celery_app.control.ping(timeout=1.0) or []) >= count:
            return
    raise RuntimeError("Celery 工作进程未能启动")


def b7(app, url: str, folder: str, waiting: int = 100_000, due: int = 10_000) -> dict[str, float]:
    from app import background, worker
    from app.services import reminders

    with app.app_context():
        case = instances.start_instance(_user("grad_liandu"), "graduate_initial_determination", dict(START))
        task = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == case.id, HumanTask.state == "open"))
        tasks.complete_task(_user("liandu_co_hr"), task.id, {"decision": "approve"})  # waits for its batch
        template = db.session.get(ProcessInstance, case.id)
        at = template.next_timer_at
        began = time.perf_counter()
        copies = clone.copy_instance(template.id, waiting - 1, {
            "next_timer_at": f"CASE WHEN g < {due} THEN t.next_timer_at ELSE t.next_timer_at + interval '400 days' END"})
        clone.analyze()
        made = time.perf_counter() - began
        _set_clock(at + timedelta(minutes=1))
        # The earlier benchmarks' open tasks (B4's 55,000 copies) were never swept: send their
        # reminders first, as the sweeps before this one would have, so this sweep is the timers'.
        began = time.perf_counter()
        reminders.run()
        backlog = time.perf_counter() - began
        celery_app = worker.celery()
        celery_app.control.purge()
        procs = _workers(url, 2, folder)
        try:
            _wait_for_workers(celery_app, 2)
            began = time.perf_counter()
            swept = background.sweep()
            queued = time.perf_counter() - began
            left = due
            count_due = text("SELECT count(*) FROM process_instance WHERE status IN ('waiting', 'running') "
                             "AND next_timer_at <= :now")
            while left and time.perf_counter() - began < 600:
                time.sleep(0.25)
                left = db.session.execute(count_due, {"now": at + timedelta(minutes=1)}).scalar_one()
                db.session.rollback()
            elapsed = time.perf_counter() - began
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=30)
        mine = "(instance_id = :t OR instance_id BETWEEN :f AND :l)"
        ids = {"t": template.id, "f": copies.first_id, "l": copies.first_id + copies.count - 1}
        fired = db.session.execute(text(f"SELECT count(*) FROM event WHERE type = 'timer_fired' AND {mine}"),
                                   ids).scalar_one()
        twice = db.session.execute(text(
            f"SELECT count(*) FROM (SELECT instance_id FROM event WHERE type = 'timer_fired' AND {mine} "
            "GROUP BY instance_id HAVING count(*) > 1) AS x"), ids).scalar_one()
        opened = db.session.execute(text(f"SELECT count(*) FROM human_task WHERE state = 'open' AND {mine}"),
                                    ids).scalar_one()
    return {"made": made, "backlog": backlog, "batches": len(swept["timer_tasks"]), "queued": queued,
            "elapsed": elapsed,
            "left": left, "fired": fired, "twice": twice, "opened": opened, "waiting": waiting, "due": due}


# -- B5 --------------------------------------------------------------------------------------------
def _db_bytes() -> int:
    """The database's tables with their indexes and TOAST, compacted (VACUUM FULL) first."""
    db.session.commit()
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.execute(text("VACUUM FULL"))
        return int(connection.execute(text(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r'")).scalar_one())


def b5(app, count: int = 50) -> dict[str, float]:
    """``count`` title applications from submission to 材料已归入本人档案, in one session: the
    database's growth per application (the applicants' accounts and archives made beforehand)."""
    from bench import title_review

    with app.app_context():
        try:
            users = title_review._applicants(count, "b5_teacher")
            before = _db_bytes()
            cases, _ = title_review._accepted(users)
            steps = title_review.session(cases)
            title_review.finish(int(steps["id"]), cases)
            after = _db_bytes()
            done = db.session.scalar(select(func.count()).select_from(ProcessInstance).where(
                ProcessInstance.id.in_(cases), ProcessInstance.status == "completed"))
            rows = {name: db.session.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
                    for name in ("event", "human_task", "instance_checkpoint")}
        finally:
            from app import clock

            clock.set_override(None)
    return {"count": count, "completed": done, "per_case": (after - before) / count, "case": cases[0], **rows}


# -- B6 --------------------------------------------------------------------------------------------
def _settled(limit: float = 600) -> float:
    """Seconds until the workers have delivered every pending message."""
    began = time.perf_counter()
    pending = text("SELECT count(*) FROM outbox_message WHERE status = 'pending'")
    while time.perf_counter() - began < limit:
        left = db.session.execute(pending).scalar_one()
        db.session.rollback()
        if not left:
            break
        time.sleep(0.1)
    return time.perf_counter() - began


def _swept(limit: float = 600) -> float:
    """Seconds for a sweep: the workers fire every due timer and deliver what that sends."""
    from app import background, clock

    began = time.perf_counter()
    background.sweep()
    due = text("SELECT count(*) FROM process_instance WHERE status IN ('waiting', 'running') "
               "AND next_timer_at <= :now")
    while time.perf_counter() - began < limit:
        left = db.session.execute(due, {"now": clock.now()}).scalar_one()
        db.session.rollback()
        if not left:
            break
        time.sleep(0.05)
    return time.perf_counter() - began + _settled(limit)


def b6(app, url: str, folder: str, count: int = 2000) -> dict[str, float]:
    """A session of ``count`` applicants with two Celery workers delivering its messages and firing
    its timers: the office's own steps (request time), what the workers then do, the public page."""
    from app import background, clock
    from app.models import Certificate, Document
    from bench import title_review
    from bench.__main__ import percentile

    with app.app_context():
        procs = _workers(url, 2, folder)
        try:
            _wait_for_workers(app.extensions["celery"], 2)
            began = time.perf_counter()
            cases, _ = title_review._accepted(title_review._applicants(count, "b6_teacher"))
            _settled()
            made = time.perf_counter() - began
            do = title_review._do

            def at(value: str) -> None:  # this process's clock and the workers'
                title_review._at(value)
                _set_clock(clock.now())

            def written(sid: int) -> None:
                # The 评后公示 ends: a worker fires the session's timer, which writes 附件4-2, 附件4-3
                # (PDF and Excel) and the recommendation list from the recorded results.
                began = time.perf_counter()
                background.sweep()
                while time.perf_counter() - began < 600:
                    if db.session.get(ProcessInstance, sid).data.get("letter_doc_no"):
                        break
                    db.session.rollback()
                    time.sleep(0.05)

            steps = title_review.session(cases, at=at, fire=_swept, settle=_settled, end=written)
            sid, assign, assigned, votes = steps["id"], steps["assign"], steps["assigned"], steps["votes"]
            documents = steps["documents"] / 1000
            at("2023-09-08")
            do("edu_office", sid, "报送公布申请", {"decision": "approve"})
            began = time.perf_counter()
            publish = do("liandu_hr", sid, "审核并发文公布", {"decision": "approve"})
            # The publication sends session_concluded: the workers give every case its result and
            # the passed their e-certificates.
            published = time.perf_counter() - began + _settled()
            certificates = db.session.scalar(select(func.count()).select_from(Certificate).where(
                Certificate.instance_id.in_(cases)))
            lists = [(d.name, d.size) for d in db.session.scalars(select(Document).where(
                Document.instance_id == sid, Document.kind == "list_4_3"))]
            notice_id = db.session.get(ProcessInstance, sid).data.get("post_notice_id")
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=30)
        client = app.test_client()
        page = []
        for _ in range(25):
            began = time.perf_counter()
            response = client.get(f"/notices/{notice_id}")
            page.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, response.status_code
        size = len(response.data)
        clock.set_override(None)
    return {"count": count, "made": made, "assign": assign, "assigned": assigned, "votes": votes,
            "documents": documents, "publish": publish, "published": published, "certificates": certificates,
            "lists": lists, "page_median": statistics.median(page[5:]),
            "page_p95": percentile(page[5:], 0.95), "page_bytes": size}


# -- B4 --------------------------------------------------------------------------------------------
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _signed_in(app, username: str):
    """A test client signed in through the login form, as a browser is."""
    from bench.__main__ import PASSWORD

    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"csrf_token": token, "username": username, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def _timed(client, url: str, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return times


def b4(app, completed_case: int, total: int = 200_000, office_open: int = 5_000) -> dict[str, float]:
    """``total`` title applications: ``office_open`` at the committee office's 受理及资格审查, the
    rest at the unit's review, waiting for a session, or completed (copies of real cases, spread
    over counties, plan years and four years of dates, with their events and inbox rows)."""
    from app import clock
    from app.rules.title import LISHUI_COUNTIES
    from bench import title_review

    with app.app_context():
        try:
            users = title_review._applicants(3, "b4_teacher")
            title_review._at("2023-07-10")
            unit = instances.start_instance(users[0], "title_application", dict(title_review.APPLICATION)).id
            [office], _ = title_review._accepted([users[1]], office=False)
            [waiting], _ = title_review._accepted([users[2]])
        finally:
            clock.set_override(None)
        counties = " ".join(f"WHEN {i} THEN '{c}'" for i, c in enumerate(LISHUI_COUNTIES))
        shift = "((g % 1400) * interval '1 day')"
        spread = {"county": f"CASE g % {len(LISHUI_COUNTIES)} {counties} END", "plan_year": "2019 + g % 5",
                  "created_at": f"t.created_at - {shift}", "updated_at": f"t.updated_at - {shift}",
                  "completed_at": f"t.completed_at - {shift}", "task.created_at": f"t.created_at - {shift}",
                  "task.completed_at": f"t.completed_at - {shift}", "task.due_date": "t.due_date - (g % 40)"}
        rest = total - office_open
        plan = [(office, office_open - 1), (unit, rest * 15 // 100 - 1), (waiting, rest * 10 // 100 - 1)]
        plan.append((completed_case, total - sum(n + 1 for _, n in plan) - 1))
        began = time.perf_counter()
        for template, count in plan:
            clone.copy_instance(template, count, spread)
        clone.analyze()
        made = time.perf_counter() - began
        applications = db.session.scalar(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.process_id == "title_application"))
        events = db.session.execute(text("SELECT count(*) FROM event")).scalar_one()
        in_inbox = db.session.scalar(select(func.count()).select_from(HumanTask).where(
            HumanTask.state == "open", HumanTask.bpmn_id == "Task_office_check"))
    return {"applications": applications, "events": events, "in_inbox": in_inbox, "made": made, **b4_pages(app)}


def b4_pages(app) -> dict[str, float]:
    """B4's three pages, each requested by a client signed in through the login form, outside any
    app context (each request loads its user as a browser's does), on 1 August 2023."""
    from bench.__main__ import percentile

    with app.app_context():
        _set_clock(datetime(2023, 8, 1, 10, tzinfo=SHANGHAI))
    try:
        office_client, manager = _signed_in(app, "edu_office"), _signed_in(app, "manager")
        inbox = _timed(office_client, "/inbox", 25)[5:]
        listing = _timed(manager, "/manage/instances?process=title_application&county=莲都区&plan_year=2022", 25)[5:]
        dashboard = _timed(manager, "/dashboard", 6)[1:]
    finally:
        with app.app_context():
            _clear_clock()
    return {"inbox_p95": percentile(inbox, 0.95), "inbox_median": statistics.median(inbox),
            "list_p95": percentile(listing, 0.95), "list_median": statistics.median(listing),
            "dashboard_median": statistics.median(dashboard), "dashboard_max": max(dashboard)}


# -- B2 --------------------------------------------------------------------------------------------
def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _gunicorn(url: str, folder: str, port: int, workers: int) -> subprocess.Popen:
    # As in production: no settable clock (so no clock row read per request).
    env = {**os.environ, "DATABASE_URL": url, "CLOCK_OVERRIDE": "0", "SECRET_KEY": "bench", "APP_ENV": "bench",
           "DOCUMENT_DIR": f"{folder}/documents", "PYTHONPATH": str(ROOT), "CELERY_BROKER_URL": BROKER}
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    return subprocess.Popen([gunicorn, "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                             "--log-level", "warning", "app:create_app()"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by the web workers, PostgreSQL and this process (Linux /proc; {} elsewhere)."""
    if not Path("/proc/self/stat").exists():
        return {}
    tick = os.sysconf("SC_CLK_TCK")
    out = {"web": 0.0, "postgres": 0.0, "bench": 0.0}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        used = (int(fields[11]) + int(fields[12])) / tick
        if int(entry.name) == os.getpid():
            out["bench"] += used
        elif "gunicorn" in command:
            out["web"] += used
        elif command.startswith("postgres"):
            out["postgres"] += used
    return out


def _post(connection, path: str, body: dict, headers: dict[str, str]) -> tuple[int, bytes]:
    import json

    connection.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json", **headers})
    response = connection.getresponse()
    return response.status, response.read()


def b2(app, url: str, folder: str, clients: int = 8, per_client: int = 250, workers: int = 4) -> dict[str, float]:
    """Task completions through the REST API: gunicorn (``workers`` sync workers) on PostgreSQL,
    ``clients`` concurrent clients each completing its own 用人单位考核 tasks (copies of a real case)."""
    import http.client
    import json
    import threading

    from bench.__main__ import PASSWORD, percentile

    with app.app_context():
        case = instances.start_instance(_user("grad_liandu"), "graduate_initial_determination", dict(START))
        copies = clone.copy_instance(case.id, clients * per_client - 1)
        clone.analyze()
        ids = list(db.session.scalars(select(HumanTask.id).where(
            HumanTask.state == "open", HumanTask.bpmn_id == "Task_employer_assess",
            (HumanTask.instance_id == case.id) | HumanTask.instance_id.between(
                copies.first_id, copies.first_id + copies.count - 1)).order_by(HumanTask.id)))
    port = _free_port()
    server = _gunicorn(url, folder, port, workers)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status, body = _post(connection, "/api/v1/auth/token",
                                     {"username": "liandu_co_hr", "password": PASSWORD}, {})
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        headers = {"Authorization": f"Bearer {json.loads(body)['token']}"}
        latencies: list[list[float]] = [[] for _ in range(clients)]
        failures: list[int] = [0] * clients
        start = threading.Barrier(clients + 1)

        def client(n: int) -> None:
            mine = ids[n::clients]
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            start.wait()
            for task_id in mine:
                began = time.perf_counter()
                try:
                    status, _ = _post(connection, f"/api/v1/tasks/{task_id}/complete",
                                      {"data": {"decision": "approve"}}, headers)
                except (OSError, http.client.HTTPException):
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    status = 0
                latencies[n].append((time.perf_counter() - began) * 1000)
                if status != 200:
                    failures[n] += 1

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        start.wait()
        began, cpu = time.perf_counter(), _cpu_seconds()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        cpu = {kind: (used - cpu[kind]) / len(ids) * 1000 for kind, used in _cpu_seconds().items()}
    finally:
        server.terminate()
        server.wait(timeout=30)
    every = [ms for per in latencies for ms in per]
    return {"clients": clients, "workers": workers, "completions": len(every), "failed": sum(failures),
            "per_second": len(every) / elapsed, "median": statistics.median(every), "p99": percentile(every, 0.99),
            "cpu": cpu}


def run(app_factory, bench_url: str, folder: str) -> None:
    url = scale_url(bench_url)
    if url is None:
        print("\nS. 规模目标 B2、B4–B7 需要 PostgreSQL（设置 BENCH_DATABASE_URL）；本次跳过")
        return
    from bench.targets import machine

    # B5 and B4 make their cases in this process (messages delivered here and now); B6 and B7 hand
    # the work to Celery workers (the app with a broker is made last: its Celery app is the default).
    plain, _ = app_factory(folder, url)
    app, _ = app_factory(folder, url, CELERY_BROKER_URL=BROKER, PUBLIC_RATE_LIMIT="100000 per minute")
    print(f"\nS. 规模目标（{machine()}；PostgreSQL {make_url(url).database}）")
    r = b2(app, url, folder)
    print(f"   B2 REST API 办理任务（gunicorn {r['workers']} 个工作进程、PostgreSQL、{r['clients']} 个并发客户端）："
          f"{r['per_second']:.0f} 次/秒（目标 ≥ 300），中位 {r['median']:.0f} ms、p99 {r['p99']:.0f} ms（目标 ≤ 100）；"
          f"共 {r['completions']:,} 次，失败 {r['failed']}")
    if r["cpu"]:
        print(f"      每次办理的 CPU：web {r['cpu']['web']:.1f} ms、PostgreSQL {r['cpu']['postgres']:.1f} ms、"
              f"客户端 {r['cpu']['bench']:.1f} ms（两核满载上限约 {2000 / sum(r['cpu'].values()):.0f} 次/秒）")
    r5 = r = b5(plain)
    print(f"   B5 每件职称申报（从提交到材料归档，{r['count']} 件同一会次，{r['completed']} 件已办结）占用数据库 "
          f"{r['per_case'] / 1024:.1f} KB（目标 ≤ 30 KB；表、索引、TOAST，VACUUM FULL 后计）")
    r = b6(app, url, folder)
    kb = "、".join(f"{name} {size / 1024:.0f} KB" for name, size in r["lists"])
    print(f"   B6 {r['count']:,} 名申报人的评审会次（两个 Celery 工作进程）：评后公示期满，{r['documents']:.1f} s 生成"
          f"附件4-2、附件4-3（{kb}）及推荐名单，录入 {r['count']:,} 人表决结果 {r['votes'] / 1000:.1f} s（目标合计 ≤ 10 s）；"
          f"发文公布后 {r['published']:.1f} s 各案件均已读取本人结果、颁发电子证书 {r['certificates']:,} 本；"
          f"公示页 {r['page_bytes'] / 1024:.0f} KB，中位 {r['page_median']:.0f} ms、p95 {r['page_p95']:.0f} ms（目标 ≤ 200 ms）")
    print(f"      办理耗时：发布评前公示 {r['assign'] / 1000:.1f} s（{r['assigned']:.1f} s 后全部案件收到分配），"
          f"审核并发文公布 {r['publish'] / 1000:.1f} s；造数 {r['made']:.0f} s")
    r = b4(plain, r5["case"])
    print(f"   B4 {r['applications']:,} 件职称申报（事件 {r['events']:,} 条；评委会办公室待办 {r['in_inbox']:,} 件；"
          f"造数 {r['made']:.0f} s）：办公室待办首页 p95 {r['inbox_p95']:.0f} ms（中位 {r['inbox_median']:.0f}；目标 ≤ 50）；"
          f"案件列表三项筛选 p95 {r['list_p95']:.0f} ms（中位 {r['list_median']:.0f}；目标 ≤ 100）；"
          f"统计看板 {r['dashboard_median']:.0f} ms（最长 {r['dashboard_max']:.0f}；目标 ≤ 500）")
    r = b7(app, url, folder)
    print(f"   B7 {r['waiting']:,} 个实例等待定时器、{r['due']:,} 个同时到期：两个 Celery 工作进程 "
          f"{r['elapsed']:.1f} s 全部触发（目标 ≤ 60 s）；分 {r['batches']} 批入队 {r['queued']:.1f} s；"
          f"触发 {r['fired']:,} 次，重复 {r['twice']} 次，未触发 {r['left']}；新开任务 {r['opened']:,}；"
          f"造数 {r['made']:.1f} s（此前各项留下的待办先补发提醒 {r['backlog']:.0f} s）")

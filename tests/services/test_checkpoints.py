"""Packed reset checkpoints: each deflated against the previous one of its instance, chains of at
most MAX_CHAIN, rows from before migration 0009 still read and still serve as bases; the
migration back to 0008 gives every row its JSON state again."""

from __future__ import annotations

import copy
import json

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, event, select, text

from app.config import ROOT
from app.extensions import db
from app.models import HumanTask, InstanceCheckpoint, ProcessInstance, User
from app.services import checkpoints, instances, tasks

GRAD = {"education": "本科", "graduation_date": "2021-06-30", "work_start_date": "2021-07-01",
        "months_pre_degree": 0, "specialty": "农学", "requested_level": "助理级"}


def _user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def _open(case_id: int) -> HumanTask:
    return db.session.scalar(select(HumanTask).where(HumanTask.instance_id == case_id, HumanTask.state == "open"))


def _returned_again_and_again(rounds: int) -> tuple[int, dict[int, dict]]:
    """A graduate case sent back ``rounds`` times; each new task's checkpoint → the state saved then."""
    applicant, employer = _user("grad_liandu"), _user("liandu_co_hr")
    case = instances.start_instance(applicant, "graduate_initial_determination", dict(GRAD))
    expected = {}
    task = _open(case.id)
    expected[task.checkpoint_id] = copy.deepcopy(db.session.get(ProcessInstance, case.id).state)
    for n in range(rounds):
        tasks.complete_task(employer, _open(case.id).id, {"decision": "return", "opinion": f"第{n}次补正"})
        task = _open(case.id)
        expected[task.checkpoint_id] = copy.deepcopy(db.session.get(ProcessInstance, case.id).state)
        tasks.complete_task(applicant, task.id, dict(GRAD, specialty=f"农学{n}"))
        task = _open(case.id)
        expected[task.checkpoint_id] = copy.deepcopy(db.session.get(ProcessInstance, case.id).state)
    return case.id, expected


def test_every_checkpoint_reads_back_as_the_state_saved_and_chains_stay_short(ctx):
    case_id, expected = _returned_again_and_again(6)  # 13 checkpoints: chains of 8 and 5
    db.session.expire_all()
    points = list(db.session.scalars(select(InstanceCheckpoint).where(InstanceCheckpoint.instance_id == case_id)
                                     .order_by(InstanceCheckpoint.id)))
    assert [p.id for p in points] == sorted(expected)
    assert [p.depth for p in points] == [0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4]
    assert all(p.state is None and p.packed for p in points)
    assert all(p.base_id is None if p.depth == 0 else p.base_id == points[i - 1].id for i, p in enumerate(points))
    for point in points:
        assert checkpoints.state_of(point) == json.loads(json.dumps(expected[point.id]))
    # A packed delta is a fraction of the JSON it stands for.
    deltas = [len(p.packed) for p in points if p.depth > 0]
    assert max(deltas) < len(checkpoints.encode(expected[points[-1].id])) / 4


def test_a_checkpoint_from_before_0009_reads_and_serves_as_the_next_ones_base(ctx):
    applicant, employer = _user("grad_liandu"), _user("liandu_co_hr")
    case = instances.start_instance(applicant, "graduate_initial_determination", dict(GRAD))
    first = db.session.get(InstanceCheckpoint, _open(case.id).checkpoint_id)
    saved = copy.deepcopy(checkpoints.state_of(first))
    first.state, first.packed, first.depth = saved, None, 0  # as migration 0009 leaves an older row
    db.session.commit()
    tasks.complete_task(employer, _open(case.id).id, {"decision": "return", "opinion": "补正"})
    second = db.session.get(InstanceCheckpoint, _open(case.id).checkpoint_id)
    assert second.base_id == first.id and second.depth == 1
    assert checkpoints.state_of(first) == saved
    assert checkpoints.state_of(second) == json.loads(json.dumps(db.session.get(ProcessInstance, case.id).state))


def test_downgrading_0009_gives_packed_rows_their_json_state(ctx, tmp_path):
    case_id, expected = _returned_again_and_again(1)
    url = f"sqlite:///{tmp_path / 'copy.sqlite3'}"
    cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    engine = create_engine(url)
    # The copy holds the checkpoints alone (no instances for them to point at).
    event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA foreign_keys = OFF"))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
    rows = db.session.execute(select(InstanceCheckpoint.id, InstanceCheckpoint.base_id, InstanceCheckpoint.depth,
                                     InstanceCheckpoint.packed).where(InstanceCheckpoint.instance_id == case_id)
                              .order_by(InstanceCheckpoint.id)).all()
    with engine.connect() as connection:
        for row in rows:
            connection.execute(text(
                "INSERT INTO instance_checkpoint (id, instance_id, version_id, state, packed, base_id, depth, "
                "status, created_at) VALUES (:id, 1, 1, NULL, :packed, :base, :depth, 'running', "
                "'2026-12-02 00:00:00')"), {"id": row.id, "packed": row.packed, "base": row.base_id, "depth": row.depth})
        connection.commit()
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0008")
        connection.commit()
    with engine.connect() as connection:
        back = dict(connection.execute(text("SELECT id, state FROM instance_checkpoint ORDER BY id")).all())
    assert {k: json.loads(v) for k, v in back.items()} == {k: json.loads(json.dumps(v)) for k, v in expected.items()}

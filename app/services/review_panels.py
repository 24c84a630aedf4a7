"""Panels of the title-review tasks: what the person acting sees beside the form.

The vote table (`votes`) also takes input: the yes votes (and optional quantitative score) per
applicant, stored on the session's entries, never in the workflow data (a session may hold
thousands of applicants). Votes are counts: who voted how is never recorded (D13).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import MultiDict

from app import clock
from app.extensions import db
from app.models import HumanTask, Objection, ProcessInstance, SessionEntry, User
from app.rules import title
from app.services import archives, ce, documents, review_sessions
from app.services.errors import FormInvalid
from app.services.panels import panel


@panel("applicant_profile")
def applicant_profile(actor: User, task: HumanTask, data: Mapping[str, Any]) -> dict[str, Any]:
    """For the unit and the department: the archive's audit and the hours registered per year."""
    person = task.instance.starter
    years = [{"record": r, **title.ce_year_compliant(r.year, r.professional, r.public, r.general_public)}
             for r in ce.records_for(person)]
    return {"archive": archives.summary(person), "ce_years": years}


@panel("eligibility")
def eligibility(actor: User, task: HumanTask, data: Mapping[str, Any]) -> dict[str, Any]:
    return {"result": data, "archive": archives.summary(task.instance.starter)}


@panel("candidates")
def candidates(actor: User, task: HumanTask, data: Mapping[str, Any]) -> dict[str, Any]:
    waiting = review_sessions.waiting_applications(str(data.get("committee")), int(data.get("plan_year") or 0))
    return {"waiting": waiting, "entries": review_sessions.entries_of(task.instance_id)}


@panel("entries")
def entries(actor: User, task: HumanTask, data: Mapping[str, Any]) -> dict[str, Any]:
    return {"entries": review_sessions.entries_of(task.instance_id)}


@panel("readiness")
def readiness(actor: User, task: HumanTask, data: Mapping[str, Any]) -> dict[str, Any]:
    """DT-06 before the office reports: the latest report date for the planned meeting, and the
    earliest meeting a report made today allows."""
    from app.services import calendar

    lead = title.lead_time_ok(data.get("meeting_date") or clock.today(), clock.today(), "not_required",
                              calendar.official_calendar())
    return {"lead": lead, "meeting_date": data.get("meeting_date"), "today": clock.today().isoformat(),
            "entries": review_sessions.entries_of(task.instance_id)}


def ranked(session_id: int) -> dict[str, list[tuple[int, SessionEntry]]]:
    """山区26县 applicants are listed and ranked apart from the others (DT-04); within a list by the
    committee's score plus the 26-county weighting, then yes votes (equal: the 26-county one first)."""
    lists: dict[str, list[SessionEntry]] = {"single": [], "other": []}
    for entry in review_sessions.entries_of(session_id, active=True):
        lists["single" if entry.single_list else "other"].append(entry)
    def key(e: SessionEntry) -> tuple:
        return (-((e.score or 0) + e.m26_score), -(e.yes_votes or 0), not e.single_list, e.seq)
    return {name: list(enumerate(sorted(rows, key=key), start=1)) for name, rows in lists.items()}


_VOTE_KEY = re.compile(r"(yes|score)_(\d+)")


def take_votes(raw: Any) -> tuple[dict[str, Any], Any]:
    """yes_<case id> / score_<case id> from a page, or "votes": {case id: {"yes", "score"}} from the API."""
    votes: dict[int, dict[str, Any]] = {}
    if isinstance(raw, MultiDict):
        rest = MultiDict()
        for key, value in raw.items(multi=True):
            match = _VOTE_KEY.fullmatch(key)
            if match:
                votes.setdefault(int(match[2]), {})[match[1]] = value
            else:
                rest.add(key, value)
        return {"votes": votes}, rest
    if not isinstance(raw, Mapping):
        return {"votes": {}}, raw
    rest_data = dict(raw)
    given = rest_data.pop("votes", None) or {}
    if not isinstance(given, Mapping):
        raise FormInvalid("表决结果格式不正确", {"votes": ["应为对象：案件编号 → {yes, score}"]})
    for key, value in given.items():
        if not str(key).isdigit():
            raise FormInvalid("表决结果格式不正确", {"votes": [f"“{key}”不是案件编号"]})
        votes[int(key)] = dict(value) if isinstance(value, Mapping) else {"yes": value}
    return {"votes": votes}, rest_data


def _number(value: Any, integer: bool) -> float | int | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if integer and not number.is_integer():
        return None
    return int(number) if integer else number


def apply_votes(actor: User, instance: ProcessInstance, part: dict[str, Any], clean: Mapping[str, Any],
                task_data: Mapping[str, Any]) -> None:
    """Store each applicant's yes votes; every active applicant needs one when the vote is valid."""
    members, attending = int(clean.get("members") or 0), int(clean.get("attending") or 0)
    if clean.get("on_platform") != "yes" or not title.vote_result(members, attending, 0)["valid"]:
        return  # an invalid meeting records no result (A-EB1, or no quorum)
    votes: dict[int, dict[str, Any]] = part.get("votes") or {}
    active = review_sessions.entries_of(instance.id, active=True)
    known = {e.application_instance_id for e in active}
    errors: dict[str, list[str]] = {f"yes_{k}": [f"案件 {k} 不是本会次的参评人员"] for k in votes if k not in known}
    for entry in active:
        given = votes.get(entry.application_instance_id, {})
        yes = _number(given.get("yes"), integer=True)
        score = _number(given.get("score"), integer=False)
        if yes is None or not 0 <= yes <= attending:
            errors[f"yes_{entry.application_instance_id}"] = [f"{entry.name}：同意票数应为 0 到 {attending} 之间的整数"]
        if given.get("score") not in (None, "") and (score is None or not 0 <= score <= 1000):
            errors[f"score_{entry.application_instance_id}"] = [f"{entry.name}：量化评分应为 0 到 1000 之间的数"]
        if not errors:
            entry.yes_votes, entry.score, entry.updated_at = yes, score, clock.now()
    if errors:
        raise FormInvalid("表决结果有误，请按提示修改", errors)


@panel("votes", take=take_votes, apply=apply_votes)
def votes(actor: User, task: HumanTask, data: Mapping[str, Any]) -> dict[str, Any]:
    members = int(data.get("members") or 0)
    return {"lists": ranked(task.instance_id), "quorum": title.two_thirds_up(members) if members else None}


@panel("results")
def results(actor: User, task: HumanTask, data: Mapping[str, Any]) -> dict[str, Any]:
    return {"lists": ranked(task.instance_id)}


@panel("documents")
def session_documents(actor: User, task: HumanTask, data: Mapping[str, Any]) -> dict[str, Any]:
    generated = [d for d in documents.generated(task.instance) if d.kind != "superseded"]
    return {"documents": generated, "lists": ranked(task.instance_id)}


@panel("objection")
def objection(actor: User, task: HumanTask, data: Mapping[str, Any]) -> dict[str, Any]:
    """The objection as received; the objector's identity and evidence are for officials only."""
    official = actor.has_role(*documents.OFFICIAL_ROLES)
    row = db.session.get(Objection, int(data.get("objection_id") or 0))
    evidence = [doc for doc in documents.for_instance(task.instance, actor) if doc.id in (row.evidence if row else [])]
    return {"objection": row, "evidence": evidence if official else [], "official": official}

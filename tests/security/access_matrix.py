"""The access matrix: for every route of the app (HTML pages and API), who may use it.

One row per route (method and URL rule), naming the principals allowed, for the resource in
the URL (the world of access_world.py). Everyone not named is denied. Where a route's answer
depends on whose resource it is, the row has one variant per resource (a case of teacher1 at
the district school, a graduate case of grad_liandu at a private firm), each with its own set.

The sets are written out from the product's rules, not computed by the code under test:

- a case is seen by its applicant, by those who had or have a task on it (their organisation),
  by its employer's HR, by the HR bureaus of its county and of the city, by city managers and
  administrators; a committee's experts see the cases of their committee;
- a task is acted on only by holders of its role in its organisation;
- process models, drafts and migrations are for process owners and administrators; case
  tracking and statistics for managers, HR bureaus and administrators; plans for those who make
  or follow them (bureaus, departments, committee offices, owners, managers, administrators).

test_access_matrix.py turns each (route, variant, principal) into a cell and asserts it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ANONYMOUS = "anonymous"
USERS = ("admin", "owner", "manager", "city_hr", "liandu_hr", "longquan_hr", "city_edu", "liandu_edu", "city_eit",
         "edu_office", "auto_office", "expert1", "expert2", "expert3", "school_hr", "auto_hr", "institute_hr",
         "liandu_co_hr", "hospital_admin", "liandu_health", "city_health", "teacher1", "engineer1", "grad_city",
         "grad_liandu", "doctor1")
PRINCIPALS = (*USERS, ANONYMOUS)

EVERYONE = frozenset(PRINCIPALS)
LOGGED_IN = frozenset(USERS)
NOBODY: frozenset[str] = frozenset()
ADMIN = frozenset({"admin"})
MODELLERS = frozenset({"admin", "owner"})
BUREAUS = frozenset({"city_hr", "liandu_hr", "longquan_hr"})
HR = BUREAUS | ADMIN
TRACKERS = HR | {"manager"}
DEPARTMENTS = frozenset({"city_edu", "liandu_edu", "city_eit", "liandu_health", "city_health"})
OFFICES = frozenset({"edu_office", "auto_office", "hospital_admin"})  # hospital_admin runs a self-managed committee
PLAN_VIEWERS = TRACKERS | {"owner"} | DEPARTMENTS | OFFICES
EMPLOYERS = frozenset({"school_hr", "auto_hr", "institute_hr", "liandu_co_hr"})
APPLICANTS = frozenset({"teacher1", "engineer1", "grad_city", "grad_liandu", "doctor1"})
EXPERTS = frozenset({"expert1", "expert2", "expert3"})
# The city and the district of 莲都区 follow everything of theirs; 龙泉市 does not see 莲都区 cases.
CASE_VIEWERS = frozenset({"admin", "manager", "city_hr", "liandu_hr", "liandu_edu", "edu_office", "school_hr",
                          "teacher1"}) | EXPERTS
GRAD_VIEWERS = frozenset({"admin", "manager", "city_hr", "liandu_hr", "liandu_co_hr", "grad_liandu"})
GRAD_TASK_ACTORS = frozenset({"liandu_co_hr"})
# Supervising a committee's evaluation authority: the bureau above it and the city bureau.
AUTHORITY_VIEWERS = TRACKERS
LIANDU_AUTHORITY = frozenset({"admin", "manager", "city_hr", "liandu_hr"})
LIANDU_DECIDERS = frozenset({"admin", "city_hr", "liandu_hr"})
OVERSIGHT_VIEWERS = TRACKERS | DEPARTMENTS
FINDING_AUTHORS = BUREAUS | DEPARTMENTS
OBJECTION_REPORT_READERS = BUREAUS


@dataclass(frozen=True)
class Variant:
    allowed: frozenset[str]
    resource: dict[str, str] = field(default_factory=dict)  # URL parameter → world key
    note: str = ""


@dataclass(frozen=True)
class Row:
    variants: tuple[Variant, ...]
    body: dict[str, Any] | None = None  # form fields (HTML) or JSON (API) sent; {} when None
    query: str = ""

    @classmethod
    def of(cls, allowed: frozenset[str], note: str = "", **kw: Any) -> Row:
        return cls((Variant(allowed, note=note),), **kw)


def _cases(case: frozenset[str], grad: frozenset[str], **kw: Any) -> Row:
    """A case route: teacher1's title application and grad_liandu's graduate case."""
    return Row((Variant(case, {"instance_id": "case"}), Variant(grad, {"instance_id": "grad_case"})), **kw)


def _task(allowed: frozenset[str], done: frozenset[str] | None = None, **kw: Any) -> Row:
    variants = [Variant(allowed, {"task_id": "task"})]
    if done is not None:
        variants.append(Variant(done, {"task_id": "done_task"}, "a completed task of teacher1's case"))
    return Row(tuple(variants), **kw)


ADMIN_ACTION = _cases(ADMIN, ADMIN)

MATRIX: dict[str, Row] = {
    # -- public ---------------------------------------------------------------------------------
    "GET /healthz": Row.of(EVERYONE),
    "GET /static/<path:filename>": Row.of(EVERYONE),
    "GET /vendor/<path:path>": Row.of(EVERYONE),
    "GET /notices": Row.of(EVERYONE),
    "GET /notices/<int:notice_id>": Row.of(EVERYONE),
    "POST /notices/<int:notice_id>/objections": Row.of(EVERYONE),
    "GET /notices/<int:notice_id>/objections/<int:objection_id>/received": Row.of(NOBODY, note="no such objection"),
    "GET /supervision/<int:year>": Row.of(EVERYONE),
    "GET /certificates/verify": Row.of(EVERYONE),
    "GET /login": Row.of(EVERYONE),
    "POST /login": Row.of(EVERYONE),
    "GET /api/v1/openapi.json": Row.of(EVERYONE),
    "POST /api/v1/auth/token": Row.of(LOGGED_IN, note="users with their own password; the anonymous without"),
    # -- every logged-in user: their own things -------------------------------------------------
    "POST /logout": Row.of(LOGGED_IN),
    "GET /": Row.of(LOGGED_IN),
    "GET /inbox": Row.of(LOGGED_IN),
    "GET /instances": Row.of(LOGGED_IN),
    "GET /start": Row.of(LOGGED_IN),
    "GET /start/<process_id>": Row.of(LOGGED_IN),
    "POST /start/<process_id>": Row.of(APPLICANTS),
    "GET /account/password": Row.of(LOGGED_IN),
    "POST /account/password": Row.of(LOGGED_IN),
    "GET /archive": Row.of(LOGGED_IN),
    "POST /archive/achievements": Row.of(LOGGED_IN),
    "POST /archive/submit": Row.of(LOGGED_IN),
    "GET,POST /archive/achievements/<int:achievement_id>/edit": Row.of(frozenset({"teacher1"})),
    "POST /archive/achievements/<int:achievement_id>/delete": Row.of(frozenset({"teacher1"})),
    "GET /my/ce": Row.of(LOGGED_IN),
    "GET /notifications": Row.of(LOGGED_IN),
    "POST /notifications/read-all": Row.of(LOGGED_IN),
    "POST /notifications/<int:notification_id>/read": Row.of(frozenset({"teacher1"})),
    "GET /api/v1/me": Row.of(LOGGED_IN),
    "GET /api/v1/clock": Row.of(LOGGED_IN),
    "GET /api/v1/calendar/add-working-days": Row.of(LOGGED_IN),
    "GET /api/v1/process-models": Row.of(LOGGED_IN),
    "GET /api/v1/process-models/<process_id>": Row.of(LOGGED_IN),
    "GET /api/v1/process-instances": Row.of(LOGGED_IN),
    "POST /api/v1/process-instances": Row.of(APPLICANTS, body={"process_model": "graduate_initial_determination",
                                                                "data": {}}),
    "GET /api/v1/tasks": Row.of(LOGGED_IN),
    "POST /api/v1/documents": Row.of(LOGGED_IN),
    "GET /api/v1/plans": Row.of(LOGGED_IN),
    "GET /api/v1/plans/<int:year>": Row.of(LOGGED_IN),
    "POST /api/v1/rules/<rule_id>/evaluate": Row.of(LOGGED_IN),
    "POST /api/v1/messages": Row.of(LOGGED_IN, note="delivery reaches only instances the sender may see"),
    "POST /tasks/batch-approve": Row.of(LOGGED_IN, note="each chosen task is checked as a completion"),
    # -- cases ----------------------------------------------------------------------------------
    "GET /instances/<int:instance_id>": _cases(CASE_VIEWERS, GRAD_VIEWERS),
    "GET /instances/<int:instance_id>/diagram.json": _cases(CASE_VIEWERS, GRAD_VIEWERS),
    "POST /instances/<int:instance_id>/comments": _cases(CASE_VIEWERS, GRAD_VIEWERS),
    "GET /api/v1/process-instances/<int:instance_id>": _cases(CASE_VIEWERS, GRAD_VIEWERS),
    "GET /api/v1/process-instances/<int:instance_id>/events": _cases(CASE_VIEWERS, GRAD_VIEWERS),
    "GET /api/v1/process-instances/<int:instance_id>/comments": _cases(CASE_VIEWERS, GRAD_VIEWERS),
    "POST /api/v1/process-instances/<int:instance_id>/comments": _cases(CASE_VIEWERS, GRAD_VIEWERS),
    "GET,POST /instances/<int:instance_id>/admin/<action>": ADMIN_ACTION,
    "POST /api/v1/process-instances/<int:instance_id>/suspend": ADMIN_ACTION,
    "POST /api/v1/process-instances/<int:instance_id>/resume": ADMIN_ACTION,
    "POST /api/v1/process-instances/<int:instance_id>/terminate": ADMIN_ACTION,
    "POST /api/v1/process-instances/<int:instance_id>/reset": ADMIN_ACTION,
    "POST /api/v1/process-instances/<int:instance_id>/correct": ADMIN_ACTION,
    "GET /instances/<int:instance_id>/migrations": _cases(MODELLERS, MODELLERS),
    # -- tasks ----------------------------------------------------------------------------------
    "GET /tasks/<int:task_id>": _task(GRAD_VIEWERS, CASE_VIEWERS),
    "POST /tasks/<int:task_id>": _task(GRAD_TASK_ACTORS),
    "POST /tasks/<int:task_id>/claim": _task(GRAD_TASK_ACTORS),
    "POST /tasks/<int:task_id>/release": _task(GRAD_TASK_ACTORS),
    "POST /tasks/<int:task_id>/delegate": _task(GRAD_TASK_ACTORS),
    "GET /api/v1/tasks/<int:task_id>": _task(GRAD_VIEWERS, CASE_VIEWERS),
    "POST /api/v1/tasks/<int:task_id>/claim": _task(GRAD_TASK_ACTORS),
    "POST /api/v1/tasks/<int:task_id>/release": _task(GRAD_TASK_ACTORS),
    "POST /api/v1/tasks/<int:task_id>/complete": _task(GRAD_TASK_ACTORS),
    "POST /api/v1/tasks/<int:task_id>/delegate": _task(GRAD_TASK_ACTORS),
    "GET /documents/<doc_id>": Row.of(GRAD_VIEWERS),
    # -- administration of the running system ----------------------------------------------------
    "PUT /api/v1/clock": Row.of(ADMIN),
    "POST /api/v1/timers/run": Row.of(ADMIN),
    "POST /api/v1/reminders/run": Row.of(ADMIN),
    # -- continuing education and performance archives -------------------------------------------
    "GET /ce": Row.of(HR),
    "POST /ce": Row.of(HR),
    "POST /ce/import": Row.of(HR),
    "GET /ce/template.xlsx": Row.of(HR),
    "PUT /api/v1/ce-records": Row.of(HR),
    "GET /archive/audits": Row.of(EMPLOYERS | {"hospital_admin"}),
    "GET,POST /archive/audits/<int:user_id>": Row.of(frozenset({"school_hr"})),
    # -- process models (owners) -----------------------------------------------------------------
    "POST /api/v1/process-models/validate": Row.of(MODELLERS),
    "GET /models": Row.of(MODELLERS),
    "GET /models/<process_id>": Row.of(MODELLERS),
    "GET /models/<process_id>/compare": Row.of(MODELLERS),
    "POST /models/new-year": Row.of(MODELLERS),
    "GET /drafts": Row.of(MODELLERS),
    "GET /drafts/<int:draft_id>": Row.of(MODELLERS),
    "GET /drafts/<int:draft_id>/compare": Row.of(MODELLERS),
    "POST /drafts/<int:draft_id>/discard": Row.of(MODELLERS),
    "POST /drafts/<int:draft_id>/publish": Row.of(MODELLERS),
    "POST /drafts/<int:draft_id>/validate": Row.of(MODELLERS),
    "GET,POST /drafts/<int:draft_id>/file": Row.of(MODELLERS, query="name=model.json"),
    "GET /drafts/<int:draft_id>/diagram": Row.of(MODELLERS),
    "POST /drafts/<int:draft_id>/diagram": Row.of(MODELLERS),
    "GET /drafts/<int:draft_id>/decision": Row.of(MODELLERS, query="name=initial_determination_level.dmn"),
    "POST /drafts/<int:draft_id>/decision": Row.of(MODELLERS),
    "GET /drafts/<int:draft_id>/form": Row.of(MODELLERS, query="name=grad_application.schema.json"),
    "POST /drafts/<int:draft_id>/form": Row.of(MODELLERS),
    "POST /drafts/<int:draft_id>/form/preview": Row.of(MODELLERS),
    "POST /drafts/<int:draft_id>/validate.json": Row.of(MODELLERS),
    "GET /drafts/<int:draft_id>/scenarios.json": Row.of(MODELLERS),
    "POST /drafts/<int:draft_id>/scenarios/run": Row.of(MODELLERS),
    "GET /drafts/<int:draft_id>/export.zip": Row.of(MODELLERS),
    "GET /models/<process_id>/versions/<int:number>/export.zip": Row.of(MODELLERS),
    "GET,POST /models/import": Row.of(MODELLERS),
    "POST /models/<process_id>/new-draft": Row.of(MODELLERS),
    "POST /models/<process_id>/versions/<int:number>/retire": Row.of(MODELLERS),
    "POST /models/<process_id>/versions/<int:number>/reinstate": Row.of(MODELLERS),
    "GET /migrations": Row.of(MODELLERS),
    "GET,POST /models/<process_id>/migrate": Row.of(MODELLERS),
    "POST /migrations/<int:migration_id>/undo": Row.of(NOBODY, note="no such migration: 404 for owners too"),
    # -- tracking, statistics, jobs --------------------------------------------------------------
    "GET /manage/instances": Row.of(TRACKERS),
    "GET /manage/instances/export.xlsx": Row.of(TRACKERS),
    "POST /manage/instances/views": Row.of(TRACKERS),
    "GET /manage/instances/views/<int:view_id>": Row.of(frozenset({"manager"})),
    "POST /manage/instances/views/<int:view_id>/delete": Row.of(frozenset({"manager"})),
    "GET /dashboard": Row.of(TRACKERS),
    "GET /dashboard/<chart>.xlsx": Row.of(TRACKERS),
    "GET /dashboard/waiting/<process_id>": Row.of(TRACKERS),
    "GET /dashboard/waiting/<process_id>.xlsx": Row.of(TRACKERS),
    "GET /jobs/<int:job_id>": Row.of(frozenset({"manager", "admin"})),
    "GET /jobs/<int:job_id>.json": Row.of(frozenset({"manager", "admin"})),
    "GET /jobs/<int:job_id>/download": Row.of(NOBODY, note="the export has not run yet: 404 for its owner too"),
    # -- plans and the year's timeline ----------------------------------------------------------
    "GET /plans": Row.of(PLAN_VIEWERS),
    "GET /plans/<int:plan_id>": Row.of(PLAN_VIEWERS),
    "GET /plans/<int:plan_id>/compare": Row.of(PLAN_VIEWERS),
    "GET /plans/<int:plan_id>/export.csv": Row.of(PLAN_VIEWERS),
    "GET /plans/<int:plan_id>/export.xlsx": Row.of(PLAN_VIEWERS),
    "GET /years/<int:year>": Row.of(PLAN_VIEWERS),
    "GET /plans/import": Row.of(PLAN_VIEWERS),
    "POST /plans/<int:plan_id>/derive": Row.of(HR),
    "POST /plans/<int:plan_id>/publish": Row.of(frozenset({"admin", "liandu_hr"})),
    "GET,POST /plans/<int:plan_id>/entries/<int:entry_id>": Row.of(frozenset({"admin", "liandu_hr"})),
    "POST /plans/current-year": Row.of(frozenset({"admin", "owner", "city_hr"}), body={"year": "2022"}),
    "POST /years/new": Row.of(MODELLERS | HR, body={"year": "2023"}),
    "GET /plans/timeline": Row.of(TRACKERS),
    "GET /plans/<int:year>/timeline": Row.of(TRACKERS),
    "GET /plans/<int:year>/timeline.json": Row.of(TRACKERS),
    # -- supervision ----------------------------------------------------------------------------
    "GET /authority": Row.of(AUTHORITY_VIEWERS),
    "GET /authority/<int:committee_id>": Row.of(LIANDU_AUTHORITY),
    "POST /authority/<int:committee_id>": Row.of(LIANDU_DECIDERS),
    "GET /authority/documents/<doc_id>": Row.of(NOBODY, note="not an authority document: 404 for everyone"),
    "GET /oversight": Row.of(OVERSIGHT_VIEWERS),
    "GET /oversight/archive-kpi": Row.of(TRACKERS),
    "GET /oversight/archive-kpi.xlsx": Row.of(TRACKERS),
    "GET /oversight/flags": Row.of(TRACKERS),
    "POST /oversight/flags/<int:flag_id>/close": Row.of(NOBODY, note="no such flag"),
    "GET /oversight/findings": Row.of(OVERSIGHT_VIEWERS),
    "POST /oversight/findings": Row.of(FINDING_AUTHORS),
    "GET /oversight/findings/<int:finding_id>/documents/<doc_id>": Row.of(NOBODY, note="no such finding"),
    "GET /objection-reports": Row.of(OBJECTION_REPORT_READERS),
}



def _expand(rows: dict[str, Row]) -> dict[str, Row]:
    """A "GET,POST /path" row stands for both methods."""
    out: dict[str, Row] = {}
    for key, row in rows.items():
        methods, rule = key.split(" ", 1)
        for method in methods.split(","):
            out[f"{method} {rule}"] = row
    return out


MATRIX = _expand(MATRIX)
MATRIX["POST /plans/import"] = Row.of(HR)  # anyone who follows plans sees the form; bureaus import
# URL parameters that are no world resource: fixed values.
LITERALS = {"process_id": "graduate_initial_determination", "number": "1", "year": "2022",
            "rule_id": "authority_resolution", "action": "suspend", "chart": "year", "filename": "app.css",
            "path": "chart.js/dist/chart.umd.min.js", "migration_id": "999999", "flag_id": "999999",
            "finding_id": "999999", "objection_id": "999999"}
# URL parameters naming a world resource, unless a variant says otherwise.
RESOURCES = {"instance_id": "case", "task_id": "task", "doc_id": "document", "user_id": "applicant_user",
             "achievement_id": "achievement", "committee_id": "committee", "plan_id": "plan", "entry_id": "entry",
             "draft_id": "draft", "view_id": "view", "job_id": "job", "notice_id": "notice",
             "notification_id": "notification"}

"""Task panels: domain views shown beside a task's form, and the input some of them add.

A user task names its panel with the BPMN property `panel` (e.g. the eligibility results of
every rule, or the vote table of a meeting). A panel gives the page its context; a panel that
takes input (the vote per applicant) splits its part from the submitted data before the form
is validated and applies it in the completion's transaction. Submitted data is the page's form
data (a MultiDict) or the API's JSON object.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from app.models import HumanTask, ProcessInstance, User

View = Callable[[User, HumanTask, Mapping[str, Any]], dict[str, Any]]
Take = Callable[[Any], tuple[dict[str, Any], Any]]
# (actor, instance, the panel's part of the input, the form's clean data, the task's own data)
Apply = Callable[[User, ProcessInstance, dict[str, Any], Mapping[str, Any], Mapping[str, Any]], None]


@dataclass(frozen=True)
class Panel:
    name: str
    view: View
    take: Take | None = None
    apply: Apply | None = None


_PANELS: dict[str, Panel] = {}


def panel(name: str, *, take: Take | None = None, apply: Apply | None = None) -> Callable[[View], View]:
    def register(view: View) -> View:
        _PANELS[name] = Panel(name, view, take, apply)
        return view

    return register


def _load() -> None:
    from app.services import review_panels, supervision_panels  # noqa: F401  (they register their panels)


def names() -> frozenset[str]:
    _load()
    return frozenset(_PANELS)


def get(name: str | None) -> Panel | None:
    if not name:
        return None
    _load()
    return _PANELS.get(name)

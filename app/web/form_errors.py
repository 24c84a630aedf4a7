"""Putting a service's field errors back on the form that was submitted."""

from __future__ import annotations

from collections.abc import Mapping


def attach_errors(form, fields: Mapping[str, list[str]] | None, labels: Mapping[str, str] | None = None) -> list[str]:
    """Errors on the form's own fields go to them; the others are returned for the top of the page
    (prefixed with the field's label when `labels` is given)."""
    other: list[str] = []
    for name, errs in (fields or {}).items():
        if name in form._fields and name != "csrf_token":
            form[name].errors = list(errs)
        elif labels is not None:
            other.extend(f"{labels.get(name, name)}：{e}" for e in errs)
        else:
            other.extend(errs)
    return other

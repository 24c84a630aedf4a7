"""Domain errors. The web layer maps them to pages and status codes in one place."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class NotAuthenticated(DomainError):
    status, code = 401, "unauthenticated"


class NotAllowed(DomainError):
    status, code = 403, "forbidden"


class NotFound(DomainError):
    status, code = 404, "not_found"


class Conflict(DomainError):
    status, code = 409, "conflict"


class TaskAlreadyCompleted(Conflict):
    code = "task_already_completed"


class FormInvalid(DomainError):
    status, code = 422, "validation_failed"


class RuleViolation(DomainError):
    status, code = 422, "rule_violation"


class Throttled(DomainError):
    status, code = 429, "too_many_requests"


# PostgreSQL: deadlock_detected, serialization_failure, lock_not_available.
_CONTENTION_STATES = frozenset({"40P01", "40001", "55P03"})


def is_contention(exc: BaseException) -> bool:
    """Two writers at once that the database itself parted (SQLite's write lock held past its busy
    timeout, a PostgreSQL deadlock or serialization failure, a stale row version): nothing was
    saved and trying again is the answer."""
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.orm.exc import StaleDataError

    if isinstance(exc, StaleDataError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    original = exc.orig
    if getattr(original, "sqlstate", None) in _CONTENTION_STATES:
        return True
    text = str(original).lower()
    return "database is locked" in text or "database table is locked" in text

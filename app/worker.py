"""Celery, bound to the Flask app: every task runs in an app context and leaves no session behind.

`celery -A app.celery_app worker` / `beat` load app/celery_app.py, which creates the app. The web
process creates the same Celery object (create_app → init_celery) only to send tasks; with no
CELERY_BROKER_URL configured nothing is sent and the in-process fallbacks do the work.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask, current_app

from app.extensions import db


def init_celery(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                try:
                    return self.run(*args, **kwargs)
                finally:
                    db.session.remove()

    celery = Celery(app.import_name, task_cls=FlaskTask)
    celery.conf.update(
        broker_url=app.config.get("CELERY_BROKER_URL") or "memory://",
        result_backend=app.config.get("CELERY_RESULT_BACKEND"),
        task_ignore_result=not app.config.get("CELERY_RESULT_BACKEND"),
        # A task is acknowledged after it ran: a worker killed mid-task leaves it for another
        # (every task here is idempotent: fire_one, jobs._step and the sweeps re-check under locks).
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        timezone="Asia/Shanghai",
        beat_schedule={
            "sweep": {"task": "background.sweep", "schedule": float(app.config.get("TIMER_SWEEP_SECONDS") or 30)},
        },
        include=["app.background"],
    )
    celery.set_default()  # shared_task's .delay() sends through this app's broker
    app.extensions["celery"] = celery
    return celery


def enabled() -> bool:
    """Whether work goes to Celery workers (a broker is configured)."""
    return bool(current_app.config.get("CELERY_BROKER_URL"))


def celery() -> Celery:
    return current_app.extensions["celery"]

"""Work for Celery workers: the periodic sweep fans out one task per due timer and per job batch.

Each task is a service call in its own transaction(s), safe to run twice or at once on two
workers: a timer is fired under the instance lock and only while it is still due
(timers.fire_one), a job item is recorded only once (jobs._step re-checks under the job's lock),
reminders move their stage with a conditional update, the outbox marks what it delivered.
"""

from __future__ import annotations

from celery import shared_task

from app.services import clock as clock_service
from app.services import jobs, outbox, reminders, timers

JOB_BATCH = 20


@shared_task(name="background.sweep")
def sweep() -> dict[str, object]:
    """Beat: queue every due timer and unfinished job, deliver the outbox, send reminders."""
    clock_service.sync()
    fired = [fire_timer.delay(instance_id).id for instance_id in timers.due_instance_ids()]
    advanced = [advance_job.delay(job_id).id for job_id in jobs.pending_ids()]
    delivered = outbox.dispatch()
    reminded = reminders.run()
    # The queued tasks' ids: a monitor (or a test) can follow them.
    return {"timer_tasks": fired, "job_tasks": advanced, "delivered": delivered,
            "reminders": reminded["reminders"], "emails": reminded["emails_sent"]}


@shared_task(name="background.fire_timer")
def fire_timer(instance_id: int) -> bool:
    clock_service.sync()
    return timers.fire_one(instance_id)


@shared_task(name="background.advance_job")
def advance_job(job_id: int) -> dict:
    """One batch of a bulk job; queues the next batch (its task id in "next") until the job is finished."""
    clock_service.sync()
    job = jobs.advance(job_id, JOB_BATCH)
    following = None if jobs.finished(job) else advance_job.delay(job_id).id
    return {**jobs.progress(job), "next": following}


def start_job(job_id: int) -> str | None:
    """After the job's row is committed: hand it to a worker; returns the task id (None: no broker,
    the progress page's polling and the in-process sweep run it)."""
    from app import worker

    if not worker.enabled():
        return None
    return advance_job.delay(job_id).id

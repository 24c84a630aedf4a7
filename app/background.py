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
# A sweep queues the due timers in batches: one task per TIMER_BATCH instances (each fired in its
# own transaction), up to SWEEP_LIMIT per sweep; 10,000 due at once are 400 tasks for the workers.
TIMER_BATCH = 25
SWEEP_LIMIT = 50_000


@shared_task(name="background.sweep")
def sweep() -> dict[str, object]:
    """Beat: queue the due timers (in batches) and unfinished jobs, deliver the outbox, send reminders."""
    clock_service.sync()
    due = timers.due_instance_ids(SWEEP_LIMIT)
    fired = [fire_timers.delay(due[i:i + TIMER_BATCH]).id for i in range(0, len(due), TIMER_BATCH)]
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


@shared_task(name="background.fire_timers")
def fire_timers(instance_ids: list[int]) -> int:
    """Fire a batch of due timers, each instance in its own transaction; returns how many fired
    (an instance another worker fired first, or no longer due, is skipped)."""
    clock_service.sync()
    return sum(1 for instance_id in instance_ids if timers.fire_one(instance_id))


@shared_task(name="background.advance_job")
def advance_job(job_id: int) -> dict:
    """One batch of a bulk job; queues the next batch (its task id in "next") until the job is finished."""
    clock_service.sync()
    job = jobs.advance(job_id, JOB_BATCH)
    following = None if jobs.finished(job) else advance_job.delay(job_id).id
    return {**jobs.progress(job), "next": following}


@shared_task(name="background.dispatch_outbox")
def dispatch_outbox() -> int:
    """Deliver the pending messages (a use case's, handed over after its commit); returns how many.
    Two at once deliver each message once: a row is taken under its lock and marked delivered."""
    clock_service.sync()
    return outbox.dispatch()


def start_job(job_id: int) -> str | None:
    """After the job's row is committed: hand it to a worker; returns the task id (None: no broker,
    the progress page's polling and the in-process sweep run it)."""
    from app import worker

    if not worker.enabled():
        return None
    return advance_job.delay(job_id).id

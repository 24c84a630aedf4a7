"""E-mail through the configured SMTP server, by an outbox.

``queue`` writes an ``EmailMessage`` row in the caller's transaction (so a reminder and its
e-mail are committed together or not at all); ``send_pending`` sends the pending rows later,
outside any request, over one SMTP connection per batch. A failed attempt is retried on the next
run; after ``MAX_ATTEMPTS`` the row is given up (status failed). Without ``SMTP_HOST`` nothing is
queued and nothing is sent.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage as MimeMessage
from email.utils import formatdate, make_msgid

from flask import current_app
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import EmailMessage, Notification, User

MAX_ATTEMPTS = 5


def enabled() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def task_link(task_id: int) -> str:
    return f"{str(current_app.config['BASE_URL']).rstrip('/')}/tasks/{task_id}"


def queue(user: User, subject: str, body: str, notification: Notification | None = None) -> EmailMessage | None:
    """Write the e-mail for an active user with an address, in the caller's transaction."""
    if not enabled() or not user.active or not user.email:
        return None
    if notification is not None and notification.id is None:
        db.session.flush()
    row = EmailMessage(created_at=clock.now(), to_address=user.email, user_id=user.id,
                       notification_id=notification.id if notification is not None else None,
                       subject=subject, body=body, status="pending", attempts=0)
    db.session.add(row)
    return row


def _compose(row: EmailMessage, sender: str) -> MimeMessage:
    # The default policy encodes the Chinese subject (RFC 2047) and body (UTF-8) itself.
    message = MimeMessage()
    message["Subject"] = row.subject
    message["From"] = sender
    message["To"] = row.to_address
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=f"email-{row.id}")
    message.set_content(row.body, charset="utf-8")
    return message


def _connect(config: dict) -> smtplib.SMTP:
    host, port, timeout = config["SMTP_HOST"], int(config["SMTP_PORT"]), float(config["SMTP_TIMEOUT"])
    security = str(config.get("SMTP_SECURITY") or "none").lower()
    if security == "ssl":
        conn: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        conn = smtplib.SMTP(host, port, timeout=timeout)
        if security == "starttls":
            conn.starttls(context=ssl.create_default_context())
    if config.get("SMTP_USERNAME"):
        conn.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
    return conn


def _failed(row: EmailMessage, exc: BaseException) -> None:
    row.attempts = (row.attempts or 0) + 1
    row.error = f"{type(exc).__name__}: {exc}"[:2000]
    if row.attempts >= MAX_ATTEMPTS:
        row.status = "failed"


def _send_batch(conn: smtplib.SMTP, rows: list[EmailMessage], sender: str) -> int:
    sent = 0
    for index, row in enumerate(rows):
        try:
            conn.send_message(_compose(row, sender))
        except smtplib.SMTPServerDisconnected as exc:
            for rest in rows[index:]:  # the connection is gone: the rest wait for the next run
                _failed(rest, exc)
            break
        except (smtplib.SMTPException, OSError) as exc:
            _failed(row, exc)  # e.g. one recipient refused; the others still go out
            continue
        row.status, row.sent_at, row.error = "sent", clock.now(), None
        row.attempts = (row.attempts or 0) + 1
        sent += 1
    return sent


def send_pending(limit: int = 50) -> int:
    """Send up to ``limit`` pending e-mails over one connection. Returns how many were sent.

    The rows are locked for the batch (skipped by a concurrent run on PostgreSQL) and committed
    once at the end; a crash in between may send a message twice, never lose it.
    """
    config = current_app.config
    if not enabled():
        return 0
    rows = list(db.session.scalars(
        select(EmailMessage).where(EmailMessage.status == "pending").order_by(EmailMessage.id)
        .limit(limit).with_for_update(skip_locked=True)))
    if not rows:
        db.session.rollback()
        return 0
    try:
        conn = _connect(config)
    except (smtplib.SMTPException, OSError) as exc:
        for row in rows:
            _failed(row, exc)
        db.session.commit()
        current_app.logger.warning("SMTP 服务器 %s:%s 不可用：%s", config["SMTP_HOST"], config["SMTP_PORT"], exc)
        return 0
    try:
        sent = _send_batch(conn, rows, str(config["MAIL_FROM"]))
    finally:
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()
    db.session.commit()
    return sent

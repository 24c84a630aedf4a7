"""Authentication: passwords, throttled logins, bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app import clock
from app.extensions import db
from app.models import ApiToken, LoginAttempt, User
from app.services.errors import NotAuthenticated, Throttled


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def authenticate(username: str, password: str, remote_addr: str | None = None) -> User:
    """Check a password; too many recent failures for the username refuse further tries."""
    username = (username or "").strip()[:80]
    window = clock.wall_now() - timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])
    failures = db.session.scalar(
        select(func.count(LoginAttempt.id)).where(
            LoginAttempt.username == username, LoginAttempt.at >= window, LoginAttempt.success.is_(False)
        )
    )
    if failures >= current_app.config["LOGIN_MAX_FAILURES"]:
        raise Throttled(f"登录失败次数过多，请 {current_app.config['LOGIN_WINDOW_MINUTES']} 分钟后再试")
    user = db.session.scalar(select(User).where(User.username == username))
    ok = user is not None and user.active and check_password_hash(user.password_hash, password or "")
    db.session.add(LoginAttempt(username=username, remote_addr=remote_addr, at=clock.wall_now(), success=ok))
    db.session.commit()
    if not ok:
        raise NotAuthenticated("用户名或密码错误")
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> tuple[str, ApiToken]:
    token = secrets.token_urlsafe(32)
    now = clock.wall_now()
    row = ApiToken(
        token_hash=_digest(token),
        user_id=user.id,
        created_at=now,
        expires_at=now + timedelta(hours=current_app.config["TOKEN_HOURS"]),
    )
    db.session.add(row)
    db.session.commit()
    return token, row


def user_for_token(token: str) -> User | None:
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or row.expires_at <= clock.wall_now() or not row.user.active:
        return None
    return row.user


def user_for_session(session_id: str) -> User | None:
    try:
        user_id, generation = (int(p) for p in session_id.split(":"))
    except ValueError:
        return None
    user = db.session.get(User, user_id)
    if user is None or user.session_generation != generation:
        return None
    return user

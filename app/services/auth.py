"""Authentication: passwords, throttled logins, bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app import clock
from app.extensions import db
from app.models import ApiToken, LoginAttempt, User
from app.services.errors import FormInvalid, NotAuthenticated, Throttled

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128
# Passwords of the leaked-password lists that fit the length rule; a real attacker tries these first.
_COMMON = frozenset({
    "1234567890", "12345678910", "0123456789", "1q2w3e4r5t", "qwertyuiop", "1qaz2wsx3edc", "password123",
    "password1234", "passw0rd123", "admin12345", "administrator", "abc1234567", "a123456789", "woaini1314",
    "iloveyou123", "qwerty12345", "aa123456789", "zxcvbnm123", "1234qwer!@#$", "p@ssw0rd123", "lishui123456",
})


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def password_problems(password: str, username: str = "") -> list[str]:
    """Why a new password is refused (empty when it is acceptable)."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"密码至少 {MIN_PASSWORD_LENGTH} 位")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"密码不能超过 {MAX_PASSWORD_LENGTH} 位")
    kinds = sum((any(c.islower() for c in password), any(c.isupper() for c in password),
                 any(c.isdigit() for c in password), any(not c.isalnum() for c in password)))
    if kinds < 3:
        problems.append("密码须包含小写字母、大写字母、数字、符号中的至少三类")
    if username and len(username) >= 3 and username.lower() in password.lower():
        problems.append("密码不能包含用户名")
    if password.lower() in _COMMON or len(set(password)) <= 3 or _repeated(password):
        problems.append("密码过于常见或简单")
    return problems


def _repeated(password: str) -> bool:
    """A short piece said again and again ("Aa1!Aa1!Aa1!")."""
    size = len(password)
    return any(size % k == 0 and password == password[:k] * (size // k) for k in range(1, min(size // 2, 5) + 1))


def set_password(user: User, password: str, *, actor: User | None = None) -> None:
    """A new password: checked against the policy, hashed with scrypt; the user's other sessions
    and API tokens stop working. The caller commits."""
    from app.services import audit

    problems = password_problems(password, user.username)
    if problems:
        raise FormInvalid("新密码不符合要求", {"new_password": problems})
    user.password_hash = hash_password(password)
    user.session_generation += 1
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    audit.record("password_changed", actor=actor or user, details={"user": user.username})


def change_password(user: User, current: str, new: str, confirm: str) -> None:
    """A user changes their own password; the current one must be given."""
    if not check_password_hash(user.password_hash, current or ""):
        raise FormInvalid("当前密码不正确", {"current_password": ["当前密码不正确"]})
    if new != confirm:
        raise FormInvalid("两次输入的新密码不一致", {"confirm_password": ["两次输入的新密码不一致"]})
    if new == current:
        raise FormInvalid("新密码不能与当前密码相同", {"new_password": ["新密码不能与当前密码相同"]})
    set_password(user, new)


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

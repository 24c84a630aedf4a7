from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime
from app.models.org import Organisation


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(256))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Where deadline reminders are e-mailed when an SMTP server is configured (none: in-app only).
    email: Mapped[str | None] = mapped_column(String(200))
    # Bumped on password change or logout-everywhere; part of the session id.
    session_generation: Mapped[int] = mapped_column(default=0)

    org: Mapped[Organisation] = relationship()
    roles: Mapped[list[UserRole]] = relationship(back_populates="user", cascade="all, delete-orphan")

    def get_id(self) -> str:
        return f"{self.id}:{self.session_generation}"

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def role_names(self) -> set[str]:
        return {r.role for r in self.roles}

    def has_role(self, *names: str) -> bool:
        return bool(self.role_names() & set(names))


class UserRole(db.Model):
    """A role held in an organisation (a user may hold several)."""

    __tablename__ = "user_role"
    __table_args__ = (UniqueConstraint("user_id", "role", "org_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))

    user: Mapped[User] = relationship(back_populates="roles")
    org: Mapped[Organisation] = relationship()


class ApiToken(db.Model):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class LoginAttempt(db.Model):
    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    success: Mapped[bool] = mapped_column(Boolean)
